"""BitcoinAverage v2 REST routes (spec §1-§4): thin — parse, ask the view, render.

Query strings are parsed here from the raw bytes (spec §1): values arrive unencoded, empty values
mean absent, comma lists are raw and a leading `&` is fine. Fixed routes are registered before
parameter routes, and a catch-all per BitcoinAverage prefix answers
unknown routes with the API's 404 body (no global 404 handler: the MtGox API answers differently).

Choices where the spec is silent:
- Symbols, crypto and fiat codes are case-insensitive; a code that is not 2-6 letters (a symbol
  not 5-12) is a 400, a well-formed unknown symbol or exchange a 404, an unknown code in a filter a
  400. Exchange names are case-insensitive.
- `exchanges/all` lists the included exchanges (ignored and inactive ones have their own lists;
  `exchanges/{name}` shows any of them). `indices/{market}/ticker/changes/all` takes the same
  `crypto`/`fiat` filters as `ticker/all`.
- Custom indices are for local symbols; `exchanges` is required; include may name any exchange
  (ignored ones too) and uses no outlier filter; exclude is the index computed as usual (outlier
  rule included) from the index's exchanges without the named ones.
  When no exchange is left trading the symbol: 404.
- `convert`: `amount` is a decimal in [0, 1e12]; the result is in the `to` currency, rounded like
  prices (fiat) or to 8 decimals (crypto); fiat->fiat and crypto->crypto are 400.
- `since`/`at` accept decimal seconds (the fraction is dropped); negative or beyond year 9999: 400.
"""

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.convertors import StringConvertor, register_url_convertor
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from emulator.apis.bitcoinaverage import history, rendering
from emulator.apis.bitcoinaverage.auth import ApiError, Caller, admit, authenticate, credentials
from emulator.apis.bitcoinaverage.catalog import Catalog
from emulator.apis.bitcoinaverage.market import Ticker, View
from emulator.apis.bitcoinaverage.models import AverageModel, get_model
from emulator.apis.bitcoinaverage.prices import AMOUNT, PRICE
from emulator.apis.bitcoinaverage.query import parse_query
from emulator.apis.bitcoinaverage.surface import HOT_TICKER, PREFIXES, error
from emulator.apis.bitcoinaverage.websocket import register as register_websockets
from emulator.edge.tenancy import world_of
from emulator.market.clock import MICROS
from emulator.market.world import World
from emulator.responses import JSON, Rendered

router = APIRouter()  # plain routes (see `get`) and the websockets
Endpoint = Callable[..., Response]  # (request, **path parameters) -> answer

MARKETS = ("local", "global")
SYMBOL = re.compile(r"[A-Za-z]{5,12}")
CODE = re.compile(r"[A-Za-z]{2,6}")
EXCHANGE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
HASH = re.compile(r"[0-9a-fA-F]{64}")
NUMBER = re.compile(r"[0-9]{1,20}(\.[0-9]{0,20})?")
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31 23:59:59
MAX_AMOUNT = Decimal(10) ** 12


class Context:
    def __init__(self, request: Request, world: World, model: AverageModel, params: dict[str, str]) -> None:
        self.request = request
        self.world = world
        self.model = model
        self.params = params
        self.caller: Caller | None = None
        self._view: View | None = None

    @property
    def catalog(self) -> Catalog:
        return self.model.catalog_for(self.world)

    @property
    def view(self) -> View:
        if self._view is None:
            self._view = self.model.view(self.world)
        return self._view

    @property
    def now(self) -> int:
        return self.world.now // MICROS


def serve(
    request: Request, endpoint: str | Callable[[dict[str, str]], str], body: Callable[[Context], Any]
) -> Response:
    """Authenticate, admit (rate limit, plan), then run the route's body; ApiError -> the API's error."""
    try:
        world = world_of(request)
        model = get_model(world)
        scope = request.scope
        query = scope.get("query_string", b"")
        ctx = Context(request, world, model, parse_query(query) if query else {})
        peer = scope.get("client")
        ctx.caller = authenticate(*credentials(scope["headers"]), peer[0] if peer else "unknown", world, model)
        admit(ctx.caller, endpoint if isinstance(endpoint, str) else endpoint(ctx.params), world, model)
        result = body(ctx)
    except ApiError as exc:
        return error(exc.status, exc.message, exc.headers)
    return result if isinstance(result, Response) else JSON(result)


# -- parsing ---------------------------------------------------------------------------------


def market_of(market: str) -> str:
    if market not in MARKETS:
        raise ApiError(400, f"Unknown market '{market[:32]}': use local or global")
    return market


def symbol_of(ctx: Context, market: str, symbol: str) -> str:
    if not SYMBOL.fullmatch(symbol):
        raise ApiError(400, f"Invalid symbol '{symbol[:32]}': expected <CRYPTO><FIAT>, e.g. BTCUSD")
    symbol = symbol.upper()
    if symbol not in ctx.catalog.symbols(market):
        raise ApiError(404, f"Symbol {symbol} not found in the {market} market")
    return symbol


def codes(ctx: Context, name: str, known: dict[str, Any]) -> list[str] | None:
    value = ctx.params.get(name)
    if value is None:
        return None
    out = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        if not CODE.fullmatch(item) or item.upper() not in known:
            raise ApiError(400, f"Invalid {name} '{item[:32]}'")
        out.append(item.upper())
    return out or None


def filtered(ctx: Context, symbols: tuple[str, ...]) -> list[str]:
    cryptos = codes(ctx, "crypto", ctx.catalog.cryptos)
    fiats = codes(ctx, "fiat", ctx.catalog.fiats)
    return [s for s in symbols if (cryptos is None or s[:-3] in cryptos) and (fiats is None or s[-3:] in fiats)]


def timestamp(ctx: Context, name: str) -> int | None:
    value = ctx.params.get(name)
    if value is None:
        return None
    if not NUMBER.fullmatch(value):
        raise ApiError(400, f"Invalid {name} '{value[:32]}': expected unix seconds")
    seconds = int(value.split(".")[0])
    if seconds > MAX_TIMESTAMP:
        raise ApiError(400, f"Invalid {name}: beyond year 9999")
    return seconds


def choice(ctx: Context, name: str, allowed: tuple[str, ...]) -> str | None:
    value = ctx.params.get(name)
    if value is None:
        return None
    if value.lower() not in allowed:
        raise ApiError(400, f"Invalid {name} '{value[:32]}': one of {', '.join(allowed)}")
    return value.lower()


def exchange_names(ctx: Context, value: str) -> list[str]:
    names = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        if not EXCHANGE.fullmatch(item):
            raise ApiError(400, f"Invalid exchange name '{item[:32]}'")
        if item.lower() not in ctx.catalog.exchanges:
            raise ApiError(404, f"Exchange {item} not found")
        names.append(item.lower())
    return names


# -- documentation helpers -------------------------------------------------------------------


def query_doc(*names: tuple[str, str], required: tuple[str, ...] = (), **values: tuple[str, ...]) -> dict[str, Any]:
    """Query parameters as OpenAPI: all strings, those in `required` required, and for a parameter
    named in `values` its enum (the choices the route takes), so /docs offers them."""
    return {
        "parameters": [
            {
                "name": n,
                "in": "query",
                "required": n in required,
                "schema": {"type": "string", "enum": list(values[n])} if n in values else {"type": "string"},
                "description": d,
            }
            for n, d in names
        ]
    }


OPERATIONS: dict[str, dict[str, Any]] = {}  # path -> the OpenAPI operation of its GET
PATH_PARAMETER = re.compile(r"{(\w+)}")


def get(path: str, summary: str, openapi_extra: dict[str, Any] | None = None) -> Callable[[Endpoint], Endpoint]:
    """Register a GET route (the API's paths have no trailing slash; with one they are unknown: 404).

    A plain Starlette route that calls `fn(request, **path_params)` on the event loop, documented by
    `openapi_paths()`: the parameters are all strings, so FastAPI's analysis of each signature (the
    larger part of this API's start-up time) would add nothing."""

    def register(fn: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return fn(request, **request.path_params)

        router.add_route(path, endpoint, methods=["GET"], include_in_schema=False, name=fn.__name__)
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in PATH_PARAMETER.findall(path)
        ]
        OPERATIONS[path] = {
            "tags": ["bitcoinaverage"],
            "summary": summary,
            "operationId": re.sub(r"\W", "_", f"{fn.__name__}{path}_get"),
            "parameters": parameters + (openapi_extra or {}).get("parameters", []),
            "responses": {"200": {"description": "The answer", "content": {"application/json": {"schema": {}}}}},
        }
        return fn

    return register


def openapi_paths() -> dict[str, Any]:
    return {path: {"get": operation} for path, operation in OPERATIONS.items()}


CRYPTO_FIAT = query_doc(("crypto", "a crypto code (or a comma list)"), ("fiat", "a comma list of fiat codes"))


# -- constants -------------------------------------------------------------------------------


@get("/constants/symbols", "Symbols of both markets")
def constants_symbols(request: Request) -> Response:
    def body(ctx: Context) -> Any:
        return {m: {"symbols": list(ctx.catalog.symbols(m))} for m in MARKETS} | {"success": True}

    return serve(request, "constants", body)


@get("/constants/symbols/{market}", "Symbols of one market")
def constants_market_symbols(request: Request, market: str) -> Response:
    return serve(
        request, "constants", lambda ctx: {"symbols": list(ctx.catalog.symbols(market_of(market))), "success": True}
    )


@get("/constants/exchangerates/{market}", "Fiat exchange rates per US dollar")
def constants_rates(request: Request, market: str) -> Response:
    def body(ctx: Context) -> Any:
        fiats = ctx.catalog.local_fiats if market_of(market) == "local" else tuple(ctx.catalog.fiats)
        prices = ctx.model.prices(ctx.world)
        rates = {f: {"name": ctx.catalog.fiats[f].name, "rate": rendering.rate(prices.rate(f, ctx.now))} for f in fiats}
        return {"time": rendering.dmy_time(ctx.now), "rates": rates}

    return serve(request, "constants", body)


@get("/constants/time", "Server time")
def constants_time(request: Request) -> Response:
    return serve(request, "constants", lambda ctx: {"epoch": ctx.now, "iso": rendering.iso_time(ctx.now)})


# -- indices ---------------------------------------------------------------------------------


def ticker_endpoint(market: str) -> str:
    return "global_ticker" if market == "global" else "local_ticker"


def custom(request: Request, symbol: str, mode: str) -> Response:
    def body(ctx: Context) -> Any:
        sym = symbol_of(ctx, "local", symbol)
        value = ctx.params.get("exchanges")
        if value is None:
            raise ApiError(400, "The exchanges parameter is required, e.g. ?exchanges=bitstamp,kraken")
        names = set(exchange_names(ctx, value))
        if not names:
            raise ApiError(400, "The exchanges parameter is required, e.g. ?exchanges=bitstamp,kraken")
        quote = ctx.view.custom(sym, names if mode == "include" else None, names if mode == "exclude" else None)
        if quote is None:
            raise ApiError(404, f"No exchange left trading {sym}")
        return {
            "bid": {"price": rendering.price(quote.bid)},
            "ask": {"price": rendering.price(quote.ask)},
            "last": {"price": rendering.price(quote.last)},
            "timestamp": ctx.now,
        }

    return serve(request, "custom_index", body)


EXCHANGES_DOC = query_doc(("exchanges", "comma list of exchange names, e.g. bitstamp,kraken"), required=("exchanges",))


@get(
    "/indices/ticker/custom/include/{symbol}", "Custom index from only the named exchanges", openapi_extra=EXCHANGES_DOC
)
def custom_include(request: Request, symbol: str) -> Response:
    return custom(request, symbol, "include")


@get("/indices/ticker/custom/exclude/{symbol}", "Custom index without the named exchanges", openapi_extra=EXCHANGES_DOC)
def custom_exclude(request: Request, symbol: str) -> Response:
    return custom(request, symbol, "exclude")


@get("/indices/{market}/ticker/all", "Tickers of every symbol", openapi_extra=CRYPTO_FIAT)
def ticker_all(request: Request, market: str) -> Response:
    return every_symbol(request, market, rendering.ticker)


def every_symbol(request: Request, market: str, render: Callable[[Ticker], Any]) -> Response:
    """One rendering of the ticker of every symbol the query keeps, keyed by symbol."""

    def body(ctx: Context) -> Any:
        m = market_of(market)
        out = {}
        for s in filtered(ctx, ctx.catalog.symbols(m)):
            t = ctx.view.ticker(m, s)
            if t is not None:
                out[s] = render(t)
        return out

    return serve(request, ticker_endpoint(market), body)


@get("/indices/{market}/ticker/short", "Last price and daily average of every symbol", openapi_extra=CRYPTO_FIAT)
def ticker_short(request: Request, market: str) -> Response:
    return every_symbol(request, market, rendering.short)


@get("/indices/{market}/ticker/changes/all", "Price changes of every symbol", openapi_extra=CRYPTO_FIAT)
def changes_all(request: Request, market: str) -> Response:
    return every_symbol(request, market, lambda t: {"last": rendering.price(t.last), "changes": rendering.changes(t)})


@get("/indices/{market}/ticker/{symbol}/changes", "Price changes of one symbol")
def ticker_changes(request: Request, market: str, symbol: str) -> Response:
    return one_symbol(
        request,
        market,
        symbol,
        lambda t, ctx: {
            "last": rendering.price(t.last),
            "changes": rendering.changes(t),
            "success": True,
            "time": ctx.now,
        },
    )


def one_symbol(
    request: Request, market: str, symbol: str, render: Callable[[Ticker, Context], Any], memo: str | None = None
) -> Response:
    """One rendering of one symbol's ticker (404 when the market has no such symbol). With `memo`
    (for renderings of the ticker alone) the bytes are made once per view: world state and second."""

    def body(ctx: Context) -> Any:
        key = (memo or "", market, symbol)  # as asked: a hit was checked when it was made
        content = ctx.view.memo.get(key) if memo else None
        if isinstance(content, bytes):
            return Rendered(content)
        m = market_of(market)
        s = symbol_of(ctx, m, symbol)
        t = ctx.view.ticker(m, s)
        if t is None:
            raise ApiError(404, "Symbol not found")
        if memo is None:
            return render(t, ctx)
        content = ctx.view.memo[key] = orjson.dumps(render(t, ctx))
        return Rendered(content)

    return serve(request, ticker_endpoint(market), body)


@get("/indices/{market}/ticker/{symbol}", "Ticker of one symbol")
def ticker_one(request: Request, market: str, symbol: str) -> Response:
    return one_symbol(request, market, symbol, lambda t, ctx: rendering.ticker(t), memo="ticker")


HISTORY_DOC = query_doc(
    ("period", "daily (a point a minute for 24 h), monthly (an hour for 30 days) or alltime (a day; default)"),
    ("format", "json (default) or csv"),
    ("since", "unix seconds: the points after it, resolution by age unless `resolution` is given"),
    ("at", "unix seconds: the point closest to it"),
    ("resolution", "minute, hour or day (with since or at)"),
    period=("daily", "monthly", "alltime"),
    format=("json", "csv"),
    resolution=("minute", "hour", "day"),
)


def history_endpoint(market: str) -> Callable[[dict[str, str]], str]:
    def endpoint(params: dict[str, str]) -> str:
        daily = (params.get("period") or "").lower() == "daily" and "since" not in params and "at" not in params
        return "local_history_daily" if market == "local" and daily else "history"

    return endpoint


def csv_response(rows: list[dict[str, Any]], fields: list[str]) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv")


@get("/indices/{market}/history/{symbol}", "History of an index", openapi_extra=HISTORY_DOC)
def history_route(request: Request, market: str, symbol: str) -> Response:
    def body(ctx: Context) -> Any:
        m = market_of(market)
        sym = symbol_of(ctx, m, symbol)
        period = choice(ctx, "period", ("daily", "monthly", "alltime")) or "alltime"
        fmt = choice(ctx, "format", ("json", "csv")) or "json"
        resolution = choice(ctx, "resolution", ("minute", "hour", "day"))
        since, at = timestamp(ctx, "since"), timestamp(ctx, "at")
        view = ctx.view
        rows: list[dict[str, Any]]
        if since is not None:
            try:
                points = history.since_points(view, m, sym, since, resolution)
            except ValueError as exc:
                raise ApiError(400, str(exc)) from exc
            rows = [
                {"ts": float(p.time), "average": rendering.price(p.average), "time": rendering.display_time(p.time)}
                for p in points
            ]
            fields = ["ts", "average", "time"]
        elif at is not None:
            found = history.point_at(view, m, sym, at, resolution)
            if found is None:
                raise ApiError(404, f"No history of {sym} at {at}")
            return {"average": rendering.price(found.average), "time": rendering.display_time(found.time)}
        else:
            key = ("period", m, sym, period)
            points = view.memo.get(key)  # type: ignore[assignment]
            if points is None:
                points = view.memo[key] = history.period_points(view, m, sym, period)
            if period == "alltime":
                fields = ["time", "average", "high", "low", "open", "volume"]
                rows = [
                    {
                        "time": rendering.display_time(p.time),
                        "average": rendering.price(p.average),
                        "high": rendering.price(p.high or 0),
                        "low": rendering.price(p.low or 0),
                        "open": rendering.price(p.open or 0),
                        "volume": rendering.amount(p.volume or 0),
                    }
                    for p in points
                ]
            else:
                fields = ["time", "average"]
                rows = [{"time": rendering.display_time(p.time), "average": rendering.price(p.average)} for p in points]
        return csv_response(rows, fields) if fmt == "csv" else rows

    return serve(request, history_endpoint(market), body)


# -- exchanges -------------------------------------------------------------------------------


def exchange_view(ctx: Context, name: str, symbols: list[str] | None = None) -> dict[str, Any] | None:
    return rendering.exchange_of(ctx.view, name, symbols)


def exchanges_all(request: Request) -> Response:
    def body(ctx: Context) -> Any:
        symbols: list[str] | None = None
        wanted = ctx.params.get("symbol")
        if wanted is not None:
            symbols = []
            for item in wanted.split(","):
                item = item.strip()
                if not item:
                    continue
                if not SYMBOL.fullmatch(item) or ctx.catalog.split(item.upper()) is None:
                    raise ApiError(400, f"Invalid symbol '{item[:32]}'")
                symbols.append(item.upper())
        if "crypto" in ctx.params or "fiat" in ctx.params:
            allowed = filtered(ctx, ctx.catalog.global_symbols)
            symbols = allowed if symbols is None else [s for s in symbols if s in allowed]
        out = []
        for e in ctx.catalog.exchanges.values():
            if e.included:
                shown = exchange_view(ctx, e.name, symbols)
                if shown is not None:
                    out.append(shown)
        return out

    return serve(request, "exchanges_all", body)


ALL_DOC = query_doc(
    ("crypto", "a crypto code (or a comma list)"),
    ("fiat", "a comma list of fiat codes"),
    ("symbol", "a comma list of symbols"),
)
get("/exchanges/all", "Every included exchange with its symbols", openapi_extra=ALL_DOC)(exchanges_all)
get("/exchanges/ticker/all", "Alias of exchanges/all", openapi_extra=ALL_DOC)(exchanges_all)


def listing(request: Request, kind: str) -> Response:
    def body(ctx: Context) -> Any:
        out = []
        for e in ctx.catalog.exchanges.values():
            if kind == "ignored" and e.ignored is not None:
                out.append(rendering.listed(e, ctx.now))
            elif kind == "inactive" and e.inactive:
                out.append(rendering.listed(e, e.inactive_from(ctx.model.prices(ctx.world).started)))
        return out

    return serve(request, "exchanges_summary", body)


@get("/exchanges/ignored", "Exchanges left out of the indices, with the reason")
def exchanges_ignored(request: Request) -> Response:
    return listing(request, "ignored")


def exchanges_inactive(request: Request) -> Response:
    return listing(request, "inactive")


get("/exchanges/inactive", "Exchanges that stopped updating")(exchanges_inactive)
get("/exchanges/incactive", "Alias of exchanges/inactive (the docs' spelling)")(exchanges_inactive)


@get("/exchanges/count", "How many exchanges are included, ignored and inactive")
def exchanges_count(request: Request) -> Response:
    def body(ctx: Context) -> Any:
        exchanges = ctx.catalog.exchanges.values()
        ignored = sum(1 for e in exchanges if e.ignored is not None)
        inactive = sum(1 for e in exchanges if e.ignored is None and e.inactive)
        count = len(ctx.catalog.exchanges)
        return {
            "included": count - ignored - inactive,
            "ignored": ignored,
            "inactive": inactive,
            "count": count,
            "success": True,
        }

    return serve(request, "exchanges_summary", body)


@get("/exchanges/outliers", "Exchanges far from the median of the others")
def exchanges_outliers(request: Request) -> Response:
    def body(ctx: Context) -> Any:
        return {
            field: {s: {n: rendering.price(v) for n, v in found.items()} for s, found in symbols.items()}
            for field, symbols in ctx.view.outliers().items()
        }

    return serve(request, "outliers", body)


def exchange_one(request: Request, name: str) -> Response:
    def body(ctx: Context) -> Any:
        if not EXCHANGE.fullmatch(name):
            raise ApiError(400, f"Invalid exchange name '{name[:32]}'")
        if name.lower() not in ctx.catalog.exchanges:
            raise ApiError(404, f"Exchange {name} not found")
        return exchange_view(ctx, name.lower())

    return serve(request, "exchange", body)


get("/exchanges/ticker/{name}", "Alias of exchanges/{name}")(exchange_one)
get("/exchanges/{name}", "One exchange with all its symbols")(exchange_one)


# -- weighting -------------------------------------------------------------------------------


@get("/weighting/exchanges", "Each exchange's percent of each symbol's volume")
def weighting_exchanges(request: Request) -> Response:
    def body(ctx: Context) -> Any:
        return {n: {s: round(v / 10_000, 2) for s, v in shares.items()} for n, shares in ctx.view.weights().items()}

    return serve(request, "weighting", body)


@get("/weighting/currencies", "Each symbol's share of its crypto's volume")
def weighting_currencies(request: Request) -> Response:
    def body(ctx: Context) -> Any:
        out = {}
        for crypto in ctx.catalog.cryptos:
            for s, share in ctx.view.shares(crypto).items():
                out[s] = {"market_share": round(share / 10_000, 2)}
        return out

    return serve(request, "weighting", body)


# -- convert ---------------------------------------------------------------------------------


CONVERT_DOC = query_doc(
    ("from", "the currency converted from, e.g. BTC"),
    ("to", "the currency converted to, e.g. USD (one side a crypto, the other a fiat)"),
    ("amount", "default 1"),
    required=("from", "to"),
)


@get("/convert/{market}", "Convert between a crypto and a fiat at the index", openapi_extra=CONVERT_DOC)
def convert(request: Request, market: str) -> Response:
    def body(ctx: Context) -> Any:
        m = market_of(market)
        sources = {}
        for name in ("from", "to"):
            value = ctx.params.get(name)
            if value is None:
                raise ApiError(400, f"The {name} parameter is required")
            if not CODE.fullmatch(value):
                raise ApiError(400, f"Invalid {name} currency '{value[:32]}'")
            code = value.upper()
            if code in ctx.catalog.cryptos:
                sources[name] = ("crypto", code)
            elif code in ctx.catalog.fiats:
                sources[name] = ("fiat", code)
            else:
                raise ApiError(400, f"Unknown {name} currency '{code}'")
        (kind_from, code_from), (kind_to, code_to) = sources["from"], sources["to"]
        if kind_from == kind_to:
            raise ApiError(400, f"Conversion from {code_from} to {code_to} is not supported: one side must be a fiat")
        raw = ctx.params.get("amount", "1")
        try:
            quantity = Decimal(raw)
        except InvalidOperation:
            raise ApiError(400, f"Invalid amount '{raw[:32]}'") from None
        if not quantity.is_finite() or quantity < 0 or quantity > MAX_AMOUNT:
            raise ApiError(400, f"Invalid amount '{raw[:32]}': a number from 0 to 1000000000000")
        symbol = (code_from + code_to) if kind_from == "crypto" else (code_to + code_from)
        last = ctx.view.last(m, symbol)
        if last is None:
            raise ApiError(404, f"Symbol {symbol} not found in the {m} market")
        if kind_from == "crypto":
            price: float = rendering.price(int(quantity * last))
        else:
            price = rendering.amount(int(quantity * PRICE * AMOUNT / last) if last else 0)
        return {"success": True, "time": rendering.dmy_time(ctx.now), "price": price}

    return serve(request, "global_convert" if market == "global" else "local_convert", body)


# -- blockchain ------------------------------------------------------------------------------


@get("/blockchain/tx_price/{symbol}/{tx_hash}", "Daily average of the day a transaction was made")
def tx_price(request: Request, symbol: str, tx_hash: str) -> Response:
    def body(ctx: Context) -> Any:
        if not SYMBOL.fullmatch(symbol):
            raise ApiError(400, f"Invalid symbol '{symbol[:32]}'")
        sym = symbol.upper()
        if not sym.startswith("BTC"):
            raise ApiError(400, "Only BTC symbols are supported")
        if sym not in ctx.catalog.global_symbols:
            raise ApiError(404, f"Symbol {sym} not found")
        if not HASH.fullmatch(tx_hash):
            raise ApiError(400, "Invalid transaction hash: expected 64 hexadecimal digits")
        when = ctx.model.transaction_time(ctx.world, tx_hash)
        if when is None:
            raise ApiError(404, "Transaction not found")
        m = "local" if sym in ctx.catalog.local_symbols else "global"
        point = history.daily_average(ctx.view, m, sym, when)
        return {"time": rendering.display_time(point.time), "average": rendering.price(point.average)}

    return serve(request, "blockchain", body)


# -- websocket tickets -----------------------------------------------------------------------


def ticket(request: Request, family: str) -> Response:
    def body(ctx: Context) -> Any:
        caller = ctx.caller
        assert caller is not None
        if caller.public_key is None:
            raise ApiError(401, "An API key is required")
        if ctx.model.client_limit_reached(caller.public_key, caller.plan):
            return PlainTextResponse(f"Client limit reached for api key {caller.public_key}", status_code=429)
        return {"ticket": ctx.model.issue_ticket(caller.public_key, family, ctx.world.now)}

    return serve(request, "websocket_v2" if family == "v2" else "websocket_ticket", body)


@get("/websocket/get_ticket", "A single-use ticket for the websocket channels")
def get_ticket(request: Request) -> Response:
    return ticket(request, "v1")


@get("/websocket/v2/get_ticket", "A single-use ticket for the v2 websocket channels")
def get_ticket_v2(request: Request) -> Response:
    return ticket(request, "v2")


register_websockets(router, PREFIXES)  # the channels of spec §5 (websocket.py), unknown ones: 404


# -- unknown routes --------------------------------------------------------------------------


async def not_found(request: Request) -> JSON:
    """Unknown here; but a known path asked with another method is 405 with the methods it takes."""
    allowed = sorted(
        {
            method
            for route in router.routes
            if isinstance(route, Route) and route.endpoint is not not_found and route.path_regex.match(request.url.path)
            for method in route.methods or ()
        }
    )
    if allowed:
        return error(405, "Method not allowed", headers={"Allow": ", ".join(allowed)})
    return error(404, "Not found")


for _prefix in PREFIXES:
    for _path in (f"/{_prefix}", f"/{_prefix}/{{rest:path}}"):
        router.add_route(_path, not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)


class _Market(StringConvertor):
    regex = "local|global"


class _Symbol(StringConvertor):
    regex = "[A-Z]{4,12}"  # upper case: `ticker/all`, `ticker/short` and `ticker/changes` never match


register_url_convertor("ba_market", _Market())
register_url_convertor("ba_symbol", _Symbol())


async def _hot_ticker(request: Request) -> Response:
    response: Response = ticker_one(request, request.path_params["market"], request.path_params["symbol"])
    return response


def hot_routes() -> list[Route]:
    """The most polled read, for the fast lane (emulator.edge.fastlane): upper-case symbols only; the route
    above serves every other spelling and every request the fast lane passes on."""
    return [Route(HOT_TICKER, _hot_ticker, methods=["GET"])]

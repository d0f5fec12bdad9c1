"""BitcoinAverage v2 REST routes (spec §1-§4): thin — parse (params.py), ask the view, render
(rendering.py), each through the pipeline of endpoint.py (auth, rate limit, plan, the API's errors).

Fixed routes are registered before parameter routes, then the websockets (websocket.py), then a
catch-all per BitcoinAverage prefix that answers unknown routes with the API's 404 (unknown.py).

Choices where the spec is silent:
- `exchanges/all` lists the included exchanges (ignored and inactive ones have their own lists;
  `exchanges/{name}` shows any of them). `indices/{market}/ticker/changes/all` takes the same
  `crypto`/`fiat` filters as `ticker/all`.
- Custom indices are for local symbols; `exchanges` is required; include may name any exchange
  (ignored ones too) and uses no outlier filter; exclude is the index computed as usual (outlier
  rule included) from the index's exchanges without the named ones.
  When no exchange is left trading the symbol: 404.
- `convert`: `amount` is a decimal in [0, 1e12]; the result is in the `to` currency, rounded like
  prices (fiat) or to 8 decimals (crypto); fiat->fiat and crypto->crypto are 400.
"""

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from emulator.apis.bitcoinaverage import history, openapi, rendering
from emulator.apis.bitcoinaverage.auth import ApiError
from emulator.apis.bitcoinaverage.endpoint import Context, serve
from emulator.apis.bitcoinaverage.openapi import Documented
from emulator.apis.bitcoinaverage.params import (
    MARKETS,
    amount,
    btc_symbol,
    choice,
    currency,
    exchange_name,
    exchange_names,
    filtered,
    market_of,
    symbol_list,
    symbol_of,
    timestamp,
    transaction_hash,
)
from emulator.apis.bitcoinaverage.prices import AMOUNT, PRICE
from emulator.apis.bitcoinaverage.records import Ticker
from emulator.apis.bitcoinaverage.surface import HOT_TICKER, PREFIXES, SURFACE
from emulator.apis.bitcoinaverage.unknown import add_unknown_routes
from emulator.apis.bitcoinaverage.websocket import register as register_websockets
from emulator.openapi import Parameter
from emulator.responses import Rendered
from emulator.surfaces import describe

router = APIRouter()  # plain routes (see `get`) and the websockets
Endpoint = Callable[..., Response]  # (request, **path parameters) -> answer
PERIODS = ("daily", "monthly", "alltime")
FORMATS = ("json", "csv")
RESOLUTIONS = ("minute", "hour", "day")


ROUTES: dict[str, Documented] = {}  # path -> its GET, in the order the routes are registered


def get(path: str, summary: str, query: tuple[Parameter, ...] = ()) -> Callable[[Endpoint], Endpoint]:
    """Register a GET route (the API's paths have no trailing slash; with one they are unknown: 404).

    A plain Starlette route that calls `fn(request, **path_params)` on the event loop, documented from
    ROUTES: the parameters are all strings, so FastAPI's analysis of each signature (the larger part
    of this API's start-up time) would add nothing."""

    def register(fn: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return fn(request, **request.path_params)

        router.add_route(path, endpoint, methods=["GET"], include_in_schema=False, name=fn.__name__)
        ROUTES[path] = Documented(fn.__name__, summary, query)
        return fn

    return register


def comma_list(name: str, description: str, required: bool = False) -> Parameter:
    """A query parameter that takes several values joined by commas (openapi.py lists the values)."""
    return Parameter(name, "query", description, required=required, comma_list=True)


CRYPTO_FIAT = (
    comma_list("crypto", "a crypto code (or a comma list)"),
    comma_list("fiat", "a comma list of fiat codes"),
)


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
        sym = symbol_of(ctx.catalog, "local", symbol)
        value = ctx.params.get("exchanges")
        if value is None:
            raise ApiError(400, "The exchanges parameter is required, e.g. ?exchanges=bitstamp,kraken")
        names = set(exchange_names(ctx.catalog, value))
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


EXCHANGES = (comma_list("exchanges", "comma list of exchange names, e.g. bitstamp,kraken", required=True),)


@get("/indices/ticker/custom/include/{symbol}", "Custom index from only the named exchanges", query=EXCHANGES)
def custom_include(request: Request, symbol: str) -> Response:
    return custom(request, symbol, "include")


@get("/indices/ticker/custom/exclude/{symbol}", "Custom index without the named exchanges", query=EXCHANGES)
def custom_exclude(request: Request, symbol: str) -> Response:
    return custom(request, symbol, "exclude")


@get("/indices/{market}/ticker/all", "Tickers of every symbol", query=CRYPTO_FIAT)
def ticker_all(request: Request, market: str) -> Response:
    return every_symbol(request, market, rendering.ticker)


def every_symbol(request: Request, market: str, render: Callable[[Ticker], Any]) -> Response:
    """One rendering of the ticker of every symbol the query keeps, keyed by symbol."""

    def body(ctx: Context) -> Any:
        m = market_of(market)
        out = {}
        for s in filtered(ctx.params, ctx.catalog, ctx.catalog.symbols(m)):
            t = ctx.view.ticker(m, s)
            if t is not None:
                out[s] = render(t)
        return out

    return serve(request, ticker_endpoint(market), body)


@get("/indices/{market}/ticker/short", "Last price and daily average of every symbol", query=CRYPTO_FIAT)
def ticker_short(request: Request, market: str) -> Response:
    return every_symbol(request, market, rendering.short)


@get("/indices/{market}/ticker/changes/all", "Price changes of every symbol", query=CRYPTO_FIAT)
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
        s = symbol_of(ctx.catalog, m, symbol)
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


HISTORY = (
    Parameter(
        "period",
        "query",
        "daily (a point a minute for 24 h), monthly (an hour for 30 days) or alltime (a day; default)",
        choices=PERIODS,
    ),
    Parameter("format", "query", "json (default) or csv", choices=FORMATS),
    Parameter("since", "query", "unix seconds: the points after it, resolution by age unless `resolution` is given"),
    Parameter("at", "query", "unix seconds: the point closest to it"),
    Parameter("resolution", "query", "minute, hour or day (with since or at)", choices=RESOLUTIONS),
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


@get("/indices/{market}/history/{symbol}", "History of an index", query=HISTORY)
def history_route(request: Request, market: str, symbol: str) -> Response:
    def body(ctx: Context) -> Any:
        m = market_of(market)
        sym = symbol_of(ctx.catalog, m, symbol)
        period = choice(ctx.params, "period", PERIODS) or "alltime"
        fmt = choice(ctx.params, "format", FORMATS) or "json"
        resolution = choice(ctx.params, "resolution", RESOLUTIONS)
        since, at = timestamp(ctx.params, "since"), timestamp(ctx.params, "at")
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
            symbols = symbol_list(ctx.catalog, wanted)
        if "crypto" in ctx.params or "fiat" in ctx.params:
            allowed = filtered(ctx.params, ctx.catalog, ctx.catalog.global_symbols)
            symbols = allowed if symbols is None else [s for s in symbols if s in allowed]
        out = []
        for e in ctx.catalog.exchanges.values():
            if e.included:
                shown = exchange_view(ctx, e.name, symbols)
                if shown is not None:
                    out.append(shown)
        return out

    return serve(request, "exchanges_all", body)


ALL = (*CRYPTO_FIAT, comma_list("symbol", "a comma list of symbols"))
get("/exchanges/all", "Every included exchange with its symbols", query=ALL)(exchanges_all)
get("/exchanges/ticker/all", "Alias of exchanges/all", query=ALL)(exchanges_all)


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
        return exchange_view(ctx, exchange_name(ctx.catalog, name))

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


CONVERT = (
    Parameter("from", "query", "the currency converted from, e.g. BTC", required=True),
    Parameter(
        "to", "query", "the currency converted to, e.g. USD (one side a crypto, the other a fiat)", required=True
    ),
    Parameter("amount", "query", "default 1"),
)


@get("/convert/{market}", "Convert between a crypto and a fiat at the index", query=CONVERT)
def convert(request: Request, market: str) -> Response:
    def body(ctx: Context) -> Any:
        m = market_of(market)
        kind_from, code_from = currency(ctx.params, ctx.catalog, "from")
        kind_to, code_to = currency(ctx.params, ctx.catalog, "to")
        if kind_from == kind_to:
            raise ApiError(400, f"Conversion from {code_from} to {code_to} is not supported: one side must be a fiat")
        quantity = amount(ctx.params)
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
        sym = btc_symbol(ctx.catalog, symbol)
        when = ctx.model.transaction_time(ctx.world, transaction_hash(tx_hash))
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


add_unknown_routes(router, PREFIXES)  # last: after every route above


# The hot route takes upper-case symbols only, so `ticker/all`, `ticker/short` and `ticker/changes`
# never match it. That narrower match is this route's own pattern, not named convertors: Starlette
# keeps those in one table for the whole process (`register_url_convertor`), where they would leak
# into every other app and a second registration would replace the first.
HOT_TICKER_MATCH = re.compile(r"^/indices/(?P<market>local|global)/ticker/(?P<symbol>[A-Z]{4,12})$")


async def _hot_ticker(request: Request) -> Response:
    response: Response = ticker_one(request, request.path_params["market"], request.path_params["symbol"])
    return response


def hot_routes() -> list[Route]:
    """The most polled read, for the fast lane (emulator.edge.fastlane): upper-case symbols only; the route
    above serves every other spelling and every request the fast lane passes on."""
    route = Route(HOT_TICKER, _hot_ticker, methods=["GET"])
    route.path_regex = HOT_TICKER_MATCH  # what Route.matches reads; the parameters stay plain strings
    return [route]


describe(SURFACE, openapi.part(ROUTES))  # the API's part of /openapi.json, read from ROUTES above

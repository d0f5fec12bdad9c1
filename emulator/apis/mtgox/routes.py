"""The MtGox legacy HTTP API: every method under /code/ and /api/0/, GET and POST alike.

Spec notes (choices where ../shared/spec/mtgox.md is silent):
- getFunds and the `usds`/`btcs` of other answers report what the user owns, open orders included,
  as MtGox did; free funds are what withdraw and order funding check.
- Only currencies the world trades are accepted as `Currency` (USD); another is "Invalid currency.".
- cancelOrder needs the `type` to match the order's side, else it is an unknown oid (no change).
- getTrades' `since` must be a non-negative integer ("Invalid since."); withdrawals are BTC only.
- `login.php` answers {"status": "Logged in.", "user": name} and sets the `mtgox_session` cookie;
  bad credentials answer {"error": "Bad username or password."}.
- An unknown method under either prefix is HTTP 404 with {"error": "Unknown method."}.
"""

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.apis.mtgox import rendering
from emulator.apis.mtgox.auth import authenticate, check_password
from emulator.apis.mtgox.models import SESSION_COOKIE, MtGoxModel, mtgox_model
from emulator.apis.mtgox.params import BadRequest, read_params
from emulator.apis.mtgox.websocket import mtgox_socket
from emulator.engine import ASK, BID
from emulator.engine.ledger import InsufficientFunds
from emulator.engine.units import BTC_SCALE, parse_units, price_scale
from emulator.market.depth import visible_depth
from emulator.market.identities import is_valid_address, new_address
from emulator.market.trades import DAY
from emulator.market.world import World
from emulator.responses import JSON, Rendered
from emulator.tenancy import world_of

log = logging.getLogger(__name__)
router = APIRouter()  # one plain route per prefix (see `_dispatcher`) and the websocket
PREFIXES = ("/code/", "/api/0/")
MIN_AMOUNT = BTC_SCALE // 100  # 0.01 BTC
MAX_AMOUNT = 21_000_000 * BTC_SCALE
MAX_PRICE_UNITS = 10_000_000  # in whole currency units: a price above $10M is absurd
TRADES_PAGE = 100
WITHDRAW_MIN = BTC_SCALE // 1000  # 0.001 BTC
WITHDRAW_MAX = 50_000 * BTC_SCALE


@dataclass
class Call:
    request: Request
    world: World
    model: MtGoxModel
    params: dict[str, str]
    user: str = ""


@dataclass
class Method:
    handler: Callable[[Call], Any]
    summary: str
    auth: bool = False
    params: dict[str, str] = field(default_factory=dict)
    cached_by: tuple[str, ...] | None = None  # public answers: cached per these params, version and second


# -- parameters ------------------------------------------------------------------------------


def _currency(call: Call) -> str:
    currency = call.params.get("Currency", call.params.get("currency", "USD")).upper()
    if currency not in call.world.engine.books:
        raise BadRequest("Invalid currency.")
    return currency


def _units(text: str | None, scale: int, low: int, high: int, error: str) -> int:
    if text is None:
        raise BadRequest(error)
    try:
        units = parse_units(text, scale)
    except ValueError as exc:
        raise BadRequest(error) from exc
    if not low <= units <= high:
        raise BadRequest(error)
    return units


def _balances(call: Call) -> dict[str, int]:
    account = call.world.engine.ledger.accounts.get(call.user)
    return dict(account.balance) if account else {}


def _orders(call: Call) -> list[dict[str, Any]]:
    return [rendering.order(o, call.model.oid_of(o.oid)) for o in call.world.engine.open_orders(call.user)]


# -- public methods ---------------------------------------------------------------------------


def ticker(call: Call) -> Any:
    currency = _currency(call)
    world = call.world
    book = world.engine.books[currency]
    return {"ticker": rendering.ticker(world.trades.stats(world.now), book.best_bid(), book.best_ask(), currency)}


def get_depth(call: Call) -> Any:
    currency = _currency(call)
    asks, bids = visible_depth(call.world, currency)  # shared with BitcoinAverage's `mtgox` order book
    return rendering.depth(asks, bids, currency)


def get_trades(call: Call) -> Any:
    since = call.params.get("since")
    trades = call.world.trades
    if since is None:
        now = call.world.now
        chosen = trades.between(now - DAY, now)
    else:
        if not since.isdigit() or len(since) > 20:
            raise BadRequest("Invalid since.")
        chosen = trades.since(int(since), TRADES_PAGE)
    return [rendering.trade(t) for t in chosen]


# -- private methods --------------------------------------------------------------------------


def get_funds(call: Call) -> Any:
    return rendering.funds(_balances(call))


def _place(call: Call, side: int) -> Any:
    currency = _currency(call)
    amount = _units(call.params.get("amount"), BTC_SCALE, MIN_AMOUNT, MAX_AMOUNT, "Invalid Amount.")
    price_text = call.params.get("price")
    price = None
    if price_text is not None:
        scale = price_scale(currency)
        price = _units(price_text, scale, 1, MAX_PRICE_UNITS * scale, "Invalid Amount.")
    result = call.world.place(call.user, side, amount, price, currency)
    return {
        "status": "Your order has been queued for execution",
        "oid": call.model.oid_of(result.oid),
        "orders": _orders(call),
    }


def buy(call: Call) -> Any:
    return _place(call, BID)


def sell(call: Call) -> Any:
    return _place(call, ASK)


def get_orders(call: Call) -> Any:
    return {**rendering.funds(_balances(call)), "orders": _orders(call)}


def cancel_order(call: Call) -> Any:
    oid_text, kind = call.params.get("oid"), call.params.get("type")
    if oid_text is None or kind not in ("1", "2"):
        raise BadRequest("Invalid.")
    oid = call.model.find_order(call.user, oid_text)
    if oid is not None and call.world.engine.orders[oid].side == int(kind):
        call.world.cancel(call.user, oid)
    return {**rendering.funds(_balances(call)), "orders": _orders(call)}


def withdraw(call: Call) -> Any:
    if call.params.get("group1", "BTC").upper() != "BTC":
        raise BadRequest("Invalid.")
    address = call.params.get("btca")
    if address is None:
        raise BadRequest("Must enter in a Bitcoin Address.")
    if not is_valid_address(address):
        raise BadRequest(f"Invalid Bitcoin Address: '{address[:100]}'")
    amount = _units(call.params.get("amount"), BTC_SCALE, WITHDRAW_MIN, WITHDRAW_MAX, "Invalid.")
    try:
        call.world.withdraw(call.user, "BTC", amount)
    except InsufficientFunds as exc:
        raise BadRequest("You don't have this much BTC.") from exc
    return {**rendering.funds(_balances(call)), "status": "Your funds are on their way..."}


def btc_address(call: Call) -> Any:
    user = call.world.directory.user(call.user)
    assert user is not None
    address = new_address(call.world.rng)
    user.addresses.append(address)
    return {"addr": address}


def info(call: Call) -> Any:
    world = call.world
    user = world.directory.user(call.user)
    assert user is not None
    balances = _balances(call)
    return {
        "Login": user.name,
        "Index": str(list(world.directory.users).index(user.name.lower()) + 1),
        "Rights": ["get_info", "trade", "withdraw"],
        "Language": "en_US",
        "Wallets": {
            currency: {"Balance": rendering.wallet_entry(balances.get(currency, 0), currency)}
            for currency in ("BTC", *world.engine.books)
        },
        "Trade_Fee": user.fee_ppm / 10_000,
    }


def _history(currency: str) -> Callable[[Call], Any]:
    def history(call: Call) -> Any:
        changes = list(call.world.wallets.get(call.user, ()))
        return Response(rendering.history_csv(changes, currency), media_type="text/csv")

    return history


def login(call: Call) -> Any:
    user = check_password(call.world, call.params.get("name"), call.params.get("pass"))
    if user is None:
        raise BadRequest("Bad username or password.")
    response = JSON({"status": "Logged in.", "user": user})
    response.set_cookie(SESSION_COOKIE, call.model.login(user), httponly=True, samesite="lax")
    return response


AMOUNT = "BTC amount, decimal (at least 0.01)"
CURRENCY_PARAMS = ("Currency", "currency")
SINCE = ("since",)
METHODS: dict[str, Method] = {
    "data/ticker.php": Method(
        ticker, "Ticker over the last 24 h", params={"Currency": "default USD"}, cached_by=CURRENCY_PARAMS
    ),
    "ticker.php": Method(
        ticker, "Old alias of data/ticker.php", params={"Currency": "default USD"}, cached_by=CURRENCY_PARAMS
    ),
    "data/getDepth.php": Method(
        get_depth, "Order book, both sides ascending", params={"Currency": "default USD"}, cached_by=CURRENCY_PARAMS
    ),
    "data/getTrades.php": Method(
        get_trades,
        "Trades, oldest first",
        params={"since": "a tid: the next 100 trades after it"},
        cached_by=SINCE,
    ),
    "getFunds.php": Method(get_funds, "The user's balances", auth=True),
    "buyBTC.php": Method(
        buy, "Place a bid", auth=True, params={"amount": AMOUNT, "price": "absent: market order", "Currency": "USD"}
    ),
    "sellBTC.php": Method(
        sell, "Place an ask", auth=True, params={"amount": AMOUNT, "price": "absent: market order", "Currency": "USD"}
    ),
    "getOrders.php": Method(get_orders, "The user's open orders", auth=True),
    "cancelOrder.php": Method(
        cancel_order, "Cancel an order", auth=True, params={"oid": "order UUID", "type": "1 sell, 2 buy"}
    ),
    "withdraw.php": Method(
        withdraw,
        "Withdraw BTC",
        auth=True,
        params={"group1": "BTC", "btca": "Bitcoin address", "amount": "0.001 to 50000 BTC"},
    ),
    "btcAddress.php": Method(btc_address, "A fresh deposit address", auth=True),
    "info.php": Method(info, "Account information", auth=True),
    "history_BTC.csv": Method(_history("BTC"), "BTC wallet history (CSV)", auth=True),
    "history_USD.csv": Method(_history("USD"), "USD wallet history (CSV)", auth=True),
    "login.php": Method(login, "Log in: sets the session cookie", params={"name": "user", "pass": "password"}),
}
CREDENTIALS = {
    "name": "user name (case-insensitive), or use the session cookie or Rest-Key",
    "pass": "password",
    "nonce": "with Rest-Key: an integer greater than the last one used",
}


def _endpoint(method: Method) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        world = world_of(request)
        try:
            params, body = await read_params(request)
            model = mtgox_model(world)
            if method.cached_by is not None:  # a public answer: no user, and built only when not cached
                key = (method.handler, *(params.get(name) for name in method.cached_by))
                content = model.rendered(key, lambda: orjson.dumps(method.handler(Call(request, world, model, params))))
                return Rendered(content)
            call = Call(request, world, model, params)
            if method.auth:
                call.user = authenticate(request, world, model, params, body)
            result = method.handler(call)
        except BadRequest as exc:
            return JSON({"error": str(exc)})
        except Exception:  # a bug must still answer in the API's own style, never with a traceback
            log.exception("MtGox method failed")
            return JSON({"error": "Internal error, please retry later."})
        return result if isinstance(result, Response) else JSON(result)

    return endpoint


def _operation(prefix: str, path: str, method: Method, verb: str) -> dict[str, Any]:
    fields = {**(CREDENTIALS if method.auth else {}), **method.params}
    query = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
        for name, text in fields.items()
    ]
    headers = (
        [
            {"name": "Rest-Key", "in": "header", "required": False, "schema": {"type": "string"}},
            {"name": "Rest-Sign", "in": "header", "required": False, "schema": {"type": "string"}},
        ]
        if method.auth
        else []
    )
    operation: dict[str, Any] = {
        "tags": ["mtgox"],
        "summary": method.summary,
        "operationId": re.sub(r"\W", "_", f"mtgox_{verb}_{prefix}{path}"),
        "parameters": query + headers,
        "responses": {
            "200": {
                "description": 'The answer, or {"error": "..."} (always HTTP 200)',
                "content": {"application/json": {"schema": {}}},
            }
        },
    }
    if verb == "post" and fields:
        schema = {"type": "object", "properties": {name: {"type": "string"} for name in fields}}
        operation["requestBody"] = {
            "required": False,
            "content": {
                "application/x-www-form-urlencoded": {"schema": schema},
                "multipart/form-data": {"schema": schema},
            },
        }
    return operation


def _published(prefix: str) -> dict[str, Method]:
    """The methods under a prefix: all of them, but the old `ticker.php` alias only under /code/."""
    return {path: method for path, method in METHODS.items() if path != "ticker.php" or prefix == "/code/"}


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI `paths` of every method, GET and POST, as the app's document shows them."""
    return {
        prefix + path: {verb: _operation(prefix, path, method, verb) for verb in ("get", "post")}
        for prefix in PREFIXES
        for path, method in _published(prefix).items()
    }


async def unknown_method(request: Request) -> Response:
    return JSON({"error": "Unknown method."}, status_code=404)


ENDPOINTS = {path: _endpoint(method) for path, method in METHODS.items()}


def _dispatcher(prefix: str) -> Callable[[Request], Awaitable[Response]]:
    """One route per prefix looks the method up in METHODS: MtGox's API is a table of methods, and
    a FastAPI route for each method and verb cost more start-up time than all the rest of its code."""
    endpoints = {path: ENDPOINTS[path] for path in _published(prefix)}

    async def dispatch(request: Request) -> Response:
        endpoint = endpoints.get(request.path_params["method"], unknown_method)
        return await endpoint(request)

    return dispatch


for _prefix in PREFIXES:
    router.add_route(_prefix + "{method:path}", _dispatcher(_prefix), methods=["GET", "POST"], include_in_schema=False)
router.add_api_websocket_route("/mtgox", mtgox_socket)


HOT = ("data/ticker.php", "data/getDepth.php", "data/getTrades.php")


def hot_routes() -> list[Route]:
    """The public reads clients poll, for the fast lane (emulator.fastlane); the same endpoints the
    prefix routes dispatch to."""
    names = [(prefix, name) for prefix in PREFIXES for name in HOT] + [("/code/", "ticker.php")]
    return [Route(prefix + name, ENDPOINTS[name], methods=["GET"]) for prefix, name in names]

"""The MtGox legacy HTTP API: every method under /code/ and /api/0/, GET and POST alike.

Spec notes (choices where ../shared/spec/mtgox.md is silent):
- getFunds and the `usds`/`btcs` of other answers report what the user owns, open orders included,
  as MtGox did; free funds are what withdraw and order funding check.
- Only currencies the world trades are accepted as `Currency` (USD); another is "Invalid currency.".
- cancelOrder needs the `type` to match the order's side, else it is an unknown oid (no change).
- getTrades' `since` must be a non-negative integer ("Invalid since."). Every tid is its trade's
  market time in microseconds (one more on a collision), the seeded history's too, so `since` may be
  a time.
- Order lists put bids (type 2) before asks (type 1), each by price ascending, then by placement.
- A buy or sell that met its owner's resting order (and so stopped matching there) has " Trying to
  sell from yourself?" (a buy) or " Trying to buy from yourself?" (a sell) after its status, the
  original matching code's own words, swapped as they were.
- withdraw.php pays out USD from free funds with `group1=DWUSD` (`dwaccount`), `group1=USD` (Liberty
  Reserve, `account`) or `group1=PAXUMUSD` (`paxumaccount`), 0.01 to 1,000,000 USD [inferred]:
  "Must enter in a Dwolla Account." / "... a Liberty Reserve Account." / "... a Paxum Account."
  without the account, "You don't have this much USD." beyond free USD, "Invalid." for a bad amount.
- activate.php (`name`, `key`, optional `app`) spends an activation key made by the control API on a
  new API key: {"Rest-Key", "Secret", "Rights": ["get_info", "trade", "withdraw"]}. Missing `name` or
  `key`: "Invalid."; an unknown or spent activation key: "Invalid activation key." [inferred].
- `login.php` answers {"status": "Logged in.", "user": name} and sets the `mtgox_session` cookie;
  bad credentials answer {"error": "Bad username or password."}.
- An unknown method under either prefix is HTTP 404 with {"error": "Unknown method."}.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.apis.mtgox import openapi, rendering
from emulator.apis.mtgox.auth import authenticate, check_password
from emulator.apis.mtgox.models import MtGoxModel, get_model
from emulator.apis.mtgox.params import BadRequest, read_params
from emulator.apis.mtgox.surface import HOT_PATHS, INTERNAL_ERROR, PREFIXES, SESSION_COOKIE, SURFACE, WEBSOCKET
from emulator.apis.mtgox.websocket import mtgox_socket
from emulator.edge.tenancy import world_of
from emulator.engine import ASK, BID, Order
from emulator.engine.ledger import InsufficientFunds
from emulator.engine.units import BTC_SCALE, FIAT_SCALE, is_digits, parse_units, price_scale
from emulator.market.depth import visible_depth
from emulator.market.identities import is_valid_address, new_address
from emulator.market.trades import DAY
from emulator.market.world import World
from emulator.responses import JSON, Rendered
from emulator.surfaces import describe

log = logging.getLogger(__name__)
router = APIRouter()  # one plain route per prefix (see `_dispatcher`) and the websocket
MIN_AMOUNT = BTC_SCALE // 100  # 0.01 BTC
MAX_AMOUNT = 21_000_000 * BTC_SCALE
MAX_PRICE_UNITS = 10_000_000  # in whole currency units: a price above $10M is absurd
TRADES_PAGE = 100
WITHDRAW_MIN = BTC_SCALE // 1000  # 0.001 BTC
WITHDRAW_MAX = 50_000 * BTC_SCALE
USD_WITHDRAW_MIN = FIAT_SCALE // 100  # a cent
USD_WITHDRAW_MAX = 1_000_000 * FIAT_SCALE
# withdraw.php's USD payouts: group1 -> (the field naming the payee's account, the error without it)
USD_METHODS = {
    "DWUSD": ("dwaccount", "Must enter in a Dwolla Account."),
    "USD": ("account", "Must enter in a Liberty Reserve Account."),
    "PAXUMUSD": ("paxumaccount", "Must enter in a Paxum Account."),
}
QUEUED = "Your order has been queued for execution"
# what the original matching code added to the status when a taker met its owner's order, by the
# taker's side; the words are swapped (a buy "sells from yourself"), as they were
MET_OWN = {BID: "Trying to sell from yourself?", ASK: "Trying to buy from yourself?"}
RIGHTS = ("get_info", "trade", "withdraw")


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


def _listing_order(order: Order) -> tuple[int, int, int]:
    """Bids (type 2) first, then asks, each by price ascending, as the captured 2011 answers list them;
    orders at one price in the order they were placed."""
    return (-order.side, order.price or 0, order.oid)


def _orders(call: Call) -> list[dict[str, Any]]:
    mine = sorted(call.world.engine.open_orders(call.user), key=_listing_order)
    return [rendering.order(o, call.model.oid_of(o.oid)) for o in mine]


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
        if not is_digits(since, 20):
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
    status = QUEUED if not result.met_own else f"{QUEUED} {MET_OWN[side]}"
    return {
        "status": status,
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
    group = call.params.get("group1", "BTC").upper()
    if group in USD_METHODS:
        return _withdraw_usd(call, *USD_METHODS[group])
    if group != "BTC":
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


def _withdraw_usd(call: Call, field: str, missing: str) -> Any:
    """A USD payout (Dwolla, Liberty Reserve or Paxum) to the account named in `field`."""
    if not call.params.get(field, "").strip():
        raise BadRequest(missing)
    amount = _units(call.params.get("amount"), price_scale("USD"), USD_WITHDRAW_MIN, USD_WITHDRAW_MAX, "Invalid.")
    try:
        call.world.withdraw(call.user, "USD", amount)
    except InsufficientFunds as exc:
        raise BadRequest("You don't have this much USD.") from exc
    return {**rendering.funds(_balances(call)), "status": "Your funds are on their way..."}


def activate(call: Call) -> Any:
    """activate.php: an activation key (from the control API) becomes an API key, once."""
    if "name" not in call.params or "key" not in call.params:
        raise BadRequest("Invalid.")
    record = call.world.directory.activate_mtgox_key(call.params["key"])
    if record is None:
        raise BadRequest("Invalid activation key.")
    return {"Rest-Key": record.key, "Secret": record.secret, "Rights": list(RIGHTS)}


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
        "Rights": list(RIGHTS),
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
        "Withdraw BTC, or USD by Dwolla, Liberty Reserve or Paxum",
        auth=True,
        params={
            "group1": "BTC (default), DWUSD, USD (Liberty Reserve) or PAXUMUSD",
            "btca": "BTC: Bitcoin address",
            "dwaccount": "DWUSD: Dwolla account",
            "account": "USD: Liberty Reserve account",
            "paxumaccount": "PAXUMUSD: Paxum account",
            "amount": "0.001 to 50000 BTC, or 0.01 to 1000000 USD",
        },
    ),
    "activate.php": Method(
        activate,
        "Turn an activation key into an API key (once)",
        params={"name": "the application's name", "key": "activation key", "app": "application id"},
    ),
    "btcAddress.php": Method(btc_address, "A fresh deposit address", auth=True),
    "info.php": Method(info, "Account information", auth=True),
    "history_BTC.csv": Method(_history("BTC"), "BTC wallet history (CSV)", auth=True),
    "history_USD.csv": Method(_history("USD"), "USD wallet history (CSV)", auth=True),
    "login.php": Method(login, "Log in: sets the session cookie", params={"name": "user", "pass": "password"}),
}


def _endpoint(method: Method) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        world = world_of(request)
        try:
            params, body = await read_params(request)
            model = get_model(world)
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
            return JSON({"error": INTERNAL_ERROR})
        return result if isinstance(result, Response) else JSON(result)

    return endpoint


def published(prefix: str) -> dict[str, Method]:
    """The methods under a prefix: all of them, but the old `ticker.php` alias only under /code/."""
    return {path: method for path, method in METHODS.items() if path != "ticker.php" or prefix == "/code/"}


async def unknown_method(request: Request) -> Response:
    return JSON({"error": "Unknown method."}, status_code=404)


ENDPOINTS = {path: _endpoint(method) for path, method in METHODS.items()}


def _dispatcher(prefix: str) -> Callable[[Request], Awaitable[Response]]:
    """One route per prefix looks the method up in METHODS: MtGox's API is a table of methods, and
    a FastAPI route for each method and verb cost more start-up time than all the rest of its code."""
    endpoints = {path: ENDPOINTS[path] for path in published(prefix)}

    async def dispatch(request: Request) -> Response:
        endpoint = endpoints.get(request.path_params["method"], unknown_method)
        return await endpoint(request)

    return dispatch


for _prefix in PREFIXES:
    router.add_route(_prefix + "{method:path}", _dispatcher(_prefix), methods=["GET", "POST"], include_in_schema=False)
router.add_api_websocket_route(WEBSOCKET, mtgox_socket)


def hot_routes() -> list[Route]:
    """The public reads clients poll (the surface's `hot` paths), for the fast lane
    (emulator.edge.fastlane); the same endpoints the prefix routes dispatch to."""
    routes = []
    for path in HOT_PATHS:
        prefix = next(p for p in PREFIXES if path.startswith(p))
        routes.append(Route(path, ENDPOINTS[path[len(prefix) :]], methods=["GET"]))
    return routes


describe(SURFACE, openapi.part(published))  # the API's part of /openapi.json, read from the table above

"""BitcoinAverage v2 websockets (spec §5): the ticker and exchange channels, v1 and v2, and the v2
order book and trades channels.

A client asks `websocket/get_ticket` (or `websocket/v2/get_ticket`) for a ticket, then opens a
channel URL with the query `public_key=...&ticket=...`, gets `{"type": "status", "data": "OK"}`, and
sends `{"event": "message", "data": {"operation": "subscribe" | "unsubscribe", "options": {...}}}`.
Frames are `{"event": "message", "data": ...}` holding the same `<ticker>` and `<exchange>` objects
the REST routes return at that moment (the same view and rendering functions).

Fan-out (emulator.streaming): a subscription's identity is its channel key, `<channel>:<seconds>s:
<items>` (e.g. `websocket/ticker:3s:local:BTCUSD`, items sorted): one timer per update interval on
the world's market clock renders each key's payload once and publishes the same text to every
client holding exactly that subscription. A client of a multiple channel that adds or removes an
item moves to the key of its new set. Order books and trades are streams per (exchange, symbol):
each symbol of a subscription is a key of its own (`websocket/v2/orderbooks:1s:bitstamp:BTCUSD`),
so every frame is rendered and serialised once for all the clients of that symbol.

Order books (`websocket/v2/orderbooks`) and trades (`websocket/v2/trades`), where the spec is silent
(the books and trades themselves: emulator.apis.bitcoinaverage.books):
- Subscribe with `options: {"exchange": ..., "currency_list": [...]}` (also `symbols`, `currency` or
  `symbol`; a list or a comma list), or as the npm client 1.2.1 does with `exchange` and `symbols`
  beside `operation` and no `options`. One exchange per subscription; every symbol must be one it
  trades, and at most the plan's `websocket_symbols` (plans.json) of them. A subscribe replaces the
  whole set, an unsubscribe clears it (any channel: a message without `options` has them beside
  `operation`).
- Order books: a snapshot per symbol at once (`{"type": "snapshot", "exchange", "symbol", "asks",
  "bids"}`, levels `{"price", "amount"}`, each side best price first), then at each due time one
  `{"type": "update", "exchange", "symbol", "updates": [{"side": "ask" | "bid", "price",
  "amount"}]}` with every level that changed since the last frame (its new amount; 0: gone), or
  no frame when none did. Applied to the snapshot, the updates give the book exactly as a new
  subscriber's snapshot (and, for `mtgox`, `getDepth`) shows it at that due time. A client that
  subscribes between two due times gets its own first update, from its snapshot to the next due time,
  and shares the key's frames from then on.
- Trades: no snapshot; from the next due time one frame per trade made since the last one (since the
  subscription, for a new client), oldest first: `{"exchange", "symbol", "price", "amount", "side":
  "buy" | "sell" (the taker's), "time": "YYYY-MM-DD HH:MM:SS"}` **[inferred]**. For `mtgox` the trades
  are `getTrades`' (same time, price and amount; side `buy` for a `bid` trade_type).

Choices where the spec is silent:
- A refused handshake answers with an HTTP status and the API's JSON error body (the websocket
  denial response; a server without that extension closes with 1008 before accepting, which
  clients see as HTTP 403): 404 for a websocket path under the API's prefixes that is no channel;
  401 for a missing public key or ticket, an unknown key, or a ticket that
  is unknown, used, expired, bound to another key or issued for the other family (v1 channels take
  `websocket/get_ticket` tickets, v2 channels `websocket/v2/get_ticket` ones); 403 when the key's
  plan is below the channel's level (plans.json: `websocket_v1_ticker` for `websocket/ticker`,
  `websocket_v1` for the other v1 channels, `websocket_v2` for v2); 429 with the ticket request's
  text when the key already has its plan's number of sockets open. A refused plan or limit does not
  spend the ticket. The `Authentication` header is never looked at.
- The update interval is the key's plan's `update_seconds` (plans.json) at the handshake. Frames
  are due at market times that are multiples of the interval (unix seconds), after every other
  timer due at that instant, so a frame equals what REST answers once the clock stands there. A
  (re)subscribe also sends one frame at once, so a client sees data without waiting an interval.
- Options: `market` or `symbol_set` (local/global), `currency` or `currency_list` (a symbol, a
  list of symbols or a comma list); `exchange` or `exchange_list` likewise. Codes are
  case-insensitive. The global market needs the plan of the REST global tickers (`global_ticker`).
- `websocket/ticker` and `websocket/exchanges` take exactly one item; unsubscribe closes the socket
  (1000, "unsubscribed"). Multiple channels add and remove items (removing one not held is a
  no-op; an unsubscribe without options removes all). v2 channels replace the whole set;
  unsubscribe there clears it. Either way a socket without items stays open and gets no frames.
- Ticker frames of the multiple and v2 channels always carry both `local` and `global` (either may
  be empty). An exchange with no numbers yet is left out (single channel: no frame).
- Client messages that are not JSON objects of that shape, or name unknown markets, symbols or
  exchanges, get `{"event": "error", "data": {"message": ...}}`; the socket stays open.
- Fault rules (`ws_*` effects, emulator.faults.rules) match a frame by its channel path (e.g.
  `websocket/ticker`, also the rule's `path` as `/websocket/ticker`) or its full channel key.
- A scenario step `disconnect: bitcoinaverage` (or `all`) and a world reset or restore close every
  socket of the world with 1012 and a reason.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.websockets import WebSocket

from emulator.apis.bitcoinaverage import books, rendering, surface
from emulator.apis.bitcoinaverage.auth import FORBIDDEN
from emulator.apis.bitcoinaverage.books import Book
from emulator.apis.bitcoinaverage.catalog import Catalog
from emulator.apis.bitcoinaverage.models import AverageModel, get_model
from emulator.apis.bitcoinaverage.params import parse_query
from emulator.apis.bitcoinaverage.view import View
from emulator.apis.bitcoinaverage.weighting import MTGOX
from emulator.edge.tenancy import world_of
from emulator.faults.websocket import FrameFaults, ws_filter
from emulator.market.clock import MICROS
from emulator.market.world import RESET, World
from emulator.streaming import Channels, Client, Connections, dumps, serve_client

TIMER = "bitcoinaverage-ws:"  # + interval seconds: the world timers of this module
FEED = "bitcoinaverage-ws-feed"
MARKETS = ("local", "global")
MAX_ITEMS = 5000
RESTARTING = 1012
UNSUBSCRIBED = (1000, "unsubscribed")
STATUS = {"type": "status", "data": "OK"}


@dataclass(frozen=True)
class Channel:
    path: str  # without the leading slash, as the spec and the fault rules name it
    content: str  # "ticker", "exchange", "orderbook" or "trade"
    mode: str  # "single", "multiple" or "replace"
    family: str  # the ticket family: "v1" or "v2"
    endpoint: str  # plans.json endpoint group

    @property
    def split(self) -> bool:
        """Whether each item is a channel key of its own: order books and trades are streams per
        (exchange, symbol) whose frames every subscriber of that symbol shares."""
        return self.content in ("orderbook", "trade")


CHANNELS = {
    c.path: c
    for c in (
        Channel("websocket/ticker", "ticker", "single", "v1", "websocket_v1_ticker"),
        Channel("websocket/multiple/ticker", "ticker", "multiple", "v1", "websocket_v1"),
        Channel("websocket/exchanges", "exchange", "single", "v1", "websocket_v1"),
        Channel("websocket/multiple/exchanges", "exchange", "multiple", "v1", "websocket_v1"),
        Channel("websocket/v2/ticker", "ticker", "replace", "v2", "websocket_v2"),
        Channel("websocket/v2/exchanges", "exchange", "replace", "v2", "websocket_v2"),
        Channel("websocket/v2/orderbooks", "orderbook", "replace", "v2", "websocket_v2"),
        Channel("websocket/v2/trades", "trade", "replace", "v2", "websocket_v2"),
    )
}


class BadMessage(Exception):
    pass


def error(message: str) -> dict[str, Any]:
    return {"event": "error", "data": {"message": message}}


def message(data: Any) -> dict[str, Any]:
    return {"event": "message", "data": data}


# -- payloads ----------------------------------------------------------------------------------


def render(view: View, channel: Channel, items: tuple[str, ...]) -> Any:
    """A frame's `data` for a subscription at the view's second; None when there is nothing to send."""
    time = rendering.display_time(view.now)
    if channel.content == "ticker":
        tickers: dict[str, dict[str, Any]] = {m: {} for m in MARKETS}
        for item in items:
            market, symbol = item.split(":", 1)
            t = view.ticker(market, symbol)
            if t is not None:
                tickers[market][symbol] = rendering.ticker(t)
        if channel.mode == "single":
            found = next(iter(tickers[items[0].split(":", 1)[0]].values()), None)
            return None if found is None else found | {"success": True, "time": time}
        return tickers
    exchanges = {name: e for name in items if (e := rendering.exchange_of(view, name)) is not None}
    if channel.mode == "single":
        return None if not exchanges else exchanges[items[0]] | {"success": True, "time": time}
    return {"success": True, "time": time, **exchanges}


def channel_key(channel: Channel, interval: int, items: tuple[str, ...]) -> str:
    return f"{channel.path}:{interval}s:{','.join(items)}"


def _channel_path(key: str) -> tuple[str]:
    return (key.split(":", 1)[0],)


@dataclass(frozen=True)
class Subscription:
    channel: Channel
    interval: int
    items: tuple[str, ...]


Position = Book | int  # where an order book or trades subscriber stands: a book, or a trade cursor


@dataclass
class Stream:
    """An order book or trades key: what it published last (the book, or the trade cursor: MtGox's
    last tid, another exchange's last second), and the clients that join it at its next tick, each
    with its own position (the book of its snapshot, its cursor when it subscribed), so that what it
    gets then starts exactly where it stood."""

    last: Position | None = None
    joining: dict[Client, Position] = field(default_factory=dict)


class Feed:
    """One world's BitcoinAverage sockets: subscriptions, the interval timers and the fan-out."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.channels = Channels()
        filters = {p: ws_filter(world, "bitcoinaverage", _channel_path, f"/{p}") for p in CHANNELS}
        self.channels.faults = FrameFaults(lambda key: filters[_channel_path(key)[0]](key))
        self.keys: dict[int, dict[str, Subscription]] = {}  # interval -> channel key -> subscription
        self.streams: dict[str, Stream] = {}  # channel key -> its order book or trades stream
        self.sockets: set[Client] = set()  # every open socket of the world, subscribed or not
        self.generation = 0  # bumped by a reset: sockets of an older generation no longer count
        self._bus = world.bus.subscribe(["reset", "disconnect"], maxsize=10**4, notify=self._pump)

    def _pump(self) -> None:
        for event in self._bus.drain():
            if event == RESET:
                self.generation += 1
                self.keys.clear()
                self.streams.clear()
                self.close_all("the world was reset")
            elif event in ("bitcoinaverage", "all"):
                self.close_all("scenario: bitcoinaverage websockets disconnected")

    def close_all(self, reason: str) -> None:
        for client in list(self.sockets):
            client.close(RESTARTING, reason)

    # -- subscriptions ------------------------------------------------------------------------

    def subscribe(self, client: Client, sub: Subscription, position: Position | None = None) -> str:
        """Join the subscription's key; an order book or trades client (with its `position`) joins
        at the key's next tick."""
        key = channel_key(sub.channel, sub.interval, sub.items)
        self.keys.setdefault(sub.interval, {})[key] = sub
        if position is None:
            self.channels.join(client, key)
        else:
            self.streams.setdefault(key, Stream()).joining[client] = position
        self._ensure_timer(sub.interval)
        return key

    def leave(self, client: Client, key: str) -> None:
        self.channels.leave(client, key)
        stream = self.streams.get(key)
        if stream is not None:
            stream.joining.pop(client, None)

    def leave_all(self, client: Client) -> None:
        self.channels.leave_all(client)
        for stream in self.streams.values():
            stream.joining.pop(client, None)

    def _ensure_timer(self, interval: int) -> None:
        """Register the interval's handler (again after a reset) and schedule it unless it is pending
        (a restored snapshot may hold it already)."""
        name = f"{TIMER}{interval}"
        world = self.world
        world.on_timer(name, lambda due: self._tick(interval, due))
        if not any(t[2] == name for t in world.timers):
            world.schedule(self._next_due(interval, world.now), name)

    @staticmethod
    def _next_due(interval: int, after: int) -> int:
        step = interval * MICROS
        return (after // step + 1) * step

    def _tick(self, interval: int, due: int) -> int | None:
        world = self.world
        if any(t[0] == due and not t[2].startswith(TIMER) for t in world.timers):
            return due  # run again once everything else due now has happened
        subs = self.keys.get(interval, {})
        view: View | None = None
        for key, sub in list(subs.items()):
            stream = self.streams.get(key)
            if not self.channels.listening(key) and (stream is None or not stream.joining):
                del subs[key]
                self.streams.pop(key, None)
                continue
            view = view or get_model(world).view(world)
            if stream is not None:
                exchange, symbol = sub.items[0].split(":", 1)
                if sub.channel.content == "orderbook":
                    self._book_tick(key, stream, view, exchange, symbol)
                else:
                    self._trades_tick(key, stream, view, exchange, symbol)
                continue
            data = render(view, sub.channel, sub.items)
            if data is not None:
                self.channels.publish(key, message(data))
        if not subs:
            self.keys.pop(interval, None)
            return None
        return self._next_due(interval, due)

    def _book_tick(self, key: str, stream: Stream, view: View, exchange: str, symbol: str) -> None:
        """Publish what changed in the book since the key's last tick (nothing when nothing did), and
        send each joining client what changed since its snapshot."""
        book = books.book_of(view, exchange, symbol)
        if book is None:
            return
        if isinstance(stream.last, Book) and self.channels.listening(key):
            changes = books.diff(stream.last, book)
            if changes:
                self.channels.publish(key, message(rendering.book_update(exchange, symbol, changes)))
        for client, position in stream.joining.items():
            if isinstance(position, Book):
                changes = books.diff(position, book)
                if changes:
                    client.send_json(message(rendering.book_update(exchange, symbol, changes)))
            self.channels.join(client, key)
        stream.joining.clear()
        stream.last = book

    def _trades_tick(self, key: str, stream: Stream, view: View, exchange: str, symbol: str) -> None:
        """One frame per trade since the key's last tick (a joining client: since it subscribed)."""
        cursors = [p for p in (stream.last, *stream.joining.values()) if isinstance(p, int)]
        if not cursors:
            return
        since = min(cursors)
        world = self.world
        if exchange == MTGOX:
            deals = books.engine_deals(world, since)
            cursor = books.engine_cursor(world)
        else:
            cursor = view.now
            deals = books.generated_deals(view.model, view.catalog, exchange, symbol, since, cursor)
        shared = stream.last if isinstance(stream.last, int) and self.channels.listening(key) else None
        for deal in deals:
            frame = message(rendering.trade(exchange, symbol, deal.time, deal.price, deal.amount, deal.side))
            if shared is not None and deal.cursor > shared:
                self.channels.publish(key, frame)
            text: str | None = None
            for client, position in stream.joining.items():
                if isinstance(position, int) and deal.cursor > position:
                    text = text or dumps(frame)
                    client.send(text)
        for client in stream.joining:
            self.channels.join(client, key)
        stream.joining.clear()
        stream.last = max(cursor, since)


def feed_of(world: World) -> Feed:
    feed = world.attachments.get(FEED)
    if not isinstance(feed, Feed):
        feed = world.attachments[FEED] = Feed(world)
    return feed


# -- one socket --------------------------------------------------------------------------------


def _strings(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = value
    else:
        raise BadMessage(f"options.{name} must be a string or a list of strings")
    out = [p.strip() for p in parts if p.strip()]
    if not out:
        raise BadMessage(f"options.{name} is empty")
    if len(out) > MAX_ITEMS:
        raise BadMessage(f"options.{name} lists more than {MAX_ITEMS} items")
    return out


def _option(options: dict[str, Any], *names: str) -> tuple[str, Any]:
    for name in names:
        value = options.get(name)
        if value is not None and value != "":
            return name, value
    raise BadMessage(f"options.{' or options.'.join(names)} is required")


class Session:
    """One accepted socket: its channel, plan and current subscription."""

    def __init__(
        self, feed: Feed, client: Client, channel: Channel, plan: str, interval: int, catalog: Catalog
    ) -> None:
        self.feed = feed
        self.client = client
        self.channel = channel
        self.plan = plan
        self.interval = interval
        self.catalog = catalog
        self.items: tuple[str, ...] = ()
        self.keys: tuple[str, ...] = ()

    def on_text(self, text: str) -> None:
        mode = self.channel.mode
        try:
            operation, options = self._parse(text)
            if operation == "unsubscribe" and mode == "single":
                self.client.close(*UNSUBSCRIBED)
                return
            if operation == "unsubscribe" and (mode == "replace" or not options):
                self._switch((), announce=False)  # a multiple channel's unsubscribe without options: all
                return
            items = self._items(options)
        except BadMessage as exc:
            self.client.send_json(error(str(exc)))
            return
        if operation == "unsubscribe":
            self._switch(tuple(i for i in self.items if i not in items), announce=False)
        elif mode == "multiple":
            self._switch(tuple(sorted({*self.items, *items})), announce=True)
        else:
            self._switch(tuple(sorted(set(items))), announce=True)

    def _parse(self, text: str) -> tuple[str, dict[str, Any]]:
        try:
            command = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise BadMessage("invalid JSON") from None
        if not isinstance(command, dict) or command.get("event") != "message":
            raise BadMessage('expected {"event": "message", "data": {"operation": ..., "options": {...}}}')
        data = command.get("data")
        if not isinstance(data, dict):
            raise BadMessage("data must be an object with operation and options")
        operation = data.get("operation")
        if operation not in ("subscribe", "unsubscribe"):
            raise BadMessage(f"unknown operation {str(operation)[:32]!r}: subscribe or unsubscribe")
        options = data.get("options")
        if options is None:  # the npm client 1.2.1 sends them beside `operation`: {"exchange", "symbols"}
            options = {k: v for k, v in data.items() if k != "operation"}
        if not isinstance(options, dict):
            raise BadMessage("options must be an object")
        return operation, options

    def _items(self, options: dict[str, Any]) -> list[str]:
        if self.channel.split:
            return self._symbols_of_exchange(options)
        if self.channel.content == "ticker":
            name, value = _option(options, "market", "symbol_set")
            if not isinstance(value, str) or value.lower() not in MARKETS:
                raise BadMessage(f"options.{name} must be local or global")
            market = value.lower()
            if market == "global" and not self.catalog.plans.allows(self.plan, "global_ticker"):
                raise BadMessage(FORBIDDEN)
            name, value = _option(options, "currency", "currency_list")
            symbols = [s.upper() for s in _strings(value, name)]
            known = self.catalog.symbols(market)
            for symbol in symbols:
                if symbol not in known:
                    raise BadMessage(f"unknown symbol {symbol[:32]!r} in the {market} market")
            items = [f"{market}:{s}" for s in symbols]
        else:
            name, value = _option(options, "exchange", "exchange_list")
            items = [e.lower() for e in _strings(value, name)]
            for item in items:
                if item not in self.catalog.exchanges:
                    raise BadMessage(f"unknown exchange {item[:64]!r}")
        if self.channel.mode == "single" and len(set(items)) != 1:
            raise BadMessage(f"{self.channel.path} takes one item; use the multiple channel for more")
        return items

    def _symbols_of_exchange(self, options: dict[str, Any]) -> list[str]:
        """Order books and trades: `exchange:SYMBOL` items of one exchange, as many as the plan allows."""
        name, value = _option(options, "exchange", "exchange_list")
        exchanges = {e.lower() for e in _strings(value, name)}
        if len(exchanges) != 1:
            raise BadMessage(f"{self.channel.path} takes one exchange per subscription")
        (exchange,) = exchanges
        listed = self.catalog.exchanges.get(exchange)
        if listed is None:
            raise BadMessage(f"unknown exchange {exchange[:64]!r}")
        name, value = _option(options, "currency_list", "symbols", "currency", "symbol")
        symbols = {s.upper() for s in _strings(value, name)}
        for symbol in sorted(symbols):
            if symbol not in listed.symbols:
                raise BadMessage(f"{exchange} does not trade {symbol[:32]!r}")
        limit = self.catalog.plans.websocket_symbols.get(self.plan, 0)
        if len(symbols) > limit:
            raise BadMessage(f"your plan allows {limit} symbols per subscription")
        return [f"{exchange}:{symbol}" for symbol in symbols]

    def _switch(self, items: tuple[str, ...], announce: bool) -> None:
        """Move to the channel key(s) of `items` (none: no frames), and send the current frame (order
        books: a snapshot per symbol)."""
        feed = self.feed
        for key in self.keys:
            feed.leave(self.client, key)
        self.keys = ()
        self.items = items
        if items and self.channel.split:
            self.keys = tuple(self._join(item) for item in items)
        elif items:
            self.keys = (feed.subscribe(self.client, Subscription(self.channel, self.interval, items)),)
            if announce:
                world = feed.world
                world.sync()
                data = render(get_model(world).view(world), self.channel, items)
                if data is not None:
                    self.client.send_json(message(data))

    def _join(self, item: str) -> str:
        """Subscribe to one order book or trades stream from now: a book's snapshot is sent at once."""
        world = self.feed.world
        world.sync()
        view = get_model(world).view(world)
        exchange, symbol = item.split(":", 1)
        position: Position
        if self.channel.content == "orderbook":
            book = books.book_of(view, exchange, symbol)
            assert book is not None  # the exchange trades the symbol (checked by _symbols_of_exchange)
            self.client.send_json(
                message(rendering.book_snapshot(exchange, symbol, book.asks.items(), book.bids.items()))
            )
            position = book
        else:
            position = books.engine_cursor(world) if exchange == MTGOX else view.now
        return self.feed.subscribe(self.client, Subscription(self.channel, self.interval, (item,)), position)


# -- the handshake -----------------------------------------------------------------------------


def _admit(channel: Channel, query: dict[str, str], world: World, model: AverageModel) -> tuple[int, str]:
    """(0, the key's plan) if the handshake may go on (the ticket is then spent), else (status, message)."""
    public_key, ticket = query.get("public_key"), query.get("ticket")
    if public_key is None or ticket is None:
        return 401, "The public_key and ticket query parameters are required"
    key = world.directory.average_keys.get(public_key)
    if key is None:
        return 401, "Unknown public key"
    if not model.catalog.plans.allows(key.plan, channel.endpoint):
        return 403, FORBIDDEN
    if model.client_limit_reached(public_key, key.plan):
        return 429, f"Client limit reached for api key {public_key}"
    if not model.consume_ticket(ticket, public_key, world.now, channel.family):
        return 401, "Invalid ticket: unknown, already used, expired or issued for another key or channel family"
    return 0, key.plan


async def _refuse(websocket: WebSocket, status: int, text: str) -> None:
    try:
        await websocket.send_denial_response(surface.error(status, text))
    except RuntimeError:  # the server has no denial-response extension: 403 on the handshake
        await websocket.close(1008, text[:120])


def endpoint(channel: Channel) -> Callable[[WebSocket], Any]:
    async def socket(websocket: WebSocket) -> None:
        world = world_of(websocket)
        model = get_model(world)
        query = parse_query(websocket.scope.get("query_string", b""))
        status, plan = _admit(channel, query, world, model)
        if status:
            await _refuse(websocket, status, plan)
            return
        public_key = query["public_key"]
        feed = feed_of(world)
        client = Client(websocket, websocket.app.state.settings.ws_queue_limit)
        interval = model.catalog.plans.update_seconds.get(plan, 3)
        session = Session(feed, client, channel, plan, interval, model.catalog)
        generation = feed.generation
        feed.sockets.add(client)
        model.connect(public_key)
        try:
            await websocket.accept()
            client.send_json(STATUS)
            connections: Connections = websocket.app.state.connections
            await serve_client(websocket, client, connections, session.on_text)
        finally:
            feed.leave_all(client)
            feed.sockets.discard(client)
            if feed.generation == generation:
                model.disconnect(public_key)

    socket.__name__ = "ba_" + channel.path.replace("/", "_")
    return socket


async def unknown(websocket: WebSocket) -> None:
    await _refuse(websocket, 404, "Not found")


def register(router: APIRouter, prefixes: tuple[str, ...]) -> None:
    """The channels, then every other websocket path under the API's `prefixes`: 404 and the API's
    error body (without it the router would close the handshake: a bare 403)."""
    for channel in CHANNELS.values():
        router.add_api_websocket_route(f"/{channel.path}", endpoint(channel), name=channel.path)
    for prefix in prefixes:
        for path in (f"/{prefix}", f"/{prefix}/{{rest:path}}"):
            router.add_api_websocket_route(path, unknown)

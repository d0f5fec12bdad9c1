"""The MtGox websocket at /mtgox: the trades, ticker and depth channels, and each user's own channel.

One feed per world renders every engine event once per channel (see emulator.streaming). Spec notes:
- A socket opened with good `name`/`pass` query parameters or the login cookie also joins the user's
  own channel (announced with a `subscribe` message after the three public ones); bad credentials
  just leave it public.
- A ticker message follows every batch of engine changes that traded or moved the best bid or ask.
- When the world is reset or restored every socket of it is closed with 1012, since the book it
  was following no longer exists.

The feed takes from the world's bus only what its channels' listeners are shown (see `_listen`):
with no socket open it costs the market nothing, and nobody's order updates are made while no
private channel is listened to.
"""

from typing import Any

import orjson
from starlette.websockets import WebSocket

from emulator.apis.mtgox import rendering
from emulator.apis.mtgox.auth import check_password
from emulator.apis.mtgox.models import get_model
from emulator.apis.mtgox.surface import SESSION_COOKIE, WEBSOCKET
from emulator.edge.tenancy import world_of
from emulator.engine import DepthChange, OrderUpdate, Trade
from emulator.engine.units import BTC_SCALE, MICROS, price_scale, to_number
from emulator.faults.websocket import FrameFaults, ws_filter
from emulator.market.world import RESET, World
from emulator.streaming import Channels, Client, Connections, serve_client

TRADES = "dbf1dee9-4f2e-4a08-8cb7-748919a71b21"
TICKER = "d5f06780-30a8-4a48-a2f8-7ed181b4a13f"
DEPTH = "24e67e0d-1cad-4cc0-9e7a-f8523ef460fe"
PUBLIC = {TRADES: "trade", TICKER: "ticker", DEPTH: "depth"}


def trade_message(t: Trade) -> dict[str, Any]:
    scale = price_scale(t.currency)
    return {
        "amount": to_number(t.amount, BTC_SCALE),
        "amount_int": str(t.amount),
        "date": t.date // MICROS,
        "item": "BTC",
        "price": to_number(t.price, scale),
        "price_currency": t.currency,
        "price_int": str(t.price),
        "tid": str(t.tid),
        "trade_type": rendering.SIDE_NAMES[t.taker_side],
        "type": "trade",
    }


def depth_message(d: DepthChange) -> dict[str, Any]:
    return {
        "currency": d.currency,
        "item": "BTC",
        "price": to_number(d.price, price_scale(d.currency)),
        "price_int": str(d.price),
        "type": d.side,
        "type_str": rendering.SIDE_NAMES[d.side],
        "volume": to_number(d.delta, BTC_SCALE),
        "volume_int": str(d.delta),
    }


def order_message(u: OrderUpdate, oid: str) -> dict[str, Any]:
    price = u.price or 0
    return {
        "oid": oid,
        "type": u.side,
        "type_str": rendering.SIDE_NAMES[u.side],
        "amount": to_number(u.delta, BTC_SCALE),
        "amount_int": str(u.delta),
        "price": to_number(price, price_scale(u.currency)),
        "price_int": str(price),
        "status": u.status,
        "currency": u.currency,
        "item": "BTC",
        "date": u.date // MICROS,
    }


def envelope(channel: str, kind: str, body: dict[str, Any], origin: str = "broadcast") -> dict[str, Any]:
    return {"channel": channel, "op": "private", "origin": origin, "private": kind, kind: body}


def remark(message: str) -> dict[str, Any]:
    return {"op": "remark", "success": False, "message": message, "channel": None}


class Feed:
    """Turns one world's bus events into MtGox channel messages."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.channels = Channels()
        self.channels.faults = FrameFaults(
            ws_filter(world, "mtgox", lambda c: (PUBLIC[c],) if c in PUBLIC else (), WEBSOCKET)
        )
        self.model = get_model(world)
        self._traded = False
        self._best: tuple[int | None, int | None] = self._best_prices()
        self._subscription = world.bus.subscribe(["reset", "disconnect"], maxsize=10**6, notify=self._pump)

    def join(self, client: Client, channel: str) -> None:
        self.channels.join(client, channel)
        self._listen()

    def leave(self, client: Client, channel: str) -> None:
        self.channels.leave(client, channel)
        self._listen()

    def leave_all(self, client: Client) -> None:
        self.channels.leave_all(client)
        self._listen()

    def _listen(self) -> None:
        """Hold the bus topics the listened channels need: trades for the trades channel, the ticker
        (whether a batch traded) and private channels (a user's own trades); depth for the depth
        channel; order updates for private channels; each batch's end for the ticker. Called when a
        channel gains or loses listeners, which happens between operations: a ticker listened to
        again compares against the book as it is, as it would had the feed been listening all along
        (after every batch the feed holds the best prices and nothing traded)."""
        listened = self.channels.subscribers
        private = any(channel not in PUBLIC for channel in listened)
        wanted = {
            "trade": TRADES in listened or TICKER in listened or private,
            "depth": DEPTH in listened,
            "order": private,
            "changed": TICKER in listened,
        }
        bus, subscription = self.world.bus, self._subscription
        for topic, want in wanted.items():
            if want and topic not in subscription.topics:
                if topic == "changed":
                    self._traded, self._best = False, self._best_prices()
                bus.add_topic(subscription, topic)
            elif not want and topic in subscription.topics:
                bus.remove_topic(subscription, topic)

    def _best_prices(self) -> tuple[int | None, int | None]:
        book = self.world.engine.books["USD"]
        return book.best_bid(), book.best_ask()

    def _pump(self) -> None:
        for event in self._subscription.drain():
            if isinstance(event, Trade):
                self._on_trade(event)
            elif isinstance(event, DepthChange):
                self.channels.publish(DEPTH, envelope(DEPTH, "depth", depth_message(event)))
            elif isinstance(event, OrderUpdate):
                self._on_order(event)
            elif event == RESET:
                self.reset()
            elif event in ("mtgox", "all"):  # a scenario's `disconnect` step
                self.drop("the scenario dropped every MtGox websocket")
            else:
                self._on_batch()

    def _on_trade(self, trade: Trade) -> None:
        self._traded = True
        body = trade_message(trade)
        self.channels.publish(TRADES, envelope(TRADES, "trade", body))
        for name in {trade.buyer, trade.seller}:
            user = self.world.directory.user(name) if name else None
            if user is not None and self.channels.listening(user.channel):
                self.channels.publish(user.channel, envelope(user.channel, "trade", body, origin="user"))

    def _on_order(self, update: OrderUpdate) -> None:
        user = self.world.directory.user(update.user)
        if user is not None and self.channels.listening(user.channel):
            body = order_message(update, self.model.oid_of(update.oid))
            self.channels.publish(user.channel, envelope(user.channel, "order_upd", body, origin="user"))

    def _on_batch(self) -> None:
        best = self._best_prices()
        if not self._traded and best == self._best:
            return
        self._traded, self._best = False, best
        if self.channels.listening(TICKER):
            world = self.world
            ticker = rendering.ticker(world.trades.stats(world.now), best[0], best[1])
            body = {k: ticker[k] for k in ("buy", "high", "low", "sell", "vol", "last")}
            self.channels.publish(TICKER, envelope(TICKER, "ticker", body))

    def reset(self) -> None:
        self.model = get_model(self.world)
        self._best = self._best_prices()
        self.drop("the world was reset")

    def drop(self, reason: str) -> None:
        for client in self.channels.clients():
            client.close(1012, reason)


def feed_of(world: World) -> Feed:
    feed = world.attachments.get("mtgox-feed")
    if not isinstance(feed, Feed):
        feed = world.attachments["mtgox-feed"] = Feed(world)
    return feed


def _user_of(websocket: WebSocket, world: World) -> str | None:
    name, password = websocket.query_params.get("name"), websocket.query_params.get("pass")
    if name:
        return check_password(world, name, password)
    return get_model(world).session_user(websocket.cookies.get(SESSION_COOKIE))


async def mtgox_socket(websocket: WebSocket) -> None:
    world = world_of(websocket)
    feed = feed_of(world)
    await websocket.accept()
    client = Client(websocket, websocket.app.state.settings.ws_queue_limit)
    for channel in PUBLIC:
        feed.join(client, channel)
        client.send_json({"op": "subscribe", "channel": channel})
    user = world.directory.user(_user_of(websocket, world) or "")
    own = user.channel if user is not None else None
    if own is not None:
        feed.join(client, own)
        client.send_json({"op": "subscribe", "channel": own})

    def on_text(text: str) -> None:
        try:
            command = orjson.loads(text)
        except orjson.JSONDecodeError:
            client.send_json(remark("invalid JSON"))
            return
        if not isinstance(command, dict):
            client.send_json(remark("a command is a JSON object with an op"))
            return
        op, channel = command.get("op"), command.get("channel")
        if op not in ("subscribe", "unsubscribe"):
            client.send_json(remark(f"unknown op: {str(op)[:64]}"))
        elif not isinstance(channel, str) or (channel not in PUBLIC and channel != own):
            client.send_json(remark(f"unknown channel: {str(channel)[:64]}"))
        else:
            if op == "subscribe":
                feed.join(client, channel)
            else:
                feed.leave(client, channel)
            client.send_json({"op": op, "channel": channel})

    connections: Connections = websocket.app.state.connections
    try:
        await serve_client(websocket, client, connections, on_text)
    finally:
        feed.leave_all(client)

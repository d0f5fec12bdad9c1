"""The MtGox feed takes from the bus only what its listeners are shown, and shows them what it would
have shown had it taken everything all along (no sockets: clients' queues are read directly)."""

import json
from typing import Any, cast

from starlette.websockets import WebSocket

from emulator.apis.mtgox.websocket import DEPTH, PUBLIC, TICKER, TRADES, Feed
from emulator.engine import BID, DepthChange, OrderUpdate, Trade
from emulator.market.world import World
from emulator.streaming import Client
from tests.conftest import START


def client() -> Client:
    return Client(cast(WebSocket, None), limit=10**6)


def frames(of: Client) -> list[dict[str, Any]]:
    sent = [json.loads(text) for text in of.queue]
    of.queue.clear()
    return sent


def test_an_idle_feed_costs_the_market_nothing(world: World) -> None:
    feed = Feed(world)
    assert world.bus.listened() == frozenset()
    watcher = client()
    for channel in PUBLIC:
        feed.join(watcher, channel)
    assert world.bus.listened() == {Trade, DepthChange}  # no order updates without a private channel
    feed.leave(watcher, DEPTH)
    assert world.bus.listened() == {Trade}
    feed.leave_all(watcher)
    assert world.bus.listened() == frozenset()


def test_a_private_channel_joined_later_gets_its_own_orders(world: World) -> None:
    feed = Feed(world)
    watcher, owner = client(), client()
    for channel in PUBLIC:
        feed.join(watcher, channel)
    alice = world.directory.user("alice")
    assert alice is not None
    world.place("alice", BID, 10**8, 1_000_000)  # nobody listens to alice's channel yet
    assert world.bus.listened() == {Trade, DepthChange}
    feed.join(owner, alice.channel)
    assert OrderUpdate in world.bus.listened()
    placed = world.place("alice", BID, 2 * 10**8, 1_000_100)
    world.place("alice", BID, 10**8, 10**8)  # crosses the book: fills, each told as an update and a trade
    own = frames(owner)
    assert {f["channel"] for f in own} == {alice.channel} and {f["origin"] for f in own} == {"user"}
    updates = [f["order_upd"] for f in own if f["private"] == "order_upd"]
    assert updates[0]["amount_int"] == str(2 * 10**8) and updates[0]["price_int"] == "1000100"
    assert updates[0]["oid"] == feed.model.oid_of(placed.oid)
    assert any(int(u["amount_int"]) < 0 for u in updates) and any(f["private"] == "trade" for f in own)
    assert not [f for f in frames(watcher) if f["channel"] == alice.channel]
    feed.leave(owner, alice.channel)
    assert OrderUpdate not in world.bus.listened()
    world.place("alice", BID, 10**8, 1_000_200)
    assert frames(owner) == []


def test_a_ticker_listened_to_again_says_what_it_always_would() -> None:
    """Two equal worlds with flow: one feed's ticker is listened to all along, the other's is left
    and joined again; from the join on both send the same frames."""
    worlds = [World(seed=3, start=START, mode="manual") for _ in range(2)]
    feeds = [Feed(world) for world in worlds]
    watchers = [client(), client()]
    for feed, watcher in zip(feeds, watchers, strict=True):
        feed.join(watcher, TRADES)
        feed.join(watcher, TICKER)
    feeds[1].leave(watchers[1], TICKER)
    for world in worlds:
        world.advance(90)
    assert not [f for f in frames(watchers[1]) if f["channel"] == TICKER]
    frames(watchers[0])
    feeds[1].join(watchers[1], TICKER)
    for world in worlds:
        world.advance(240)
    always, again = frames(watchers[0]), frames(watchers[1])
    assert any(f["channel"] == TICKER for f in again)
    assert always == again

"""The bus hands each subscription exactly what publishing every fact on each of its topics one by
one would have given it, in the same order, whatever mix of topics it holds."""

import random
from typing import Any

from emulator.engine import BalanceChange, DepthChange, OrderUpdate, Trade, facts
from emulator.market.bus import Bus
from emulator.market.world import World

TOPIC_SETS = [
    ["trade"],
    ["depth"],
    ["order"],
    ["balance"],
    ["changed"],
    ["trade", "depth", "changed"],
    ["trade", "depth", "order", "changed", "reset"],
    ["user:erin"],
    ["trade", "user:erin", "user:frank"],
    ["balance", "order", "user:frank", "changed"],
]


def one_by_one(bus: Bus, records: list[Any], version: int) -> None:
    """What the world used to do: every fact published on each of its topics."""
    for event in facts(records):
        if isinstance(event, Trade):
            topics = ["trade", f"user:{event.buyer}", f"user:{event.seller}"]
        elif isinstance(event, DepthChange):
            topics = ["depth"]
        elif isinstance(event, OrderUpdate):
            topics = ["order", f"user:{event.user}"]
        else:
            assert isinstance(event, BalanceChange)
            topics = ["balance", f"user:{event.user}"]
        for topic in topics:
            bus.publish(topic, event)
    bus.publish("changed", version)


def twin_worlds(seed: int) -> tuple[World, World, Bus]:
    """Two identical quiet worlds with erin and frank: the first delivers through its bus, the
    second publishes every fact one by one on the returned reference bus."""
    worlds = [World(seed=seed, start=1_310_000_000 * 10**6, mode="manual", flow=False) for _ in range(2)]
    for world in worlds:
        world.add_user("erin", "pw", {"BTC": "100", "USD": "100000"})
        world.add_user("frank", "pw", {"BTC": "100", "USD": "100000"})
    batched, manual = worlds
    reference = Bus()
    manual.bus.deliver = lambda records, trades, version: one_by_one(reference, records, version)  # type: ignore[method-assign]
    return batched, manual, reference


def test_same_messages_in_the_same_order() -> None:
    """Drive two identical worlds; one delivers through the bus, the other's records are published
    fact by fact; every subscription's queue matches."""
    batched, manual, reference = twin_worlds(3)
    worlds = (batched, manual)
    sizes = [10**6] * len(TOPIC_SETS) + [25]  # the last one overflows part-way through a batch
    topic_sets = [*TOPIC_SETS, ["trade", "depth"]]
    ours = [batched.bus.subscribe(topics, maxsize) for topics, maxsize in zip(topic_sets, sizes, strict=True)]
    theirs = [reference.subscribe(topics, maxsize) for topics, maxsize in zip(topic_sets, sizes, strict=True)]
    rng = random.Random(9)
    for _ in range(500):
        user = rng.choice(["erin", "frank"])
        side = rng.choice([1, 2])
        roll = rng.random()
        open_orders = batched.engine.open_orders(user)
        if roll < 0.2 and open_orders:
            oid = rng.choice(open_orders).oid
            for world in worlds:
                world.cancel(user, oid)
        elif roll < 0.25:
            for world in worlds:
                world.deposit(user, "USD", 10**7)
        else:
            price = None if roll > 0.9 else rng.randrange(1_400_000, 1_600_000, 1000)
            amount = rng.randrange(10**6, 10**9)
            for world in worlds:
                world.place(user, side, amount, price)
    drained = []
    for mine, their in zip(ours, theirs, strict=True):
        assert mine.overflowed == their.overflowed
        got, expected = mine.drain(), their.drain()
        assert got == expected, mine.topics
        drained.append(got)
    assert sum(isinstance(message, Trade) for message in drained[0]) > 50
    assert ours[-1].overflowed
    assert batched.wallets == manual.wallets


def test_topics_changed_between_operations() -> None:
    """Subscriptions that gain, lose or drop topics, and ones made late, get from then on what
    publishing every fact on each of their topics would give them; the plan is remade each time."""
    batched, manual, reference = twin_worlds(5)
    worlds = (batched, manual)
    buses = (batched.bus, reference)
    pairs = [tuple(bus.subscribe(topics, 10**6) for bus in buses) for topics in TOPIC_SETS]
    changes = [
        ("add", 0, "depth"),
        ("remove", 5, "trade"),
        ("add", 7, "order"),
        ("close", 3, ""),
        ("new", -1, "depth"),
        ("new", -1, "user:frank"),
        ("remove", 1, "depth"),  # takes nothing from then on
        ("add", 1, "changed"),
        ("remove", 9, "user:frank"),
        ("add", 4, "user:erin"),
    ]
    rng = random.Random(4)
    for step in range(400):
        if step % 40 == 20 and changes:
            what, index, topic = changes.pop(0)
            for side, bus in enumerate(buses):
                if what == "new":
                    pairs.append(tuple(bus.subscribe([topic], 10**6) for bus in buses))
                    break
                subscription = pairs[index][side]
                if what == "add":
                    bus.add_topic(subscription, topic)
                elif what == "remove":
                    bus.remove_topic(subscription, topic)
                else:
                    subscription.close()
        user = rng.choice(["erin", "frank"])
        open_orders = batched.engine.open_orders(user)
        if rng.random() < 0.25 and open_orders:
            oid = rng.choice(open_orders).oid
            for world in worlds:
                world.cancel(user, oid)
        else:
            side, price = rng.choice([1, 2]), rng.randrange(1_400_000, 1_600_000, 1000)
            amount = rng.randrange(10**6, 10**9)
            for world in worlds:
                world.place(user, side, amount, price)
        if step % 7 == 0:  # drained now and then, as a feed is
            for mine, theirs in pairs:
                assert mine.drain() == theirs.drain(), mine.topics
    assert not changes
    for mine, theirs in pairs:
        assert mine.drain() == theirs.drain(), mine.topics
    assert batched.bus.listened() == {Trade, DepthChange, OrderUpdate, BalanceChange}
    for mine, _ in pairs:
        mine.close()
    assert batched.bus.listened() == frozenset()


def test_a_late_depth_subscriber_rebuilds_the_book() -> None:
    """The depth changes given to a subscription made part-way through, applied to the book as it
    was then, give the book as it is."""
    world = World(seed=8, start=1_310_000_000 * 10**6, mode="manual")
    world.advance(120)
    book = world.engine.books["USD"]
    levels = {(side, price): volume for side in (1, 2) for price, volume in book.depth(side)}
    depth = world.bus.subscribe(["depth"], 10**7)
    world.place("alice", 2, 3 * 10**8, None)  # a demo user's market buy, between the flow's steps
    world.advance(300)
    for change in depth.drain():
        assert isinstance(change, DepthChange)
        key = (change.side, change.price)
        levels[key] = levels.get(key, 0) + change.delta
        if not levels[key]:
            del levels[key]
    assert levels == {(side, price): volume for side in (1, 2) for price, volume in book.depth(side)}


def test_wallets_are_the_balance_movements_streamed() -> None:
    """A user's wallet history (kept as SETTLED and MOVE records, made when read) is exactly the
    wallet movements of theirs the `balance` topic streamed, in order."""
    world = World(seed=6, start=1_310_000_000 * 10**6, mode="manual")
    balances = world.bus.subscribe(["balance"], 10**7)
    before = {"alice": len(world.wallets["alice"]), "erin": 0}  # alice's opening deposits
    world.add_user("erin", "pw", {"BTC": "50", "USD": "50000"})
    rng = random.Random(6)
    for _ in range(60):
        world.advance(5)
        for user in ("erin", "alice"):
            side, amount = rng.choice([1, 2]), rng.randrange(10**7, 10**9)
            world.place(user, side, amount, None if rng.random() < 0.5 else rng.randrange(1_300_000, 1_700_000, 1000))
    streamed = balances.drain()
    for user in ("erin", "alice"):
        mine = [change for change in streamed if change.user == user]
        assert len(mine) > 20
        assert list(world.wallets[user])[before[user] :] == mine

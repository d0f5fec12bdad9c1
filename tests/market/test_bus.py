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


def test_same_messages_in_the_same_order() -> None:
    """Drive two identical worlds; one delivers through the bus, the other's records are published
    fact by fact; every subscription's queue matches."""
    worlds = [World(seed=3, start=1_310_000_000 * 10**6, mode="manual", flow=False) for _ in range(2)]
    for world in worlds:
        world.add_user("erin", "pw", {"BTC": "100", "USD": "100000"})
        world.add_user("frank", "pw", {"BTC": "100", "USD": "100000"})
    batched, manual = worlds
    reference = Bus()
    manual.bus.deliver = lambda records, trades, version: one_by_one(reference, records, version)  # type: ignore[method-assign]
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

"""Same seed and same clock steps give the same market; snapshots continue exactly."""

import hashlib
import json
from dataclasses import asdict
from typing import Any

from emulator.market.world import World
from tests.conftest import START

TOPICS = ("trade", "depth", "order", "balance")


def record(world: World) -> Any:
    return world.bus.subscribe(TOPICS, maxsize=10**7)


def digest(events: list[Any]) -> str:
    lines = [type(e).__name__ + json.dumps(asdict(e), sort_keys=True) for e in events]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def run(seed: int, steps: list[float]) -> tuple[str, int]:
    world = World(seed=seed, start=START, mode="manual")
    feed = record(world)
    for seconds in steps:
        world.advance(seconds)
    events = feed.drain()
    return digest(events), len(events)


def test_same_seed_and_steps_give_identical_event_streams() -> None:
    steps = [1, 30, 0.5, 600, 7.25]
    first, count = run(11, steps)
    again, _ = run(11, steps)
    assert count > 100, "ten minutes of market should produce plenty of events"
    assert first == again


def test_a_different_seed_gives_a_different_market() -> None:
    assert run(11, [600])[0] != run(12, [600])[0]


def test_events_do_not_depend_on_how_time_was_sliced() -> None:
    assert run(5, [600])[0] == run(5, [100] * 6)[0]


def test_a_fresh_world_has_a_day_of_trades_and_a_full_book(world: World) -> None:
    book = world.engine.books["USD"]
    stats = world.trades.stats(world.now)
    assert len(book.bids) >= 200 and len(book.asks) >= 200
    assert stats.last is not None and 14 * 10**5 <= stats.last <= 17 * 10**5
    assert stats.volume >= 10_000 * 10**8, "24 h volume in the tens of thousands of BTC"
    assert world.trades.trades[0].date >= START - 86_400 * 10**6


def test_the_history_is_the_same_whenever_it_is_made() -> None:
    """The day before the start is made on the log's first use: at once, or after an hour of flow."""
    early, late = World(seed=3, start=START, mode="manual"), World(seed=3, start=START, mode="manual")
    early_history = list(early.trades.trades)
    late.sync()  # running the timers that are due does not make it
    assert late._history is not None
    late.advance(3600)
    late_trades = late.trades.trades
    assert late_trades[: len(early_history)] == early_history
    assert all(t.date < START for t in early_history) and late_trades[len(early_history)].date >= START
    early.advance(3600)
    assert early.trades.trades == late_trades


def test_snapshot_restore_continue_matches_never_stopping() -> None:
    straight = World(seed=3, start=START, mode="manual")
    straight.advance(120)
    feed = record(straight)
    straight.advance(300)
    expected = digest(feed.drain())

    paused = World(seed=3, start=START, mode="manual")
    paused.advance(120)
    saved = json.loads(json.dumps(paused.snapshot()))
    resumed = World(seed=99, start=START, mode="manual")
    resumed.restore(saved)
    feed = record(resumed)
    resumed.advance(300)
    assert digest(feed.drain()) == expected
    assert json.dumps(resumed.snapshot()) == json.dumps(straight.snapshot())


def test_snapshot_of_a_restored_world_is_byte_identical(world: World) -> None:
    world.advance(60)
    first = json.dumps(world.snapshot())
    other = World(seed=1, start=START, mode="manual")
    other.restore(json.loads(first))
    assert json.dumps(other.snapshot()) == first


def test_reset_returns_to_the_seeded_start(world: World) -> None:
    fresh = json.dumps(world.snapshot())
    world.advance(300)
    world.reset(start=START)
    assert json.dumps(world.snapshot()) == fresh


def test_funds_are_conserved_by_a_day_of_flow(world: World) -> None:
    before = world.engine.ledger.totals()
    deposits = world.bus.subscribe(["balance"], maxsize=10**7)
    world.advance(3600)
    added: dict[str, int] = {}
    for change in deposits.drain():
        if change.kind in ("deposit", "withdraw"):
            added[change.currency] = added.get(change.currency, 0) + change.delta
    after = world.engine.ledger.totals()
    for currency in after:
        assert after[currency] == before.get(currency, 0) + added.get(currency, 0)

"""Scenario files: validation with clear errors, and each shipped scenario doing what it says."""

import pytest

from emulator.engine.units import FIAT_SCALE
from emulator.market.scenario import ScenarioError, load, parse, shipped_names
from emulator.market.world import World
from tests.conftest import START

SHIPPED = [
    "steady",
    "flash-crash-2011-06-19",
    "thin-book",
    "volatile",
    "exchange-outage",
    "rate-limit-storm",
    "maintenance-503",
]


def test_the_shipped_scenarios_are_all_there_and_documented() -> None:
    assert set(SHIPPED) <= set(shipped_names())
    for name in SHIPPED:
        story = load(name)
        assert story.name == name and story.description


def test_errors_name_the_file_line_and_field() -> None:
    text = (
        "name: broken\ntimeline:\n  - at: 10m\n    price: {target: nope}\n"
        "  - at: 1m\n    flow: true\n    trade: {price: 1, amount: 1}\n"
    )
    with pytest.raises(ScenarioError) as error:
        parse(text, "broken.yaml")
    message = str(error.value)
    assert "broken.yaml:4: timeline.0.price.target" in message
    assert "broken.yaml:5: timeline.1" in message and "exactly one action" in message
    with pytest.raises(ScenarioError, match=r"broken.yaml:2: .*not valid YAML"):
        parse("name: x\n  - : [", "broken.yaml")
    with pytest.raises(ScenarioError, match=r":1: market.levels"):
        parse("market: {levels: -5}\nname: x\n", "f.yaml")
    with pytest.raises(ScenarioError, match="no scenario 'nonesuch'"):
        load("nonesuch")


def last_price(world: World) -> float:
    trade = world.trades.last()
    assert trade is not None
    return trade.price / FIAT_SCALE


def test_flash_crash_falls_to_a_cent_and_comes_back() -> None:
    world = World(scenario=load("flash-crash-2011-06-19"), mode="manual")
    assert world.seed == 19
    world.advance(49 * 60)
    assert 16 < last_price(world) < 19
    world.advance(7 * 60)
    assert last_price(world) <= 0.02
    lowest = min(t.price for t in world.trades.between(world.now - 6 * 60 * 10**6, world.now))
    assert lowest <= 0.01 * FIAT_SCALE
    world.advance(30 * 60)
    assert last_price(world) > 15


def test_thin_book_is_thin_and_volatile_moves_more_than_steady() -> None:
    thin = World(scenario=load("thin-book"), start=START, mode="manual")
    steady = World(scenario=load("steady"), start=START, mode="manual")
    assert len(thin.engine.books["USD"].bids) < 40 < len(steady.engine.books["USD"].bids)
    volatile = World(scenario=load("volatile"), start=START, mode="manual")
    volatile.advance(16 * 60)
    assert last_price(volatile) > 17.5, "the scripted rise to $18.50"
    volatile.advance(15 * 60)
    assert last_price(volatile) < 12.8, "the scripted slide to $12"


def test_exchange_outage_marks_exchanges_and_brings_them_back() -> None:
    world = World(scenario=load("exchange-outage"), start=START, mode="manual")
    world.advance(6 * 60 + 1)
    assert world.exchange_status["bitstamp"]["status"] == "inactive"
    assert world.exchange_status["kraken"]["status"] == "inactive"
    world.advance(25 * 60)
    assert world.exchange_status["bitstamp"]["status"] == "active"


def test_disconnect_and_order_steps() -> None:
    story = parse(
        "name: t\ntimeline:\n  - at: 5\n    disconnect: mtgox\n"
        "  - at: 6\n    order: {user: alice, side: sell, amount: '2', price: '99'}\n",
    )
    world = World(scenario=story, start=START, mode="manual", flow=False)
    heard = world.bus.subscribe(["disconnect"])
    world.advance(10)
    assert heard.drain() == ["mtgox"]
    (order,) = world.engine.open_orders("alice")
    assert order.price == 99 * FIAT_SCALE and world.scenario_done == 2


def test_scenario_worlds_are_deterministic_and_survive_snapshots() -> None:
    story = load("volatile")
    one = World(scenario=story, start=START, mode="manual")
    one.advance(11 * 60)
    saved = one.snapshot()
    two = World(start=START, mode="manual")
    two.restore(saved)
    one.advance(5 * 60)
    two.advance(5 * 60)
    assert one.snapshot() == two.snapshot()


def test_stop_drops_the_remaining_steps() -> None:
    world = World(scenario=load("exchange-outage"), start=START, mode="manual")
    world.advance(5 * 60 + 1)
    world.stop_scenario()
    world.advance(30 * 60)
    assert "kraken" not in world.exchange_status and world.scenario_done == 1

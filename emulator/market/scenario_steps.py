"""What each scenario step does to a world."""

from typing import TYPE_CHECKING

from emulator.engine import ASK, BID
from emulator.engine.units import BTC_SCALE, FIAT_SCALE, MICROS, parse_units
from emulator.faults.rules import faults_of

if TYPE_CHECKING:  # the world runs steps without loading the scenario schema for it
    from emulator.market.scenario import Step
    from emulator.market.world import World

SCENARIO_USER = "scenario"
SCENARIO_TAKER = "scenario-taker"
FUNDS = {"BTC": 1_000_000 * BTC_SCALE, "USD": 100_000_000 * FIAT_SCALE}


def _funded(world: "World", user: str | None) -> str:
    """The acting user: a named one must exist; the scenario's own accounts are made rich on first use."""
    if user is not None:
        found = world.directory.user(user)
        if found is None:
            raise ValueError(f"scenario names unknown user {user!r}")
        return found.name
    return SCENARIO_USER


def _ensure_scenario_accounts(world: "World") -> None:
    for name in (SCENARIO_USER, SCENARIO_TAKER):
        if name not in world.engine.ledger.accounts:
            world.engine.set_fee(name, 0)
            for currency, amount in FUNDS.items():
                world.deposit(name, currency, amount)


def run_step(world: "World", step: "Step") -> None:
    action = step.action
    if action == "price" and step.price is not None:
        move = step.price
        world.flow.move_price(world.now, float(move.target), int(move.over * MICROS), move.shape)
    elif action == "flow" and step.flow is not None:
        world.flow.enabled = step.flow
    elif action == "burst" and step.burst is not None:
        _ensure_scenario_accounts(world)
        burst = step.burst
        user = _funded(world, burst.user)
        side = BID if burst.side == "buy" else ASK
        amount = parse_units(burst.amount, BTC_SCALE)
        low, high = parse_units(burst.from_, FIAT_SCALE), parse_units(burst.to, FIAT_SCALE)
        for i in range(burst.count):
            price = low + (high - low) * i // max(burst.count - 1, 1)
            world.place(user, side, amount, max(price, 1))
    elif action == "trade" and step.trade is not None:
        _ensure_scenario_accounts(world)
        price = parse_units(step.trade.price, FIAT_SCALE)
        amount = parse_units(step.trade.amount, BTC_SCALE)
        world.place(SCENARIO_USER, ASK, amount, price)
        world.place(SCENARIO_TAKER, BID, amount, price)
    elif action == "order" and step.order is not None:
        _ensure_scenario_accounts(world)
        order = step.order
        limit = parse_units(order.price, FIAT_SCALE) if order.price else None
        side = BID if order.side == "buy" else ASK
        world.place(_funded(world, order.user), side, parse_units(order.amount, BTC_SCALE), limit)
    elif action == "fault" and step.fault is not None:
        faults_of(world).add(dict(step.fault))
    elif action == "clear_faults":
        faults_of(world).clear()
    elif action == "key" and step.key is not None:
        key = world.directory.average_keys.get(step.key.public_key or "")
        if key is not None:
            key.plan = step.key.plan
        else:
            world.directory.add_average_key(step.key.plan, world.rng, step.key.public_key)
    elif action == "disconnect" and step.disconnect is not None:
        world.bus.publish("disconnect", step.disconnect)
    elif action == "exchange" and step.exchange is not None:
        change = step.exchange
        world.exchange_status[change.name] = {"status": change.status, "reason": change.reason, "since": world.now}
        world.bus.publish("exchange", change.name)

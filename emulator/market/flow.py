"""Seeded random order flow: a mid-2011 MtGox day by default.

A handful of market-making agents trade around a slowly wandering fair price: passive limit orders
build a book of a few hundred levels a side, about a third of limit orders cross, cancels keep the
book from growing without bound and market orders take liquidity. With one arrival per second of
market time this gives a trade every few seconds and a daily volume in the tens of thousands of BTC.
"""

import math
import random
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from emulator.engine import ASK, BID, Trade
from emulator.engine.units import BTC_SCALE, FIAT_SCALE, MICROS

if TYPE_CHECKING:
    from emulator.market.world import World

PRICE_TICK = 100  # agents quote in tenths of a cent
AGENT_BTC = 20_000 * BTC_SCALE
AGENT_USD = 400_000 * FIAT_SCALE


def _round_price(price: float) -> int:
    return max(PRICE_TICK, round(price * FIAT_SCALE / PRICE_TICK) * PRICE_TICK)


def _clear_the_way(world: "World", agent: str, side: int, price: int) -> None:
    """Cancel the agent's own orders on the other side that an order at `price` would reach. An order
    that meets its owner's order stops matching there and rests crossing the book (the engine's MtGox
    rule); a trader pulls its own quotes first, and the seeded market should not look crossed."""
    opposite = world.engine.books["USD"].side(ASK if side == BID else BID)
    levels = opposite.levels
    mine: list[int] = []
    for key in reversed(opposite.keys):  # best first, and only as far as the limit reaches
        level = levels[key]
        if level.price > price if side == BID else level.price < price:
            break
        mine.extend(order.oid for order in level.orders.values() if order.user == agent)
    for oid in mine:
        world.cancel(agent, oid)


def _amount(rng: random.Random) -> int:
    """An order or trade size in satoshis: log-normal around 1 BTC, 0.01 to 500 BTC."""
    btc = min(rng.lognormvariate(0.0, 1.0), 500.0)
    return max(10**6, int(btc * 10**5) * 1000)


@lru_cache(maxsize=4)
def seeded_history(seed: int, start: int, fair: float) -> tuple[Trade, ...]:
    """A day of trades ending at `start` at the price `fair`: a random walk bent into a bridge.

    It draws from its own stream of the seed and reads nothing of a world, so it is kept by its whole
    input (see market.memo): every world of a seed and start, each tenant's and each reset's, makes
    the same day, and making it was most of what a fresh world's first answer cost. Trades are frozen,
    so the worlds can share them.
    """
    rng = random.Random(f"history:{seed}")
    times = []
    t = start - 86_400 * MICROS
    while True:
        t += int(rng.expovariate(1 / 3.0) * MICROS) + 1
        if t >= start:
            break
        times.append(t)
    walk = [0.0]
    for _ in times[1:]:
        walk.append(walk[-1] + rng.gauss(0, 0.0006))
    drift = walk[-1] if walk else 0.0
    n = max(len(times) - 1, 1)
    trades = []
    for i, when in enumerate(times):
        price = fair * math.exp(walk[i] - drift * i / n)
        amount = _amount(rng)
        side = BID if rng.random() < 0.5 else ASK
        price_units = round(price * FIAT_SCALE / 10) * 10
        # the tid is the trade's time in microseconds, as every 2011 tid was; the times grow
        # strictly, so the tids are unique and sort with the live ones the engine gives later
        trades.append(Trade(when, when, "USD", price_units, amount, side, 0, 0, "", ""))
    return tuple(trades)


class RandomFlow:
    """The agents. A scenario can set the opening price, the book's size, the arrival rate and the
    volatility, and move the fair price along a path; while a path is being followed, some arrivals
    sweep the book toward it, so trades really travel with the price."""

    def __init__(
        self,
        seed: int,
        enabled: bool = True,
        price: float | None = None,
        levels: int = 450,
        interval: float = 1.0,
        volatility: float = 0.0002,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(f"flow:{seed}")
        self.enabled = enabled
        drawn = self.rng.uniform(14.5, 16.5)
        self.anchor = price if price is not None else drawn
        self.fair = self.anchor
        self.levels = levels  # opening orders per side
        self.book_target = 2 * levels  # resting orders the agents aim to keep
        self.mean_interval = interval  # seconds of market time between arrivals
        self.volatility = volatility  # of log price, per square root of a second
        self.path: list[Any] | None = None  # [t0, p0, t1, p1, shape] while the price is being moved
        self.agents = [f"agent-{i:02d}" for i in range(12)]
        self.passive = False  # a tape plays (market.tape): the agents quote and cancel, never trade

    def move_price(self, now: int, target: float, over: int, shape: str) -> None:
        """Move the fair price to `target` over `over` µs of market time (linear, exponential or step)."""
        self.path = [now, self.fair, now + max(over, 0), target, shape]

    def _follow_path(self, now: int) -> bool:
        if self.path is None:
            return False
        t0, p0, t1, p1, shape = self.path
        if now >= t1 or shape == "step":
            self.fair = p1
        else:
            done = (now - t0) / (t1 - t0)
            self.fair = p0 * (p1 / p0) ** done if shape == "exponential" else p0 + (p1 - p0) * done
        self.anchor = self.fair
        if now >= t1 + 60 * MICROS:  # keep sweeping for a minute after arriving, then let it be
            self.path = None
        return True

    # -- the day before the world starts ----------------------------------------------------

    def prime(self, world: "World") -> None:
        """Give the agents funds and (when enabled) lay out the opening book. The day of trades before
        the start comes from `history`, which the world runs when its trade log is first used."""
        start = world.now
        for agent in self.agents:
            world.engine.deposit(agent, "BTC", AGENT_BTC, start)
            world.engine.deposit(agent, "USD", AGENT_USD, start)
        world.engine.drain()
        rng = self.rng
        for side in (BID, ASK) if self.enabled else ():
            for _ in range(self.levels):
                offset = 0.001 + min(rng.expovariate(1 / 0.04), 0.45)
                price = self.fair * (1 - offset if side == BID else 1 + offset)
                world.engine.place(rng.choice(self.agents), side, _amount(rng), _round_price(price), start)
        world.engine.drain()

    def history(self, start: int, fair: float) -> list[Trade]:
        """A day of trades ending at `start` at the price `fair` (see `seeded_history`)."""
        return list(seeded_history(self.seed, start, fair))

    # -- live flow --------------------------------------------------------------------------

    def step(self, world: "World", now: int) -> int:
        """Play one arrival at `now`; return when the next one is due."""
        rng = self.rng
        dt = rng.expovariate(1 / self.mean_interval)
        drift = -0.0001 * math.log(self.fair / self.anchor)
        shock = rng.gauss(0, self.volatility * math.sqrt(dt))
        moving = not self.passive and self._follow_path(now)
        if not moving:
            self.fair *= math.exp(drift * dt + shock)
        if self.enabled:
            if self.passive:
                self._quote(world)
            elif moving and rng.random() < 0.5:
                self._sweep(world)
            else:
                self._act(world)
        return now + max(1, int(dt * MICROS))

    def _sweep(self, world: "World") -> None:
        """Take liquidity toward the fair price: the way a price path becomes real trades."""
        last = world.trades.last()
        target = _round_price(self.fair)
        if last is None or abs(last.price - target) <= target * 0.002:
            return
        side = ASK if last.price > target else BID
        agent = self.rng.choice(self.agents)
        self._top_up(world, agent)
        _clear_the_way(world, agent, side, target)
        world.place(agent, side, _amount(self.rng) * 5, target)

    def _act(self, world: "World") -> None:
        rng = self.rng
        book = world.engine.books["USD"]
        bid, ask = book.best_bid(), book.best_ask()
        mid = ((bid + ask) / 2 / FIAT_SCALE) if bid and ask else self.fair
        agent = rng.choice(self.agents)
        self._top_up(world, agent)
        roll = rng.random()
        fullness = len(world.engine.orders) / self.book_target
        if 0.6 <= roll < 0.9 and rng.random() > fullness * fullness:
            roll = 0.0  # a thin book draws liquidity providers instead of cancels
        if roll < 0.6 and fullness < 1.2:
            lean = max(-0.2, min(0.2, (self.fair - mid) / mid * 20))
            side = BID if rng.random() < 0.5 + lean else ASK
            if rng.random() < 1 / 3:
                far = (ask if side == BID else bid) or _round_price(mid)
                through = rng.uniform(0, 0.004)
                price = far / FIAT_SCALE * (1 + through if side == BID else 1 - through)
            else:
                offset = 0.0005 + min(rng.expovariate(1 / 0.03), 0.45)
                price = mid * (1 - offset if side == BID else 1 + offset)
            limit = _round_price(price)
            _clear_the_way(world, agent, side, limit)
            world.place(agent, side, _amount(self.rng), limit)
        elif roll < 0.9 or fullness >= 1.2:
            mine = world.engine.open_orders(agent)
            if mine:
                world.cancel(agent, mine[rng.randrange(len(mine))].oid)
        else:
            side = BID if rng.random() < 0.5 else ASK
            world.place(agent, side, _amount(self.rng) // 2 or 10**6, None)

    def requote(self, side: int, price: float) -> int:
        """A passive price for an order moved out of a tape trade's way, on its side of `price`."""
        offset = 0.0005 + min(self.rng.expovariate(1 / 0.03), 0.45)
        return _round_price(price * (1 - offset if side == BID else 1 + offset))

    def _quote(self, world: "World") -> None:
        """While a tape plays: a passive order around the tape's price (never crossing), or a cancel."""
        rng = self.rng
        agent = rng.choice(self.agents)
        self._top_up(world, agent)
        fullness = len(world.engine.orders) / self.book_target
        if rng.random() < (0.75 if fullness < 1 else 0.25):
            side = BID if rng.random() < 0.5 else ASK
            limit = self.requote(side, self.fair)
            book = world.engine.books["USD"]
            bid, ask = book.best_bid(), book.best_ask()
            if side == BID and ask is not None and limit >= ask:
                limit = ask - PRICE_TICK
            elif side == ASK and bid is not None and limit <= bid:
                limit = bid + PRICE_TICK
            if limit > 0:
                world.place(agent, side, _amount(rng), limit)
        else:
            mine = world.engine.open_orders(agent)
            if mine:
                world.cancel(agent, mine[rng.randrange(len(mine))].oid)

    def _top_up(self, world: "World", agent: str) -> None:
        account = world.engine.ledger.accounts[agent]
        if account.available("BTC") < AGENT_BTC // 4:
            world.deposit(agent, "BTC", AGENT_BTC // 2)
        if account.available("USD") < AGENT_USD // 4:
            world.deposit(agent, "USD", AGENT_USD // 2)

    # -- snapshot ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        version, state, gauss = self.rng.getstate()
        return {
            "rng": [version, list(state), gauss],
            "enabled": self.enabled,
            "anchor": self.anchor,
            "fair": self.fair,
            "agents": self.agents,
            "levels": self.levels,
            "interval": self.mean_interval,
            "volatility": self.volatility,
            "path": self.path,
        }

    def restore(self, state: dict[str, Any]) -> None:
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self.enabled = state["enabled"]
        self.anchor = state["anchor"]
        self.fair = state["fair"]
        self.agents = list(state["agents"])
        self.levels = state["levels"]
        self.book_target = 2 * self.levels
        self.mean_interval = state["interval"]
        self.volatility = state["volatility"]
        self.path = state["path"]

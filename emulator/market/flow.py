"""Seeded random order flow: a mid-2011 MtGox day by default.

A handful of market-making agents trade around a slowly wandering fair price: passive limit orders
build a book of a few hundred levels a side, about a third of limit orders cross, cancels keep the
book from growing without bound and market orders take liquidity. With one arrival per second of
market time this gives a trade every few seconds and a daily volume in the tens of thousands of BTC.
"""

import math
import random
from typing import TYPE_CHECKING, Any

from emulator.engine import ASK, BID, Trade
from emulator.engine.units import BTC_SCALE, FIAT_SCALE

if TYPE_CHECKING:
    from emulator.market.world import World

MICROS = 1_000_000
PRICE_TICK = 100  # agents quote in tenths of a cent
AGENT_BTC = 20_000 * BTC_SCALE
AGENT_USD = 400_000 * FIAT_SCALE


def _round_price(price: float) -> int:
    return max(PRICE_TICK, round(price * FIAT_SCALE / PRICE_TICK) * PRICE_TICK)


class RandomFlow:
    mean_interval = 1.0  # seconds of market time between arrivals
    book_target = 900  # resting orders the agents aim to keep
    volatility = 0.0002  # of log price, per square root of a second

    def __init__(self, seed: int, enabled: bool = True) -> None:
        self.rng = random.Random(f"flow:{seed}")
        self.enabled = enabled
        self.anchor = self.rng.uniform(14.5, 16.5)
        self.fair = self.anchor
        self.agents = [f"agent-{i:02d}" for i in range(12)]

    # -- the day before the world starts ----------------------------------------------------

    def prime(self, world: "World") -> None:
        """Give the agents funds, seed 24 h of trade history, and (when enabled) lay out the opening book."""
        start = world.now
        for agent in self.agents:
            world.engine.deposit(agent, "BTC", AGENT_BTC, start)
            world.engine.deposit(agent, "USD", AGENT_USD, start)
        world.engine.drain()
        world.trades.extend(self._history(start))
        rng = self.rng
        for side in (BID, ASK) if self.enabled else ():
            for _ in range(450):
                offset = 0.001 + min(rng.expovariate(1 / 0.04), 0.45)
                price = self.fair * (1 - offset if side == BID else 1 + offset)
                world.engine.place(rng.choice(self.agents), side, self._amount(), _round_price(price), start)
        world.engine.drain()

    def _history(self, start: int) -> list[Trade]:
        """A day of trades ending at the fair price: a random walk bent into a bridge to `fair`."""
        rng = self.rng
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
            price = self.fair * math.exp(walk[i] - drift * i / n)
            amount = self._amount()
            side = BID if rng.random() < 0.5 else ASK
            trades.append(Trade(i + 1, when, "USD", round(price * FIAT_SCALE / 10) * 10, amount, side, 0, 0, "", ""))
        return trades

    def _amount(self) -> int:
        btc = min(self.rng.lognormvariate(0.0, 1.0), 500.0)
        return max(10**6, int(btc * 10**5) * 1000)

    # -- live flow --------------------------------------------------------------------------

    def step(self, world: "World", now: int) -> int:
        """Play one arrival at `now`; return when the next one is due."""
        rng = self.rng
        dt = rng.expovariate(1 / self.mean_interval)
        drift = -0.0001 * math.log(self.fair / self.anchor)
        self.fair *= math.exp(drift * dt + rng.gauss(0, self.volatility * math.sqrt(dt)))
        if self.enabled:
            self._act(world)
        return now + max(1, int(dt * MICROS))

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
            world.place(agent, side, self._amount(), _round_price(price))
        elif roll < 0.9 or fullness >= 1.2:
            mine = world.engine.by_user.get(agent)
            if mine:
                oids = list(mine)
                world.cancel(agent, oids[rng.randrange(len(oids))])
        else:
            side = BID if rng.random() < 0.5 else ASK
            world.place(agent, side, self._amount() // 2 or 10**6, None)

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
        }

    def restore(self, state: dict[str, Any]) -> None:
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self.enabled = state["enabled"]
        self.anchor = state["anchor"]
        self.fair = state["fair"]
        self.agents = list(state["agents"])

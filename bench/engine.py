"""Mixed-flow throughput of the matching engine against a bare SortedDict + deque book.

    python bench/engine.py [--ops 300000] [--seed 7] [--repeat 3]

One deterministic list of operations is generated up front (60% limit orders of which about a
third cross the spread, 30% cancels of live orders, 10% market orders) and both contenders run
exactly that list in this process. The engine runs with its ledger (holds, fees, status-2 waiting
orders, the stop at its owner's own order) and its event records on, drained after every operation as the world
does: one record per resting order, cancel or trade (a FILL carries the trade, both remainders and
every wallet movement's resulting balance), which emulator.engine.facts expands into the
Trade/OrderUpdate/BalanceChange/DepthChange facts the world publishes (that expansion is the
world's work and is not timed here). The bare book is price-time matching and nothing else: no
users, no funds, no events.

The final line gives both rates and their ratio. Target: >= 300,000 ops/s and a ratio >= 0.5.
"""

import argparse
import gc
import math
import random
import time
from collections import deque
from collections.abc import Sequence

from sortedcontainers import SortedDict

from emulator.engine import ASK, BID, MatchingEngine
from emulator.market.world import World

LIMIT, CANCEL, MARKET = 0, 1, 2
FAIR = 1_500_000  # 15.00 USD in 1e-5 units
TICK = 100  # prices in tenths of a cent
USERS = [f"user{i}" for i in range(12)]
USER_BTC = 10**9 * 10**8  # ample: no order is ever short of funds
USER_USD = 10**10 * 10**5
OPENING = 2_000  # orders placed before the clock starts, so the book has depth
BOOK_FLOOR = 1_000
STEP = 1_000  # microseconds of market time per operation
TARGET_RATE = 300_000
TARGET_RATIO = 0.5
TARGET_WORLD_RATIO = 0.4

# (kind, user index, side, amount, price, ref): ref is the index of the operation that placed the
# order a cancel is aimed at; each contender maps it to its own oid.
Op = tuple[int, int, int, int, int, int]


class BareBook:
    """The fast baseline: per side a SortedDict of price -> deque of [oid, amount], plus
    oid -> (side, price) for cancels. Cancelled entries are zeroed and skipped lazily."""

    def __init__(self) -> None:
        self.asks: SortedDict = SortedDict()  # price -> deque
        self.bids: SortedDict = SortedDict()  # -price -> deque
        self.index: dict[int, list[int]] = {}  # oid -> the [oid, amount] entry in its queue
        self.next_oid = 1

    def limit(self, side: int, amount: int, price: int) -> int:
        oid = self.next_oid
        self.next_oid = oid + 1
        if side == BID:
            amount = self._take(self.asks, amount, price, 1)
            if amount:
                self._rest(self.bids, -price, oid, amount)
        else:
            amount = self._take(self.bids, amount, -price, 1)
            if amount:
                self._rest(self.asks, price, oid, amount)
        return oid

    def market(self, side: int, amount: int) -> None:
        self._take(self.asks if side == BID else self.bids, amount, 0, 0)

    def cancel(self, oid: int) -> bool:
        entry = self.index.pop(oid, None)
        if entry is None:
            return False
        entry[1] = 0
        return True

    def _rest(self, levels: SortedDict, key: int, oid: int, amount: int) -> None:
        queue = levels.get(key)
        if queue is None:
            queue = levels[key] = deque()
        entry = [oid, amount]
        queue.append(entry)
        self.index[oid] = entry

    def _take(self, levels: SortedDict, amount: int, limit: int, limited: int) -> int:
        """Match against `levels` (keys ascending, best first) up to key `limit` when limited."""
        index = self.index
        while amount and levels:
            key, queue = levels.peekitem(0)
            if limited and key > limit:
                break
            while queue and amount:
                entry = queue[0]
                size = entry[1]
                if size == 0:
                    queue.popleft()
                    continue
                if size <= amount:
                    amount -= size
                    queue.popleft()
                    del index[entry[0]]
                else:
                    entry[1] = size - amount
                    amount = 0
            if not queue:
                del levels[key]
        return amount

    def best(self, side: int) -> int | None:
        """Best live price of one side (not timed: used while generating operations)."""
        levels = self.asks if side == ASK else self.bids
        while levels:
            key, queue = levels.peekitem(0)
            while queue and queue[0][1] == 0:
                queue.popleft()
            if queue:
                return int(abs(key))
            del levels[key]
        return None


def generate(count: int, seed: int) -> tuple[list[Op], int]:
    """OPENING untimed orders, then `count` timed operations, shaped by a reference book so that
    cancels aim at live orders; a book thinner than BOOK_FLOOR draws an order instead of a cancel."""
    rng = random.Random(seed)
    book = BareBook()
    live: list[tuple[int, int, int]] = []  # (op index, oid, user) of orders that may rest
    ops: list[Op] = []

    def amount() -> int:
        return max(10**6, int(min(rng.lognormvariate(0.0, 1.0), 500.0) * 10**5) * 1000)

    def rounded(price: float) -> int:
        return max(TICK, round(price / TICK) * TICK)

    def pick_live() -> tuple[int, int] | None:
        """(op index, owner) of a random order still resting in the reference book, cancelled there."""
        while live:
            j = rng.randrange(len(live))
            ref, oid, owner = live[j]
            live[j] = live[-1]
            live.pop()
            if book.cancel(oid):
                return ref, owner
        return None

    for i in range(OPENING + count):
        user = rng.randrange(len(USERS))
        roll = 0.5 if i < OPENING else rng.random()
        crossing = i >= OPENING and rng.random() < 1 / 3
        if roll < 0.3 and len(book.index) >= BOOK_FLOOR:
            target = pick_live()
            if target is not None:
                ops.append((CANCEL, target[1], 0, 0, 0, target[0]))
                continue
            roll = 0.5  # nothing to cancel: place an order instead
        bid, ask = book.best(BID), book.best(ASK)
        mid = (bid + ask) / 2 if bid and ask else float(bid or ask or FAIR)
        if roll < 0.9:
            lean = max(-0.2, min(0.2, (FAIR - mid) / mid * 20))
            side = BID if rng.random() < 0.5 + lean else ASK
            if crossing:  # cross the spread by up to 0.4%, as the flow does
                far = (ask if side == BID else bid) or mid
                through = rng.uniform(0, 0.004)
                price = rounded(far * (1 + through if side == BID else 1 - through))
            else:
                offset = 0.0005 + min(rng.expovariate(1 / 0.03), 0.45)
                price = rounded(mid * (1 - offset if side == BID else 1 + offset))
            size = amount()
            oid = book.limit(side, size, price)
            if oid in book.index:
                live.append((i, oid, user))
            ops.append((LIMIT, user, side, size, price, -1))
        else:
            side = BID if rng.random() < 0.5 else ASK
            size = amount() // 2 or 10**6
            book.market(side, size)
            ops.append((MARKET, user, side, size, 0, -1))
    return ops, len(book.index)


def run_bare(ops: Sequence[Op]) -> float:
    book = BareBook()
    oids = [0] * len(ops)
    for i, (_kind, _user, side, amount, price, _ref) in enumerate(ops[:OPENING]):
        oids[i] = book.limit(side, amount, price)
    limit, market, cancel = book.limit, book.market, book.cancel
    gc.collect()
    start = time.perf_counter()
    for i, (kind, _user, side, amount, price, ref) in enumerate(ops[OPENING:], OPENING):
        if kind == LIMIT:
            oids[i] = limit(side, amount, price)
        elif kind == CANCEL:
            cancel(oids[ref])
        else:
            market(side, amount)
    return time.perf_counter() - start


def run_engine(ops: Sequence[Op]) -> tuple[float, int]:
    engine = MatchingEngine()
    for name in USERS:
        engine.deposit(name, "BTC", USER_BTC, 0)
        engine.deposit(name, "USD", USER_USD, 0)
    engine.drain()
    oids = [0] * len(ops)
    names = USERS
    now = 1_000_000
    for i, (_kind, user, side, amount, price, _ref) in enumerate(ops[:OPENING]):
        oids[i] = engine.place(names[user], side, amount, price, now).oid
    engine.drain()
    place, cancel, drain = engine.place, engine.cancel, engine.drain
    events = 0
    gc.collect()
    start = time.perf_counter()
    for i, (kind, user, side, amount, price, ref) in enumerate(ops[OPENING:], OPENING):
        now += STEP
        if kind == LIMIT:
            oids[i] = place(names[user], side, amount, price, now).oid
        elif kind == CANCEL:
            cancel(names[user], oids[ref], now)
        else:
            place(names[user], side, amount, None, now)
        events += len(drain())
    return time.perf_counter() - start, events


def run_world(ops: Sequence[Op]) -> float:
    """The same operations placed through `World` (flow off, manual clock): the engine, the facts the
    world keeps (trade log, wallets) and the bus, with one trade and one depth subscriber drained
    after every operation as a websocket feed is."""
    world = World(seed=7, start=1_300_000_000 * 10**6, mode="manual", flow=False)
    names = [f"bench{i}" for i in range(len(USERS))]
    for name in names:
        world.add_user(name, "pw", {"BTC": str(USER_BTC // 10**8), "USD": str(USER_USD // 10**5)})
    trades = world.bus.subscribe(["trade"], maxsize=10**9)
    depth = world.bus.subscribe(["depth"], maxsize=10**9)
    oids = [0] * len(ops)
    for i, (_kind, user, side, amount, price, _ref) in enumerate(ops[:OPENING]):
        oids[i] = world.place(names[user], side, amount, price).oid
    trades.drain()
    depth.drain()
    assert world.trades is not None  # the day of history is made on first use: make it before the clock starts
    place, cancel = world.place, world.cancel
    now = world.now
    gc.collect()
    gc.freeze()  # as `serve` does once it is up: the built world is not scanned by every collection
    start = time.perf_counter()
    for i, (kind, user, side, amount, price, ref) in enumerate(ops[OPENING:], OPENING):
        now += STEP
        world.now = now
        if kind == LIMIT:
            oids[i] = place(names[user], side, amount, price).oid
        elif kind == CANCEL:
            cancel(names[user], oids[ref])
        else:
            place(names[user], side, amount, None)
        if trades.queue:
            trades.drain()
        if depth.queue:
            depth.drain()
    elapsed = time.perf_counter() - start
    gc.unfreeze()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the best one counts")
    parser.add_argument("--no-world", action="store_true", help="leave out the world contender")
    args = parser.parse_args()

    ops, resting = generate(args.ops, args.seed)
    count = len(ops) - OPENING
    kinds = [sum(1 for op in ops[OPENING:] if op[0] == kind) for kind in (LIMIT, CANCEL, MARKET)]
    print(
        f"{count:,} operations (seed {args.seed}): {kinds[0]:,} limit, {kinds[1]:,} cancel, {kinds[2]:,} market; "
        f"{resting:,} orders resting at the end"
    )
    bare = engine = world = math.inf
    events = 0
    for _ in range(args.repeat):
        bare = min(bare, run_bare(ops))
        elapsed, events = run_engine(ops)
        engine = min(engine, elapsed)
        if not args.no_world:
            world = min(world, run_world(ops))
    bare_rate = count / bare
    engine_rate = count / engine
    ratio = engine_rate / bare_rate
    print(f"bare book: {bare:.2f} s, engine: {engine:.2f} s, {events:,} engine records")
    print(
        f"engine: {engine_rate:,.0f} ops/s; bare book: {bare_rate:,.0f} ops/s; ratio {ratio:.2f} "
        f"(target >= {TARGET_RATE:,} ops/s and >= {TARGET_RATIO})"
    )
    if not args.no_world:
        world_rate = count / world
        print(
            f"world: {world_rate:,.0f} ops/s; bare book: {bare_rate:,.0f} ops/s; ratio {world_rate / bare_rate:.2f} "
            f"(target >= {TARGET_WORLD_RATIO})"
        )


if __name__ == "__main__":
    main()

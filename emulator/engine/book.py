"""A price-level order book: one FIFO level per integer price, best prices first.

Levels are insertion-ordered dicts (oid -> Order), so both the queue order and removal by oid
are O(1); the sides are SortedDicts keyed so that iteration starts at the best price.
"""

from collections.abc import Iterator

from sortedcontainers import SortedDict

from emulator.engine.orders import ASK, BID, Order


class Level:
    __slots__ = ("orders", "price", "volume")

    def __init__(self, price: int) -> None:
        self.price = price
        self.orders: dict[int, Order] = {}
        self.volume = 0


class BookSide:
    """One side. Asks are keyed by price, bids by -price: the first key is always the best."""

    def __init__(self, side: int) -> None:
        self.side = side
        self.sign = 1 if side == ASK else -1
        self.levels: SortedDict = SortedDict()

    def __len__(self) -> int:
        return len(self.levels)

    def best(self) -> Level | None:
        if not self.levels:
            return None
        level: Level = self.levels.peekitem(0)[1]
        return level

    def add(self, order: Order) -> None:
        assert order.price is not None
        key = order.price * self.sign
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = Level(order.price)
        level.orders[order.oid] = order
        level.volume += order.amount

    def remove(self, order: Order) -> None:
        assert order.price is not None
        key = order.price * self.sign
        level: Level = self.levels[key]
        del level.orders[order.oid]
        level.volume -= order.amount
        if not level.orders:
            del self.levels[key]

    def drop_level_if_empty(self, level: Level) -> None:
        if not level.orders:
            del self.levels[level.price * self.sign]

    def iter_levels(self) -> Iterator[Level]:
        """Levels from the best price outwards."""
        return iter(self.levels.values())


class OrderBook:
    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.asks = BookSide(ASK)
        self.bids = BookSide(BID)

    def side(self, side: int) -> BookSide:
        return self.asks if side == ASK else self.bids

    def best_bid(self) -> int | None:
        level = self.bids.best()
        return None if level is None else level.price

    def best_ask(self) -> int | None:
        level = self.asks.best()
        return None if level is None else level.price

    def depth(self, side: int) -> list[tuple[int, int]]:
        """(price, volume) per level of one side, best first."""
        return [(level.price, level.volume) for level in self.side(side).iter_levels()]

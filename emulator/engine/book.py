"""A price-level order book: one FIFO level per integer price, best prices first.

A level (orders.Level) keeps its orders in an insertion-ordered dict, so both the queue order and
removal by oid are O(1). Each side keeps its levels in a dict by key and the keys in a plain sorted
list whose *last* entry is the best price (asks are keyed by -price, bids by price): the busy end of
a book is its best prices, so taking or adding a level there is an append or a pop, and a level
deeper in the book costs one bisect and a short memmove, which beats a SortedDict for books of
realistic size.
"""

from bisect import bisect_left, insort
from collections.abc import Iterator

from emulator.engine.orders import ASK, BID, Level, Order, new_level


class BookSide:
    """One side: `levels` maps a key to its Level and `keys` is sorted with the best key last."""

    __slots__ = ("keys", "levels", "side", "sign")

    def __init__(self, side: int) -> None:
        self.side = side
        self.sign = -1 if side == ASK else 1  # key = price * sign
        self.levels: dict[int, Level] = {}
        self.keys: list[int] = []

    def __len__(self) -> int:
        return len(self.keys)

    def best(self) -> Level | None:
        keys = self.keys
        return self.levels[keys[-1]] if keys else None

    def add(self, order: Order) -> None:
        assert order.price is not None
        key = order.price * self.sign
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = new_level(order.price)
            insort(self.keys, key)
        level.orders[order.oid] = order
        level.volume += order.amount
        order.level = level

    def remove(self, order: Order) -> None:
        assert order.price is not None
        key = order.price * self.sign
        level = self.levels[key]
        del level.orders[order.oid]
        level.volume -= order.amount
        if not level.orders:
            self.drop(key)

    def drop(self, key: int) -> None:
        """Remove the level at `key` (it is there)."""
        del self.levels[key]
        keys = self.keys
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    def iter_levels(self) -> Iterator[Level]:
        """Levels from the best price outwards."""
        levels = self.levels
        return iter([levels[key] for key in reversed(self.keys)])


class OrderBook:
    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.asks = BookSide(ASK)
        self.bids = BookSide(BID)
        # volume change per level key during the current engine operation, published when it ends
        self.deltas: dict[int, int] = {}

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

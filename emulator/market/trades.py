"""The record of executed trades, searchable by tid and by time.

Trades seeded as history before the world started carry small sequential tids; live ones carry the
engine's microsecond tids. Both grow strictly, so one sorted list serves getTrades and the ticker.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from emulator.engine.events import Trade

DAY = 86_400 * 1_000_000


@dataclass(slots=True, frozen=True)
class Stats:
    high: int | None
    low: int | None
    volume: int
    vwap: int | None
    last: int | None


class TradeLog:
    def __init__(self, keep: int = 2 * DAY) -> None:
        self.keep = keep  # microseconds of trades kept; older ones are forgotten
        self.trades: list[Trade] = []
        self._stats_key: tuple[int, int] | None = None
        self._stats = Stats(None, None, 0, None, None)

    def __len__(self) -> int:
        return len(self.trades)

    def extend(self, trades: Iterable[Trade]) -> None:
        self.trades.extend(trades)

    def append(self, trade: Trade) -> None:
        self.trades.append(trade)

    def forget_before(self, when: int) -> None:
        cut = bisect_left(self.trades, when - self.keep, key=lambda t: t.date)
        if cut > len(self.trades) // 4:  # trim in chunks, not on every trade
            del self.trades[:cut]

    def since(self, tid: int, limit: int) -> list[Trade]:
        start = bisect_right(self.trades, tid, key=lambda t: t.tid)
        return self.trades[start : start + limit]

    def between(self, start: int, end: int) -> list[Trade]:
        """Trades with start <= date <= end, oldest first."""
        key = lambda t: t.date  # noqa: E731
        return self.trades[bisect_left(self.trades, start, key=key) : bisect_right(self.trades, end, key=key)]

    def last(self) -> Trade | None:
        return self.trades[-1] if self.trades else None

    def stats(self, now: int, span: int = DAY) -> Stats:
        """High, low, volume and VWAP over the span before now (cached until a trade or a second passes)."""
        key = (self.trades[-1].tid if self.trades else 0, now // 1_000_000)
        if key == self._stats_key:
            return self._stats
        window = self.between(now - span, now)
        last = self.trades[-1].price if self.trades else None
        if window:
            volume = sum(t.amount for t in window)
            turnover = sum(t.amount * t.price for t in window)
            stats = Stats(max(t.price for t in window), min(t.price for t in window), volume, turnover // volume, last)
        else:
            stats = Stats(None, None, 0, None, last)
        self._stats_key, self._stats = key, stats
        return stats

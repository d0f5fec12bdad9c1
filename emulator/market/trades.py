"""The record of executed trades, searchable by tid and by time.

Every tid is its trade's market time in microseconds (one microsecond later when that is taken),
the seeded history's and the engine's live trades' alike, so tids grow strictly with time: one sorted
list serves getTrades (whose `since` may therefore be a time) and the ticker.
"""

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from emulator.engine.events import Trade

DAY = 86_400 * 1_000_000
Row = tuple[int, int, str, int, int, int, int, int, str, str]


def row(trade: Trade) -> Row:
    """A trade as a snapshot keeps it (the fields in order)."""
    t = trade
    return (t.tid, t.date, t.currency, t.price, t.amount, t.taker_side, t.buy_oid, t.sell_oid, t.buyer, t.seller)


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
        # rows[i] is trades[i] as a snapshot keeps it, made at the first snapshot after the trade came:
        # a snapshot copies the list instead of making some 30,000 rows (a day of history) each time
        self._rows: list[Row] = []
        # the last 24 h, kept incrementally: running sums and monotonic queues for high and low.
        # Trades are folded into it when statistics are asked for, not as they are appended: a busy
        # market appends far more often than anybody reads a ticker.
        self._folded = 0  # trades[:_folded] are in the window (or were, and left it)
        self._window: deque[Trade] = deque()
        self._volume = 0
        self._turnover = 0
        self._highs: deque[Trade] = deque()
        self._lows: deque[Trade] = deque()

    def __len__(self) -> int:
        return len(self.trades)

    def extend(self, trades: Iterable[Trade]) -> None:
        """Append trades, oldest first (each at or after the last one)."""
        self.trades.extend(trades)

    def append(self, trade: Trade) -> None:
        self.trades.append(trade)

    def _fold(self) -> None:
        """Take the trades appended since the last fold into the 24 h window."""
        trades = self.trades
        if self._folded == len(trades):
            return
        window, highs, lows = self._window, self._highs, self._lows
        volume, turnover = self._volume, self._turnover
        for trade in trades[self._folded :]:
            price = trade.price
            window.append(trade)
            volume += trade.amount
            turnover += trade.amount * price
            while highs and highs[-1].price <= price:
                highs.pop()
            highs.append(trade)
            while lows and lows[-1].price >= price:
                lows.pop()
            lows.append(trade)
        self._volume, self._turnover = volume, turnover
        self._folded = len(trades)

    def forget_before(self, when: int) -> None:
        cut = bisect_left(self.trades, when - self.keep, key=lambda t: t.date)
        if cut > len(self.trades) // 4:  # trim in chunks, not on every trade
            self._fold()  # the window is folded up to the end before the list's start moves
            del self.trades[:cut]
            del self._rows[:cut]  # all of them when fewer were made: still rows[i] for trades[i]
            self._folded -= cut

    def rows(self) -> list[Row]:
        """Every trade as a snapshot keeps it, oldest first."""
        rows, trades = self._rows, self.trades
        if len(rows) < len(trades):
            rows.extend(map(row, trades[len(rows) :]))
        return list(rows)

    def since(self, tid: int, limit: int) -> list[Trade]:
        start = bisect_right(self.trades, tid, key=lambda t: t.tid)
        return self.trades[start : start + limit]

    def between(self, start: int, end: int) -> list[Trade]:
        """Trades with start <= date <= end, oldest first."""
        key = lambda t: t.date  # noqa: E731
        return self.trades[bisect_left(self.trades, start, key=key) : bisect_right(self.trades, end, key=key)]

    def first_between(self, start: int, end: int) -> Trade | None:
        """The oldest trade with start <= date <= end (between(start, end)[0] without the list)."""
        trades = self.trades
        i = bisect_left(trades, start, key=lambda t: t.date)
        return trades[i] if i < len(trades) and trades[i].date <= end else None

    def last(self) -> Trade | None:
        return self.trades[-1] if self.trades else None

    def stats(self, now: int) -> Stats:
        """High, low, volume and VWAP over the 24 h before now. `now` never goes back (market time)."""
        self._fold()
        window, highs, lows = self._window, self._highs, self._lows
        start = now - DAY
        while window and window[0].date < start:
            old = window.popleft()
            self._volume -= old.amount
            self._turnover -= old.amount * old.price
            if highs and highs[0] is old:
                highs.popleft()
            if lows and lows[0] is old:
                lows.popleft()
        last = self.trades[-1].price if self.trades else None
        if not window:
            return Stats(None, None, 0, None, last)
        return Stats(highs[0].price, lows[0].price, self._volume, self._turnover // self._volume, last)

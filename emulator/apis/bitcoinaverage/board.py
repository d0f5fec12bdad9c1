"""The local indices of every symbol at once: what `market.combine` works out symbol by symbol and
quote by quote, here over arrays of every local symbol's index members at several instants.

A view of a new second needs, for each local ticker, the index now and a day, a week and a month
ago, and each index member's 24 h statistics; the global ticker of a crypto needs every local
ticker of it (31 for BTC). Made one by one that was ~120 outlier tests and ~215 exchange statistics
per second in Python. Here the outlier test (each member's distance from the median of the others),
the faded weights and the 24 h statistics are array operations over (instants, symbols, members),
once per second for all symbols; what is left per symbol is the integer weighted means, which are
kept in Python integers (a price times a volume overflows 64 bits) and made only for the symbols
asked for.

Every number equals what the scalar functions in `market` give: the same float steps in the same
order (int64 values below 2**53 convert to floats exactly, and IEEE division and `np.rint` round as
Python's `/` and `round` do), and the weighted means in exact integers. Only index members that are
included exchanges count here, never MtGox (whose numbers are the world's: the view works BTCUSD
out the scalar way) and never an inactive exchange (which is no member).
"""

from operator import mul

import numpy as np
from numpy.typing import NDArray

from emulator.apis.bitcoinaverage.prices import DAY, HOUR, PriceModel, Quote

PAD = np.int64(2**62)  # a padding member's price: sorted after every real one


def _dot(values: list[int], weights: list[int]) -> int:
    """sum(v * w), exactly (Python integers: a price times a volume overflows 64 bits)."""
    found: int = sum(map(mul, values, weights))
    return found


class Layout:
    """The index members of some local symbols (one crypto's: what its global index needs), each
    symbol's sorted by name as the scalar index orders its quotes, as a padded (symbols, members)
    matrix of the price model's pair columns."""

    def __init__(self, model: PriceModel, members: dict[str, frozenset[str]], symbols: list[str]) -> None:
        self.position = {symbol: i for i, symbol in enumerate(symbols)}
        self.names: list[list[str]] = []
        columns: list[list[int]] = []
        for symbol in symbols:
            where = dict(model.rows.get(symbol, ()))
            names = sorted(name for name in members.get(symbol, ()) if name in where)
            self.names.append(names)
            columns.append([where[name] for name in names])
        width = max(1, max((len(c) for c in columns), default=1))
        self.columns = np.zeros((len(symbols), width), dtype=np.int64)
        self.valid = np.zeros((len(symbols), width), dtype=bool)
        for i, found in enumerate(columns):
            self.columns[i, : len(found)] = found
            self.valid[i, : len(found)] = True
        self.count = self.valid.sum(axis=1)
        # the members without padding, symbol after symbol: symbol i's are spans[i]
        self.flat = self.columns[self.valid]
        ends = np.cumsum(self.count).tolist()
        self.spans = [(end - n, end) for end, n in zip(ends, self.count.tolist(), strict=True)]
        half = np.maximum((self.count - 1) // 2, 1)  # (the rows of fewer than three members are not tested)
        self._middle = (np.arange(len(symbols)), half - 1, half, np.minimum(half + 1, width - 1))


def index_weights(
    layout: Layout, lasts: NDArray[np.int64], volumes: NDArray[np.int64], threshold: float
) -> NDArray[np.int64]:
    """view.index_weights of every symbol at every instant: (instants, symbols, members), 0 for an
    outlier or padding. `lasts` and `volumes` are the members' (instants, symbols, members), as
    `layout.columns` picks them from every pair's.

    The median of the others is that of the sorted members without one copy of the member's own
    value, i.e. the values around the middle of the sorted row, picked by comparing the member's
    value with them (which copy of a repeated value is left out does not change the others)."""
    valid = layout.valid
    values = np.where(valid, lasts, PAD)
    volume = volumes
    ranked = np.sort(values, axis=-1)
    rows, low, mid, high = layout._middle
    below, middle, above = (
        ranked[:, rows, low, np.newaxis],
        ranked[:, rows, mid, np.newaxis],
        ranked[:, rows, high, np.newaxis],
    )
    upper = np.where(middle < values, middle, above)  # the others' value at the middle position
    lower = np.where(below < values, below, middle)  # and the one before it
    n = layout.count[:, np.newaxis]
    with np.errstate(divide="ignore", invalid="ignore"):
        # n even: the others' median is one of them (an integer); n odd: the mean of the middle two
        whole = np.abs(values - upper) / upper
        center = (lower + upper) / 2
        split = np.abs(values - center) / center
        far = np.where(n % 2 == 0, np.where(upper > 0, whole, 0.0), np.where(center > 0, split, 0.0))
    kept = valid & ((n < 3) | (far < threshold))
    far = np.where(kept & (n >= 3), far, 0.0)
    fade = np.where(far <= threshold / 2, 1.0, (threshold - far) / (threshold / 2))
    weights = np.where(kept, np.maximum(1, np.rint(volume * fade).astype(np.int64)), 0)
    nobody = ~kept.any(axis=-1, keepdims=True)  # nobody kept: every member at its whole volume
    return np.where(nobody & valid, np.maximum(1, volume), weights)


class Board:
    """The pure local indices of some symbols at one second and their members' numbers: `quote(symbol)`
    and `weights(symbol)` as `market.combine` gives them from the members' quotes now, `last_at(symbol,
    back)` the index `back` seconds ago (one of BACK), `day(symbol)` the weighted means of the members'
    24 h high, low and vwap, and `members(symbol)` each member's numbers (for an index MtGox joins)."""

    BACK = (DAY, 7 * DAY, 30 * DAY)

    def __init__(self, model: PriceModel, layout: Layout, now: int, threshold: float) -> None:
        self.layout = layout
        times = (now, *(now - back for back in self.BACK))
        instants = np.stack(model.instants(times))  # (instants, last/bid/ask/volume, pairs)
        columns, valid = layout.columns, layout.valid
        weights = index_weights(layout, instants[:, 0, columns], instants[:, 3, columns], threshold)
        # from here on the members only, unpadded: (.., members of every symbol one after another)
        numbers = instants[:, :, layout.flat]
        lasts = numbers[:, 0]
        # each member's 24 h statistics as View.stats makes them: the last a day ago, every whole
        # hour since, and now
        opening, last_now = lasts[1], lasts[0]
        first, last = (now - DAY) // HOUR * HOUR + HOUR, (now - 1) // HOUR * HOUR
        high, low = np.maximum(opening, last_now), np.minimum(opening, last_now)
        total = opening + last_now
        count: NDArray[np.int64] | int = 2
        if first <= last:
            top, bottom, inside, hours = (column[layout.flat] for column in model.hours(first, last))
            high, low, total, count = np.maximum(high, top), np.minimum(low, bottom), total + inside, hours + 2
        vwap = total // count
        self._weights: list[list[int]] = weights[:, valid].tolist()
        self._lasts: list[list[int]] = lasts.tolist()
        self._volumes: list[list[int]] = numbers[:, 3].tolist()
        # bid, ask, high, low, vwap now
        self._now: list[list[int]] = np.stack((numbers[0, 1], numbers[0, 2], high, low, vwap)).tolist()

    def weights(self, symbol: str) -> dict[str, int]:
        i = self.layout.position[symbol]
        a, b = self.layout.spans[i]
        return {name: w for name, w in zip(self.layout.names[i], self._weights[0][a:b], strict=True) if w}

    def quote(self, symbol: str) -> Quote:
        a, b = self._span(symbol)
        w = self._weights[0][a:b]
        total = sum(w)
        return Quote(
            _dot(self._lasts[0][a:b], w) // total,
            _dot(self._now[0][a:b], w) // total,
            _dot(self._now[1][a:b], w) // total,
            sum(v for v, weight in zip(self._volumes[0][a:b], w, strict=True) if weight),
        )

    def last_at(self, symbol: str, back: int) -> int:
        """The index's last `back` seconds ago (one of BACK)."""
        k = self.BACK.index(back) + 1
        a, b = self._span(symbol)
        w = self._weights[k][a:b]
        return _dot(self._lasts[k][a:b], w) // sum(w)

    def day(self, symbol: str) -> tuple[int, int, int]:
        """The weighted means of the members' 24 h high, low and vwap (weights of now)."""
        a, b = self._span(symbol)
        w = self._weights[0][a:b]
        total = sum(w)
        now = self._now
        return _dot(now[2][a:b], w) // total, _dot(now[3][a:b], w) // total, _dot(now[4][a:b], w) // total

    def members(self, symbol: str) -> dict[str, tuple[Quote, int, int, int]]:
        """Each member's quote now and 24 h high, low and vwap, by name."""
        a, _ = self._span(symbol)
        lasts, volumes = self._lasts[0], self._volumes[0]
        bids, asks, highs, lows, vwaps = self._now
        return {
            name: (Quote(lasts[j], bids[j], asks[j], volumes[j]), highs[j], lows[j], vwaps[j])
            for j, name in enumerate(self.layout.names[self.layout.position[symbol]], a)
        }

    def quotes_back(self, symbol: str, back: int) -> dict[str, Quote]:
        """The members' quotes `back` seconds ago (one of BACK), bid and ask left at the last: what
        an index of the last price reads."""
        k = self.BACK.index(back) + 1
        a, _ = self._span(symbol)
        lasts, volumes = self._lasts[k], self._volumes[k]
        return {
            name: Quote(lasts[j], lasts[j], lasts[j], volumes[j])
            for j, name in enumerate(self.layout.names[self.layout.position[symbol]], a)
        }

    def _span(self, symbol: str) -> tuple[int, int]:
        return self.layout.spans[self.layout.position[symbol]]

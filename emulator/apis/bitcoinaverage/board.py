"""The local indices of every symbol of a crypto at once, over a block of consecutive seconds: what
`market.combine` works out symbol by symbol and quote by quote, here over arrays of every local
symbol's index members at several instants of many seconds.

A view of a new second needs, for each local ticker, the index now and a day, a week and a month
ago, and each index member's 24 h statistics; the global ticker of a crypto needs every local
ticker of it (31 for BTC). Made one second at a time, numpy's cost per call (a few microseconds,
~200 calls) was most of the price of a second, so a `Block` works out `SPAN` seconds (consecutive,
or as far apart as the clock is read) in the same calls once the market has been read at two
nearby seconds (a clock that moves forward):
the outlier test (each member's distance from the median of the others), the faded weights, the
24 h statistics and the weighted means are array operations over (instants, symbols, members).
Every element is worked out from its own instant only, so the numbers do not depend on how seconds
were grouped into blocks, nor on which seconds were asked for before.

Every number equals what the scalar functions in `market` give: the same float steps in the same
order (int64 values below 2**53 convert to floats exactly, and IEEE division and `np.rint` round as
Python's `/` and `round` do), and the weighted means in exact integers (see `weighted_means`). Only
index members that are included exchanges count here, never MtGox (whose numbers are the world's:
the view works BTCUSD out the scalar way) and never an inactive exchange (which is no member).
"""

from itertools import pairwise
from operator import mul

import numpy as np
from numpy.typing import NDArray

from emulator.apis.bitcoinaverage.prices import DAY, HOUR, PriceModel, Quote

PAD = np.int64(2**62)  # a padding member's price: sorted after every real one
SPAN = 64  # seconds of a block made for a clock that moves forward
MAX_STEP = 8  # the most seconds apart that a clock moving forward reads the board
SHORTEST = 300  # seconds: the shortest noise period (a block's run spans less)
BLOCKS = 4  # blocks kept per layout
EXACT_SPREAD = 2**40  # weighted means of members this far apart (or more) are made in Python integers
GROUPS = (2, 4)  # symbols of up to 2, of 3 or 4 and of more members are grouped (see Layout)
BACK = (DAY, 7 * DAY, 30 * DAY)  # the opens: the index a day, a week and a month ago
# the pure part of a local ticker, in this order: Block.row
ROW = ("ask", "bid", "last", "high", "low", "open_day", "open_week", "open_month", "avg_day", "volume")


class Layout:
    """The index members of some local symbols (one crypto's: what its global index needs), each
    symbol's sorted by name as the scalar index orders its quotes, as a padded (symbols, members)
    matrix of the price model's pair columns. `groups` splits the symbols by their number of members
    (GROUPS), each group a Layout of its own: a block works over those, whose padding is a few
    members rather than the widest symbol's (19 of BTC's 31 symbols' 107 members)."""

    def __init__(
        self, model: PriceModel, members: dict[str, frozenset[str]], symbols: list[str], split: bool = True
    ) -> None:
        self.symbols = symbols
        self.position = {symbol: i for i, symbol in enumerate(symbols)}
        self.names: list[list[str]] = []
        columns: list[list[int]] = []
        for symbol in symbols:
            where = dict(model.rows.get(symbol, ()))
            names = sorted(name for name in members.get(symbol, ()) if name in where)
            self.names.append(names)
            columns.append([where[name] for name in names])
        width = self.width = max(1, max((len(c) for c in columns), default=1))
        self.columns = np.zeros((len(symbols), width), dtype=np.int64)
        self.valid = np.zeros((len(symbols), width), dtype=bool)
        for i, found in enumerate(columns):
            self.columns[i, : len(found)] = found
            self.valid[i, : len(found)] = True
        self.count = self.valid.sum(axis=1)
        self.sizes: list[int] = self.count.tolist()
        half = np.maximum((self.count - 1) // 2, 1)  # (the rows of fewer than three members are not tested)
        top = width - 1  # (a group of one-member symbols is one wide)
        self._middle = (
            np.arange(len(symbols)),
            np.minimum(half - 1, top),
            np.minimum(half, top),
            np.minimum(half + 1, top),
        )
        # (positions of the group's symbols here, the group); symbol -> (group, its row there)
        self.groups: list[tuple[NDArray[np.intp], Layout]] = []
        self.place: dict[str, tuple[int, int]] = {}
        if split:
            bounds = [0, *GROUPS, width]
            for low, high in pairwise(bounds):
                chosen = [i for i, n in enumerate(self.sizes) if low < n <= high or (low == 0 and n == 0)]
                if chosen:
                    for row, i in enumerate(chosen):
                        self.place[symbols[i]] = (len(self.groups), row)
                    group = Layout(model, members, [symbols[i] for i in chosen], split=False)
                    self.groups.append((np.array(chosen, dtype=np.intp), group))


def index_weights(
    layout: Layout, lasts: NDArray[np.int64], volumes: NDArray[np.int64], threshold: float
) -> NDArray[np.int64]:
    """weighting.index_weights of every symbol at every instant: (instants, symbols, members), 0 for an
    outlier or padding. `lasts` and `volumes` are the members' (instants, symbols, members), as
    `layout.columns` picks them from every pair's.

    The median of the others is that of the sorted members without one copy of the member's own
    value, i.e. the values around the middle of the sorted row, picked by comparing the member's
    value with them (which copy of a repeated value is left out does not change the others)."""
    valid = layout.valid
    if layout.width < 3:  # no outlier test: every member at max(1, round(volume * 1.0))
        whole = np.maximum(1, volumes.astype(np.float64).astype(np.int64))
        untested: NDArray[np.int64] = np.where(valid, whole, 0)
        return untested
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


def weighted_means(values: NDArray[np.int64], weights: NDArray[np.int64]) -> NDArray[np.int64]:
    """sum(values * weights) // sum(weights) along the last axis, exactly, for weights >= 0 (a row
    without a positive weight gives 0).

    A price times a volume overflows 64 bits, but the mean does not: relative to one weighted
    member's value (`base`) the exact sum is known modulo 2**64 (int64 arithmetic wraps) and
    approximately (in floats), and the quotient guessed from the float sum is at most a little
    off, so the remainder of that guess is small and its wrapped value exact: the quotient is the
    guess plus the remainder's own floor division. The float sum is close enough when the weighted
    members are less than EXACT_SPREAD apart (always, by far, for prices of one symbol that are not
    outliers); a block with wider rows is worked out in Python integers."""
    positive = weights > 0
    base = np.take_along_axis(values, weights.argmax(axis=-1)[..., np.newaxis], axis=-1)
    apart = np.where(positive, values - base, 0)
    total = weights.sum(axis=-1)
    if apart.size and int(np.abs(apart).max()) >= EXACT_SPREAD:
        return _python_means(values, weights)
    divisor = np.maximum(total, 1)
    exact = (apart * weights).sum(axis=-1)  # modulo 2**64
    guess = np.floor((apart * weights.astype(np.float64)).sum(axis=-1) / divisor).astype(np.int64)
    rest = exact - guess * divisor  # modulo 2**64, and small: exact
    means: NDArray[np.int64] = np.where(total > 0, base[..., 0] + guess + rest // divisor, 0)
    return means


def scaled_quotients(values: NDArray[np.int64], scale: int, divisors: NDArray[np.int64]) -> NDArray[np.int64]:
    """values * scale // divisors, exactly, for positive divisors below 2**62 (broadcast) and
    quotients below 2**62 (a price over a rate): the same guess and small remainder as
    weighted_means, the quotient at most a little off its float."""
    guess = np.floor(values * float(scale) / divisors).astype(np.int64)
    rest: NDArray[np.int64] = values * np.int64(scale) - guess * divisors  # modulo 2**64, and small: exact
    found: NDArray[np.int64] = guess + np.floor_divide(rest, divisors)
    return found


def _python_means(values: NDArray[np.int64], weights: NDArray[np.int64]) -> NDArray[np.int64]:
    shape = values.shape[:-1]
    rows = zip(
        values.reshape(-1, values.shape[-1]).tolist(), weights.reshape(-1, weights.shape[-1]).tolist(), strict=True
    )
    means = [sum(map(mul, v, w)) // total if (total := sum(w)) > 0 else 0 for v, w in rows]
    return np.array(means, dtype=np.int64).reshape(shape)


class Part:
    """A block's numbers of one group of symbols (see Layout): (instants, symbols, members) arrays of
    the members' lasts, volumes and weights (instants: the block's seconds, then a day, a week and a
    month before each), their bid, ask and 24 h high, low and vwap now, and the weighted means."""

    def __init__(
        self,
        model: PriceModel,
        group: Layout,
        where: NDArray[np.intp],
        columns: tuple[NDArray[np.int64], ...],
        windows: list[tuple[int, int]],
        threshold: float,
    ) -> None:
        count = len(windows)
        picked = where[group.columns]
        lasts, volumes = columns[0][:, picked], columns[3][:, picked]  # (instants, symbols, members)
        weights = index_weights(group, lasts, volumes, threshold)
        shape = (4, count, *picked.shape)
        lasts, volumes, weights = lasts.reshape(shape), volumes.reshape(shape), weights.reshape(shape)
        now = lasts[0]
        # each member's 24 h statistics as View.stats makes them: the last a day ago, every whole
        # hour since, and now (the hours are the same for every second of an hour)
        opening = lasts[1]
        top, bottom, inside, samples = _hours(model, group, windows)
        high = np.maximum(np.maximum(opening, now), top)
        low = np.minimum(np.minimum(opening, now), bottom)
        vwap = (opening + now + inside) // (samples + 2)
        bids, asks = columns[1][:count, picked], columns[2][:count, picked]
        fields = np.stack((now, bids, asks, high, low, vwap))  # weighted by the weights now
        flat = (-1, *picked.shape)
        self.means = weighted_means(
            np.concatenate((fields.reshape(flat), lasts[1:].reshape(flat))),
            np.concatenate((np.broadcast_to(weights[0], fields.shape).reshape(flat), weights[1:].reshape(flat))),
        ).reshape(9, count, len(group.symbols))
        self.volume = np.where(weights[0] > 0, volumes[0], 0).sum(axis=-1)
        self.lasts, self.volumes, self.weights = lasts, volumes, weights
        self.members_now = np.stack((bids, asks, high, low, vwap))


def _hours(
    model: PriceModel, group: Layout, windows: list[tuple[int, int]]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Max, min, sum and count of each member's last at the whole hours of each second's 24 h
    window (first, last hour), (seconds, symbols, members). A 24 h window always holds 23 or 24."""
    distinct = list(dict.fromkeys(windows))
    picked = group.columns
    parts = [np.stack([column[picked] for column in model.hours(first, last)]) for first, last in distinct]
    if len(parts) == 1:
        found = np.broadcast_to(parts[0][:, np.newaxis], (4, len(windows), *picked.shape))
    else:
        which = np.array([distinct.index(w) for w in windows])
        found = np.stack(parts, axis=1)[:, which]
    return found[0], found[1], found[2], found[3]


class Block:
    """The pure local indices of a crypto's symbols (`layout`) at `count` seconds `step` apart from
    `first`, and their members' numbers (see Board, one second of it)."""

    def __init__(
        self,
        model: PriceModel,
        crypto: str,
        layout: Layout,
        first: int,
        count: int,
        threshold: float,
        step: int = 1,
    ) -> None:
        self.layout = layout
        self.first = first
        self.count = count
        self.step = step
        # the instants: every second, then each a day, a week and a month before (run after run)
        plan = model.plan_of(crypto)
        columns, rates = plan.run([first - back for back in (0, *BACK)], count, step)
        seconds = range(first, first + count * step, step)
        windows = [((t - DAY) // HOUR * HOUR + HOUR, (t - 1) // HOUR * HOUR) for t in seconds]
        self.parts = [Part(model, group, plan.where, columns, windows, threshold) for _, group in layout.groups]
        means = np.zeros((9, count, len(layout.symbols)), dtype=np.int64)
        volume = np.zeros((count, len(layout.symbols)), dtype=np.int64)
        for (chosen, _), part in zip(layout.groups, self.parts, strict=True):
            means[:, :, chosen] = part.means
            volume[:, chosen] = part.volume
        last, bid, ask, day_high, day_low, avg_day, open_day, open_week, open_month = means
        row = np.stack(
            (
                ask,
                bid,
                last,
                np.maximum(np.maximum(day_high, last), open_day),
                np.minimum(np.minimum(day_low, last), open_day),
                open_day,
                open_week,
                open_month,
                avg_day,
                volume,
            ),
            axis=-1,
        )
        self.rows: list[list[list[int]]] = row.tolist()  # second -> symbol -> ROW
        self.days: list[list[list[int]]] = np.stack((day_high, day_low, avg_day), axis=-1).tolist()
        self.rates: list[list[int]] = np.rint(rates[:count] * 10**8).astype(np.int64).tolist()

    def holds(self, second: int) -> bool:
        offset = second - self.first
        return 0 <= offset < self.count * self.step and offset % self.step == 0


class Board:
    """The pure local indices of some symbols at one second (of a Block) and their members' numbers:
    `quote(symbol)` and `weights(symbol)` as `market.combine` gives them from the members' quotes now,
    `last_at(symbol, back)` the index `back` seconds ago (one of BACK), `day(symbol)` the weighted
    means of the members' 24 h high, low and vwap, `row(symbol)` the pure fields of its local ticker
    (ROW), `rates` every fiat's rate (RATE units, catalog order) and `members(symbol)` each member's
    numbers (for an index MtGox joins)."""

    BACK = BACK

    __slots__ = ("_block", "_k", "_members", "layout", "rates")

    def __init__(self, block: Block, second: int) -> None:
        assert block.holds(second)
        self._block = block
        self._members: dict[str, dict[str, tuple[Quote, int, int, int]]] = {}
        self._k = (second - block.first) // block.step
        self.layout = block.layout
        self.rates = block.rates[self._k]

    def row(self, symbol: str) -> list[int]:
        return self._block.rows[self._k][self.layout.position[symbol]]

    def weights(self, symbol: str) -> dict[str, int]:
        part, group, i = self._part(symbol)
        found = part.weights[0, self._k, i, : group.sizes[i]].tolist()
        return {name: w for name, w in zip(group.names[i], found, strict=True) if w}

    def quote(self, symbol: str) -> Quote:
        ask, bid, last, *_, volume = self.row(symbol)
        return Quote(last, bid, ask, volume)

    def last_at(self, symbol: str, back: int) -> int:
        """The index's last `back` seconds ago (one of BACK)."""
        return self.row(symbol)[5 + BACK.index(back)]

    def day(self, symbol: str) -> tuple[int, int, int]:
        """The weighted means of the members' 24 h high, low and vwap (weights of now)."""
        high, low, vwap = self._block.days[self._k][self.layout.position[symbol]]
        return high, low, vwap

    def members(self, symbol: str) -> dict[str, tuple[Quote, int, int, int]]:
        """Each member's quote now and 24 h high, low and vwap, by name."""
        found = self._members.get(symbol)
        if found is None:
            found = self._members[symbol] = self._members_of(symbol)
        return found

    def _members_of(self, symbol: str) -> dict[str, tuple[Quote, int, int, int]]:
        part, group, i = self._part(symbol)
        n, k = group.sizes[i], self._k
        lasts, volumes = part.lasts[0, k, i, :n].tolist(), part.volumes[0, k, i, :n].tolist()
        bids, asks, highs, lows, vwaps = part.members_now[:, k, i, :n].tolist()
        return {
            name: (Quote(lasts[j], bids[j], asks[j], volumes[j]), highs[j], lows[j], vwaps[j])
            for j, name in enumerate(group.names[i])
        }

    def quotes_back(self, symbol: str, back: int) -> dict[str, Quote]:
        """The members' quotes `back` seconds ago (one of BACK), bid and ask left at the last: what
        an index of the last price reads."""
        part, group, i = self._part(symbol)
        track, n, k = BACK.index(back) + 1, group.sizes[i], self._k
        lasts, volumes = part.lasts[track, k, i, :n].tolist(), part.volumes[track, k, i, :n].tolist()
        return {name: Quote(lasts[j], lasts[j], lasts[j], volumes[j]) for j, name in enumerate(group.names[i])}

    def _part(self, symbol: str) -> tuple[Part, Layout, int]:
        """The part of the block that holds a symbol, its group and the symbol's row there."""
        g, i = self.layout.place[symbol]
        return self._block.parts[g], self.layout.groups[g][1], i


def board_at(model: PriceModel, crypto: str, layout: Layout, second: int, threshold: float) -> Board:
    """The board of a crypto's symbols (`layout`) at a second, from the price model's blocks of it.
    A clock moving forward (this second shortly after the one asked for before) gets a block of
    SPAN seconds from this one, as far apart as those two (a replay's view every 3 s reads one
    second in three); another instant a block of its second alone. Which seconds share a block
    changes no number (see the module's docstring)."""
    blocks = model.blocks.setdefault(crypto, [])
    step = second - model.asked.get(crypto, second)
    model.asked[crypto] = second
    for block in blocks:
        assert isinstance(block, Block)
        if block.holds(second):
            return Board(block, second)
    if 0 < step <= MAX_STEP:
        made = Block(model, crypto, layout, second, min(SPAN, (SHORTEST - 1) // step + 1), threshold, step)
    else:
        made = Block(model, crypto, layout, second, 1, threshold)
    blocks.append(made)
    if len(blocks) > BLOCKS:
        del blocks[0]
    return Board(made, second)

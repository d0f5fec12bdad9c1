"""How an index is made of exchanges' quotes: outliers, each exchange's weight, the weighted means.

The rules (see view.py's docstring for the spec's silences): with three or more exchanges, one whose
last price is `outlier_threshold` or more from the median of the others' is dropped; an exchange's
weight is its 24 h volume, faded linearly from full at half the threshold to nothing at the
threshold, so that one drifting towards outlier status does not make the index jump. These are the
scalar forms, the reference that board.py's arrays are tested against.
"""

from dataclasses import dataclass

from emulator.apis.bitcoinaverage.prices import PRICE, Quote
from emulator.engine.units import price_scale

MTGOX = "mtgox"  # the exchange that is the world's own MtGox engine
MTGOX_SYMBOL = "BTCUSD"
MTGOX_UNITS = PRICE // price_scale("USD")


def wavg(values: list[tuple[int, int]]) -> int:
    """Volume-weighted mean of (value, weight) pairs; a plain mean when no weight is positive."""
    total = sum(w for _, w in values)
    if total <= 0:
        return sum(v for v, _ in values) // len(values)
    return sum(v * w for v, w in values) // total


def deviations(quotes: dict[str, Quote], field: str = "last") -> dict[str, float]:
    """Each quote's relative distance from the median of the others (0 with fewer than three quotes)."""
    names = list(quotes)
    n = len(names)
    if n < 3:
        return dict.fromkeys(names, 0.0)
    values: list[int] = [getattr(quotes[name], field) for name in names]
    order = sorted(range(n), key=values.__getitem__)
    ranked = [values[i] for i in order]
    rank = {i: k for k, i in enumerate(order)}

    def other(j: int, k: int) -> int:  # the j-th smallest value once the k-th smallest is left out
        return ranked[j] if j < k else ranked[j + 1]

    out = {}
    half = (n - 1) // 2
    for i, name in enumerate(names):
        k = rank[i]
        median = other(half, k) if (n - 1) % 2 else (other(half - 1, k) + other(half, k)) / 2
        out[name] = abs(values[i] - median) / median if median > 0 else 0.0
    return out


def split_outliers(quotes: dict[str, Quote], threshold: float, field: str = "last") -> tuple[list[str], list[str]]:
    """(kept, outliers): outliers are at least `threshold` away from the median of the others."""
    far = deviations(quotes, field)
    kept = [n for n in quotes if far[n] < threshold]
    return (kept, [n for n in quotes if far[n] >= threshold]) if kept else (list(quotes), [])


def index_weights(quotes: dict[str, Quote], threshold: float) -> dict[str, int]:
    """Each kept exchange's weight in the index: its volume, faded out linearly between half the
    outlier threshold and the threshold, so that an exchange drifting away leaves the index without
    a jump."""
    far = deviations(quotes)
    weights = {}
    for name, quote in quotes.items():
        distance = far[name]
        if distance >= threshold:
            continue
        fade = 1.0 if distance <= threshold / 2 else (threshold - distance) / (threshold / 2)
        weights[name] = max(1, round(quote.volume * fade))
    return weights or {n: max(1, q.volume) for n, q in quotes.items()}


def combined_last(quotes: dict[str, Quote], threshold: float) -> int:
    """combine(quotes, threshold)[0].last, without the rest."""
    weights = index_weights(quotes, threshold)
    total = sum(weights.values())
    if total <= 0:
        return sum(quotes[n].last for n in weights) // len(weights)
    return sum(quotes[n].last * w for n, w in weights.items()) // total


@dataclass(slots=True, frozen=True)
class Joined:
    """An index of the last price that MtGox joins, all but MtGox's volume applied: the others' sum
    of last times weight and total weight, MtGox's fade (None: an outlier) and whether nobody was
    kept (every member at its whole volume). MtGox's volume (its 24 h volume now, the weight of
    every past second) changes with each trade, the rest only with the second and MtGox's price."""

    others: int
    others_weight: int
    fade: float | None
    everyone: bool

    def last(self, price: int, volume: int) -> int:
        """combined_last of the quotes with MtGox's at `price` and `volume`."""
        if self.everyone:
            weight = max(1, volume)
        elif self.fade is None:
            weight = 0
        else:
            weight = max(1, round(volume * self.fade))
        return (self.others + price * weight) // (self.others_weight + weight)


def joined(quotes: dict[str, Quote], price: int, threshold: float) -> Joined:
    """The Joined index of `quotes` (MtGox's not among them) with MtGox's last at `price`: the
    steps of index_weights and combined_last, MtGox's weight left to the end."""
    everyone = {**quotes, MTGOX: Quote(price, price, price, 0)}
    far = deviations(everyone)
    kept = [n for n in everyone if far[n] < threshold]
    others = others_weight = 0
    fade: float | None = None
    for name in kept or everyone:
        distance = far[name] if kept else 0.0
        found = 1.0 if distance <= threshold / 2 else (threshold - distance) / (threshold / 2)
        if name == MTGOX:
            fade = found
            continue
        weight = max(1, round(quotes[name].volume * found)) if kept else max(1, quotes[name].volume)
        others += quotes[name].last * weight
        others_weight += weight
    return Joined(others, others_weight, fade, not kept)


def combine(quotes: dict[str, Quote], threshold: float) -> tuple[Quote, dict[str, int]]:
    """The index of a set of quotes and the weight of each exchange it used (outliers have none)."""
    weights = index_weights(quotes, threshold)
    chosen = [(quotes[n], w) for n, w in weights.items()]
    return (
        Quote(
            wavg([(q.last, w) for q, w in chosen]),
            wavg([(q.bid, w) for q, w in chosen]),
            wavg([(q.ask, w) for q, w in chosen]),
            sum(q.volume for q, _ in chosen),
        ),
        weights,
    )

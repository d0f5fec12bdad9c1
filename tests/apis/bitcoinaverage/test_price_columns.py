"""The price model works out every pair of an instant at once, over arrays: the numbers equal, to
the last unit, what `quote` gives pair by pair (inactive exchanges frozen where they stopped)."""

import random

import numpy as np

from emulator.apis.bitcoinaverage.catalog import catalog
from emulator.apis.bitcoinaverage.noise import noise, noise_many, octaves, octaves_many
from emulator.apis.bitcoinaverage.prices import LONG, SHORT, PriceModel

START = 1_310_256_000  # 2011-07-10


def test_noise_over_arrays_equals_the_scalar_noise() -> None:
    rng = random.Random(4)
    keys = [rng.getrandbits(64) for _ in range(500)] + [2**64 - 1, 2**64 - 2, 0]
    array = np.array(keys, dtype=np.uint64)
    for t in (0, 599, 600, START, START - 40 * 86_400, START + 12_345, 2**33):
        for period in (300, 600, 3 * 3600, 86_400):
            assert noise_many(array, period, t).tolist() == [noise(k, period, t) for k in keys]
        for layers in (SHORT, LONG):
            assert octaves_many(array, layers, t).tolist() == [octaves(k, layers, t) for k in keys]


def test_an_instant_equals_quote_pair_by_pair() -> None:
    model = PriceModel(catalog(), 7, START, 14.9)
    frozen = [p for pairs in model.pairs.values() for p in pairs if p.frozen_at is not None]
    assert frozen, "the catalog has inactive exchanges"
    instants = [START, START + 1, START - 86_400, START - 30 * 86_400, START - 5 * 365 * 86_400]
    instants += [p.frozen_at for p in frozen[:2]] + [p.frozen_at + 1 for p in frozen[:2]]  # type: ignore[operator]
    for t in instants:
        market = model.market(t)
        assert list(market) == list(model.pairs)
        for symbol, pairs in model.pairs.items():
            for pair in pairs:
                at = pair.frozen_at if pair.frozen_at is not None and pair.frozen_at < t else t
                expected = model.quote(pair, at, model.usd(pair.crypto, at) * model.fx(pair.fiat, at))
                assert market[symbol][pair.exchange] == expected, (t, symbol, pair.exchange)
            assert market[symbol] == model.symbol_quotes(symbol, t)

"""The price model works out every pair of an instant at once, over arrays: the numbers equal, to
the last unit, what `quote` gives pair by pair (inactive exchanges frozen where they stopped)."""

import random

import numpy as np

from emulator.apis.bitcoinaverage.catalog import catalog
from emulator.apis.bitcoinaverage.noise import Bank, noise
from emulator.apis.bitcoinaverage.prices import PriceModel

START = 1_310_256_000  # 2011-07-10


def test_a_bank_of_series_equals_the_scalar_noise() -> None:
    rng = random.Random(4)
    keys = [rng.getrandbits(64) for _ in range(200)] + [2**64 - 1, 2**64 - 2, 0]
    series = [(key + i, period) for key in keys for i, period in enumerate((300, 600, 3 * 3600, 86_400))]
    times = [0, 599, 600, START, START - 40 * 86_400, START + 12_345, 2**33]
    values = Bank(series).values(np.array(times, dtype=np.int64)).tolist()
    for row, t in zip(values, times, strict=True):
        assert row == [noise(key, period, t) for key, period in series]


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


def test_instants_worked_out_together_equal_market() -> None:
    """Several instants in one go (what a view of a new second asks for) give market's numbers."""
    model = PriceModel(catalog(), 7, START, 14.9)
    fresh = PriceModel(catalog(), 7, START, 14.9)
    times = (START + 5, START + 5 - 86_400, START + 5 - 7 * 86_400, START + 5 - 30 * 86_400, START - 4 * 365 * 86_400)
    rows = model.instants(times)
    for t, (lasts, bids, asks, volumes) in zip(times, rows, strict=True):
        market = fresh.market(t)
        for symbol, found in model.rows.items():
            for name, i in found:
                pair = next(p for p in model.pairs[symbol] if p.exchange == name)
                if pair.frozen_at is not None and pair.frozen_at < t:
                    continue  # market freezes inactive exchanges; the rows do not
                quote = market[symbol][name]
                assert (quote.last, quote.bid, quote.ask, quote.volume) == (
                    int(lasts[i]),
                    int(bids[i]),
                    int(asks[i]),
                    int(volumes[i]),
                ), (t, symbol, name)
    hours = model.hours(START - 23 * 3600, START)
    lasts = [
        fresh.market(t)[s][n].last
        for t in range(START - 23 * 3600, START + 1, 3600)
        for s in ("BTCEUR",)
        for n, _ in model.rows[s][:1]
    ]
    i = model.rows["BTCEUR"][0][1]
    assert (int(hours[0][i]), int(hours[1][i]), int(hours[2][i]), int(hours[3][i])) == (
        max(lasts),
        min(lasts),
        sum(lasts),
        len(lasts),
    )


def test_a_run_of_seconds_equals_the_bank_at_each_second() -> None:
    rng = random.Random(5)
    keys = [rng.getrandbits(64) for _ in range(50)]
    series = [(key + i, period) for key in keys for i, period in enumerate((300, 600, 3 * 3600, 86_400))]
    bank = Bank(series)
    for starts, count in (([START, START - 86_400], 64), ([599 - 63, 300 * 7 - 1], 64), ([START + 17], 300), ([5], 1)):
        times = np.array([s + k for s in starts for k in range(count)], dtype=np.int64)
        assert bank.run(starts, count).tolist() == bank.values(times).tolist(), (starts, count)


def test_a_plan_of_one_crypto_equals_the_model_s_columns() -> None:
    model = PriceModel(catalog(), 7, START, 14.9)
    plan = model.plan_of("BTC")
    chosen = [i for i, pair in enumerate(model.flat) if pair.crypto == "BTC"]
    starts = [START + 100, START + 100 - 86_400, START - 30 * 86_400]
    (lasts, bids, asks, volumes), rates = plan.run(starts, 8)
    times = np.array([s + k for s in starts for k in range(8)], dtype=np.int64)
    (all_lasts, all_bids, all_asks, all_volumes), all_rates = model.grid(times)
    assert lasts.tolist() == all_lasts[:, chosen].tolist()
    assert volumes.tolist() == all_volumes[:, chosen].tolist()
    assert bids.tolist() == all_bids[:8, chosen].tolist()  # bid and ask of the first run only
    assert asks.tolist() == all_asks[:8, chosen].tolist()
    assert rates.tolist() == all_rates.tolist()

"""The board works out every local index of a crypto at once, over arrays: its numbers equal, to the
last unit, what the scalar functions of `market` give symbol by symbol (outliers, faded weights,
ties and one- and two-member symbols included)."""

import random

import numpy as np
import pytest

from emulator.apis.bitcoinaverage import view as view_module
from emulator.apis.bitcoinaverage.board import (
    EXACT_SPREAD,
    SPAN,
    Block,
    Board,
    Layout,
    board_at,
    index_weights,
    scaled_quotients,
    weighted_means,
)
from emulator.apis.bitcoinaverage.catalog import catalog
from emulator.apis.bitcoinaverage.models import get_model
from emulator.apis.bitcoinaverage.prices import DAY, PriceModel, Quote
from emulator.apis.bitcoinaverage.view import View
from emulator.apis.bitcoinaverage.weighting import MTGOX, MTGOX_SYMBOL, combine, combined_last, joined
from emulator.apis.bitcoinaverage.weighting import index_weights as scalar_weights
from emulator.market.world import World

START = 1_310_256_000  # 2011-07-10


def test_weights_over_arrays_equal_the_scalar_weights_on_awkward_prices() -> None:
    model = PriceModel(catalog(), 7, START, 14.9)
    members = model.members(live=MTGOX)
    cryptos = sorted({s[:-3] for s in model.catalog.local_symbols})
    rng = random.Random(3)
    threshold = model.catalog.outlier_threshold
    pairs = sum(len(p) for p in model.pairs.values())
    for crypto in cryptos:
        layout = Layout(model, members, [s for s in model.catalog.local_symbols if s[:-3] == crypto])
        for _ in range(8):
            # prices around 1000.0 with ties, members at and around the threshold and far outliers
            lasts = np.zeros((3, pairs), dtype=np.int64)
            volumes = np.zeros((3, pairs), dtype=np.int64)
            for k in range(3):
                for i in range(pairs):
                    kind = rng.random()
                    if kind < 0.2:
                        price = 100_000_000_000
                    elif kind < 0.5:
                        price = round(100_000_000_000 * (1 + rng.choice((-1, 1)) * rng.uniform(0.02, 0.06)))
                    else:
                        price = round(100_000_000_000 * (1 + rng.uniform(-0.01, 0.01)))
                    lasts[k, i] = price if rng.random() > 0.05 else 10 * price
                    volumes[k, i] = rng.choice((1, 0, rng.randrange(1, 2**54), rng.randrange(1, 10**12)))
            for part in (layout, *(group for _, group in layout.groups)):  # all symbols, and by member count
                weights = index_weights(part, lasts[:, part.columns], volumes[:, part.columns], threshold)
                for symbol, row in part.position.items():
                    names = part.names[row]
                    columns = part.columns[row][: len(names)]
                    for k in range(3):
                        quotes = {
                            n: Quote(int(lasts[k, c]), 0, 0, int(volumes[k, c]))
                            for n, c in zip(names, columns, strict=True)
                        }
                        got = {n: w for n, w in zip(names, weights[k, row].tolist(), strict=False) if w}
                        assert got == scalar_weights(quotes, threshold), (symbol, quotes)


def scalar_ticker_parts(view: View, symbol: str) -> tuple[Quote, dict[str, int], tuple[int, int, int], list[int]]:
    """What the board stands for, the scalar way: the index now and its weights, the weighted 24 h
    high, low and vwap of its members, and the index a day, a week and a month ago."""
    threshold = view.catalog.outlier_threshold
    index, weights = combine(view.quotes_now(symbol), threshold)
    stats = [(view.stats(n, symbol), w) for n, w in weights.items()]
    total = sum(w for _, w in stats)
    day = tuple(sum(getattr(s, f) * w for s, w in stats) // total for f in ("high", "low", "vwap"))
    opens = [
        combined_last(dict(sorted(view.quotes_at(symbol, view.now - back).items())), threshold) for back in Board.BACK
    ]
    return index, weights, day, opens  # type: ignore[return-value]


def test_the_board_equals_the_scalar_index_of_every_symbol() -> None:
    world = World(seed=5, start=START * 10**6, mode="manual")
    model = get_model(world)
    for seconds in (0, 1, 3599, 7 * 3600 + 5):
        world.advance(seconds)
        view = model.view(world)
        for symbol in view.catalog.local_symbols:
            board = view.board(symbol[:-3])
            index, weights, day, opens = scalar_ticker_parts(view, symbol)
            if symbol == MTGOX_SYMBOL:  # MtGox is no member: the board holds the others
                quotes = {n: q for n, q in view.quotes_now(symbol).items() if n != MTGOX}
                assert {n: numbers[0] for n, numbers in board.members(symbol).items()} == quotes
                assert view.local_index_now(symbol) == (index, weights)
                continue
            assert board.quote(symbol) == index, symbol
            assert board.weights(symbol) == weights, symbol
            assert board.day(symbol) == day, symbol
            assert [board.last_at(symbol, back) for back in Board.BACK] == opens, symbol
            for back in Board.BACK:
                at = {n: q.last for n, q in view.quotes_at(symbol, view.now - back).items()}
                assert {n: q.last for n, q in board.quotes_back(symbol, back).items()} == at


def test_rates_from_an_instants_row_equal_the_scalar_rates() -> None:
    model = PriceModel(catalog(), 7, START, 14.9)
    times = (START, START - DAY, START + 12_345)
    model.instants(times)
    fresh = PriceModel(catalog(), 7, START, 14.9)
    for t in times:
        for fiat in model.catalog.fiats:
            assert model.rate(fiat, t) == fresh.rate(fiat, t) == round(fresh.fx(fiat, t) * 10**8)


def test_weighted_means_are_exact_where_a_price_times_a_volume_overflows() -> None:
    rng = random.Random(6)
    for spread in (10**6, EXACT_SPREAD // 4, EXACT_SPREAD * 4):  # the last: worked out in Python integers
        values = np.zeros((40, 5, 7), dtype=np.int64)
        weights = np.zeros((40, 5, 7), dtype=np.int64)
        for index in np.ndindex(values.shape):
            center = rng.choice((10**8, 3 * 10**13, 2**52, 2**61))
            values[index] = center + rng.randrange(-spread // 2, spread // 2 + 1)
            weights[index] = rng.choice((0, 0, 1, rng.randrange(1, 2**40), rng.randrange(1, 2**54)))
        weights[0, 0] = 0  # a row without weight: 0
        got = weighted_means(values, weights).tolist()
        for index in np.ndindex(values.shape[:-1]):
            v, w = values[index].tolist(), weights[index].tolist()
            expected = sum(a * b for a, b in zip(v, w, strict=True)) // sum(w) if sum(w) else 0
            assert got[index[0]][index[1]] == expected, (spread, index)


def test_a_board_is_the_same_whichever_block_holds_its_second() -> None:
    model = PriceModel(catalog(), 7, START, 14.9)
    members = model.members(live=MTGOX)
    layout = Layout(model, members, [s for s in model.catalog.local_symbols if s[:-3] == "BTC"])
    threshold = model.catalog.outlier_threshold
    first = START + 5 * 3600 - 20  # the block's hours window changes inside it
    block = Block(model, "BTC", layout, first, SPAN, threshold)
    for k in (0, 1, 20, 21, SPAN - 1):
        alone = Board(Block(model, "BTC", layout, first + k, 1, threshold), first + k)
        inside = Board(block, first + k)
        assert inside.rates == alone.rates
        for symbol in layout.symbols:
            assert inside.row(symbol) == alone.row(symbol), (k, symbol)
            assert inside.day(symbol) == alone.day(symbol)
            assert inside.weights(symbol) == alone.weights(symbol)
            assert inside.members(symbol) == alone.members(symbol)
            for back in Board.BACK:
                assert inside.quotes_back(symbol, back) == alone.quotes_back(symbol, back)
    # seconds 3 apart, as a replay reads them: the same numbers
    apart = Block(model, "BTC", layout, first - 30, 40, threshold, step=3)
    for k in (0, 10, 16, 39):
        alone = Board(Block(model, "BTC", layout, first - 30 + 3 * k, 1, threshold), first - 30 + 3 * k)
        inside = Board(apart, first - 30 + 3 * k)
        assert inside.rates == alone.rates
        for symbol in layout.symbols:
            assert inside.row(symbol) == alone.row(symbol), (k, symbol)
            assert inside.members(symbol) == alone.members(symbol)
    # a clock moving forward gets blocks of SPAN seconds as far apart as it reads them, a look
    # elsewhere a block of its second
    for t in (first, first + 1, first + 2, first + SPAN, first + SPAN + 1, first + 5000, first + 5003, first + 5006):
        board = board_at(model, "BTC", layout, t, threshold)
        assert board.row("BTCEUR") == Board(Block(model, "BTC", layout, t, 1, threshold), t).row("BTCEUR")
    made = [(b.first, b.count, b.step) for b in model.blocks["BTC"]]  # type: ignore[attr-defined]
    assert made == [(first + 1, SPAN, 1), (first + SPAN + 1, SPAN, 1), (first + 5000, 1, 1), (first + 5003, SPAN, 3)]


def test_an_index_mtgox_joins_equals_combined_last_at_any_volume() -> None:
    rng = random.Random(8)
    threshold = 0.05
    for _ in range(300):
        quotes = {
            f"e{i}": Quote(
                round(10**9 * (1 + rng.choice((0.0, 0.01, 0.03, 0.045, 0.2)) * rng.choice((-1, 1)))),
                0,
                0,
                rng.choice((0, 1, rng.randrange(1, 10**12))),
            )
            for i in range(rng.randrange(0, 6))
        }
        price = round(10**9 * (1 + rng.choice((0.0, 0.02, 0.04, 0.06, 0.5)) * rng.choice((-1, 1))))
        parts = joined(quotes, price, threshold)
        for volume in (0, 1, rng.randrange(1, 10**12)):
            everyone = dict(sorted({**quotes, MTGOX: Quote(price, price, price, volume)}.items()))
            assert parts.last(price, volume) == combined_last(everyone, threshold), (quotes, price, volume)


def test_scaled_quotients_are_exact() -> None:
    rng = random.Random(9)
    values = np.array([[rng.randrange(0, 2**k) for k in (20, 40, 54, 56)] for _ in range(200)], dtype=np.int64)
    # (divisors of a rate's size and more: quotients within 64 bits)
    divisors = np.array(
        [[rng.choice((10**8, 10**8 + 1, rng.randrange(10**8, 2**45), 2**61))] for _ in range(200)], dtype=np.int64
    )
    got = scaled_quotients(values, 10**8, divisors).tolist()
    for row, (numbers, (divisor,)) in enumerate(zip(values.tolist(), divisors.tolist(), strict=True)):
        assert got[row] == [v * 10**8 // divisor for v in numbers], (numbers, divisor)


def test_the_global_index_over_arrays_equals_it_in_python_integers(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(seed=5, start=START * 10**6, mode="manual")
    world.advance(3 * 3600 + 7)
    catalog_now = get_model(world).catalog_for(world)
    fast = {
        symbol: View(catalog_now, PriceModel(catalog_now, 5, START, world.opening_price), world).ticker(
            "global", symbol
        )
        for symbol in ("BTCUSD", "BTCEUR", "LTCUSD")
    }
    monkeypatch.setattr(view_module, "FAST_GLOBAL", 0)
    for symbol, ticker in fast.items():
        model = PriceModel(catalog_now, 5, START, world.opening_price)
        assert View(catalog_now, model, world).ticker("global", symbol) == ticker, symbol

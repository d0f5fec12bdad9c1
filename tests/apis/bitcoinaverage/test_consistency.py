"""Properties only a real simulation has: the numbers of different routes agree with each other."""

import itertools
from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.settings import Settings
from tests.apis.bitcoinaverage.conftest import advance, get, ok
from tests.conftest import START, START_TEXT, default_world

CENT = 0.0100001


def exchange_symbols(client: TestClient) -> dict[str, dict[str, dict[str, float]]]:
    return {e["name"]: e["symbols"] for e in ok(client, "/exchanges/all")}


@pytest.mark.parametrize("seconds", [0, 3 * 3600])
def test_each_local_index_lies_between_its_exchanges(client: TestClient, seconds: int) -> None:
    advance(client, seconds)
    tickers = ok(client, "/indices/local/ticker/all")
    weights = ok(client, "/weighting/exchanges")
    quotes = exchange_symbols(client)
    used: dict[str, list[str]] = {}
    for name, symbols in weights.items():
        for symbol in symbols:
            used.setdefault(symbol, []).append(name)
    assert set(used) == set(tickers)
    for symbol, ticker in tickers.items():
        for field in ("last", "bid", "ask"):
            values = [quotes[name][symbol][field] for name in used[symbol]]
            assert min(values) <= ticker[field] <= max(values), (symbol, field, values, ticker[field])


def test_weights_and_market_shares_sum_to_100(client: TestClient) -> None:
    weights = ok(client, "/weighting/exchanges")
    per_symbol: dict[str, list[float]] = {}
    for symbols in weights.values():
        for symbol, share in symbols.items():
            per_symbol.setdefault(symbol, []).append(share)
    for symbol, shares in per_symbol.items():
        assert sum(shares) == pytest.approx(100, abs=0.005 * len(shares) + 1e-9), symbol
    currencies = ok(client, "/weighting/currencies")
    per_crypto: dict[str, list[float]] = {}
    for symbol, share in currencies.items():
        per_crypto.setdefault(symbol[:-3], []).append(share["market_share"])
    assert set(per_crypto) == {"BTC", "BCH", "LTC", "ETH", "DASH", "XRP", "XMR"}
    for crypto, shares in per_crypto.items():
        assert sum(shares) == pytest.approx(100, abs=0.005 * len(shares) + 1e-9), crypto
    tickers = ok(client, "/indices/local/ticker/all")
    assert all(tickers[s]["volume_percent"] == currencies[s]["market_share"] for s in currencies)


def test_exchange_count_agrees_with_the_lists(client: TestClient) -> None:
    count = ok(client, "/exchanges/count")
    ignored = ok(client, "/exchanges/ignored")
    inactive = ok(client, "/exchanges/inactive")
    included = ok(client, "/exchanges/all")
    assert count["ignored"] == len(ignored) and count["inactive"] == len(inactive)
    assert count["included"] == len(included)
    assert count["count"] == len(included) + len(ignored) + len(inactive)
    names = [e["name"] for e in included + ignored + inactive]
    assert len(set(names)) == len(names)
    assert all(ok(client, f"/exchanges/{e['name']}")["name"] == e["name"] for e in ignored + inactive)


def test_global_indices_are_the_usd_index_times_the_rate(client: TestClient) -> None:
    advance(client, 600)
    tickers = ok(client, "/indices/global/ticker/all")
    rates = ok(client, "/constants/exchangerates/global")["rates"]
    for crypto in ("BTC", "ETH"):
        usd = tickers[f"{crypto}USD"]
        for fiat, rate in rates.items():
            other = tickers[f"{crypto}{fiat}"]
            for field in ("last", "bid", "ask"):
                expected = usd[field] * float(rate["rate"])
                assert other[field] == pytest.approx(expected, rel=2e-4, abs=CENT * float(rate["rate"]) + 0.01)


def test_convert_agrees_with_the_ticker(client: TestClient) -> None:
    advance(client, 120)
    for market in ("local", "global"):
        last = ok(client, f"/indices/{market}/ticker/BTCEUR")["last"]
        one = ok(client, f"/convert/{market}?from=BTC&to=EUR&amount=1")["price"]
        assert one == last
        three = ok(client, f"/convert/{market}?from=btc&to=eur&amount=3")["price"]
        assert three == pytest.approx(3 * last, abs=0.03)
        back = ok(client, f"/convert/{market}?from=EUR&to=BTC&amount=1000")["price"]
        assert back == pytest.approx(1000 / last, rel=1e-3)
        assert ok(client, f"/convert/{market}?from=BTC&to=EUR&amount=0")["price"] == 0


def test_a_custom_index_of_one_exchange_is_that_exchange(client: TestClient) -> None:
    quotes = exchange_symbols(client)
    for name, symbol in [("bitstamp", "BTCUSD"), ("mtgox", "BTCUSD"), ("kraken", "ETHEUR"), ("bithumb", "BTCKRW")]:
        custom = ok(client, f"/indices/ticker/custom/include/{symbol}?exchanges={name}")
        for field in ("last", "bid", "ask"):
            assert custom[field]["price"] == quotes[name][symbol][field], (name, symbol, field)
    everyone = ok(client, "/indices/local/ticker/BTCUSD")
    exclude_nothing_relevant = ok(client, "/indices/ticker/custom/exclude/BTCUSD?exchanges=bithumb")
    assert exclude_nothing_relevant["last"]["price"] == everyone["last"]
    others = [name for name, symbols in quotes.items() if "BTCUSD" in symbols and name != "bitstamp"]
    alone = ok(client, f"/indices/ticker/custom/exclude/BTCUSD?exchanges={','.join(others)}")
    assert {f: alone[f]["price"] for f in ("last", "bid", "ask")} == {
        f: quotes["bitstamp"]["BTCUSD"][f] for f in ("last", "bid", "ask")
    }
    assert (
        client.get(
            f"/indices/ticker/custom/exclude/BTCUSD?exchanges={','.join([*others, 'bitstamp'])}",
            headers={"x-ba-key": "EnterpriseDemoPublicKey0000000000000000000"},
        ).status_code
        == 404
    )


def test_mtgox_is_the_engine(client: TestClient) -> None:
    advance(client, 300)
    world = default_world(client)
    gox = ok(client, "/exchanges/mtgox")["symbols"]["BTCUSD"]
    book = world.engine.books["USD"]
    last = world.trades.last()
    assert last is not None
    assert gox["last"] == round(last.price / 1e5, 2)
    assert gox["bid"] == round((book.best_bid() or 0) / 1e5, 2)
    assert gox["ask"] == round((book.best_ask() or 0) / 1e5, 2)
    assert gox["volume"] == world.trades.stats(world.now).volume / 1e8
    index = ok(client, "/indices/local/ticker/BTCUSD")["last"]
    assert abs(index - gox["last"]) / gox["last"] < 0.05, "the other exchanges trade around MtGox's level"


def test_history_joins_the_live_series(client: TestClient) -> None:
    advance(client, 1800)  # the world started 30 minutes ago
    ticker = ok(client, "/indices/local/ticker/BTCUSD")
    daily = ok(client, "/indices/local/history/BTCUSD?period=daily")
    assert daily[0]["time"] == "2011-07-10 00:30:00" and daily[0]["average"] == ticker["last"]
    averages = [p["average"] for p in daily]
    jumps = [abs(a - b) / b for a, b in itertools.pairwise(averages)]
    assert max(jumps) < 0.01, "no jump between minutes, across the world's start included"
    monthly = ok(client, "/indices/global/history/BTCUSD?period=monthly")
    hourly = [p["average"] for p in monthly]
    assert max(abs(a - b) / b for a, b in itertools.pairwise(hourly)) < 0.03
    alltime = ok(client, "/indices/local/history/BTCUSD?period=alltime")
    assert abs(alltime[0]["average"] - ticker["last"]) / ticker["last"] < 0.02
    assert alltime[-1]["average"] < alltime[0]["average"], "history goes back cheaper"


def test_prices_move_and_ticker_fields_agree(client: TestClient) -> None:
    before = ok(client, "/indices/local/ticker/ETHUSD")
    advance(client, 3600)
    after = ok(client, "/indices/local/ticker/ETHUSD")
    assert after["last"] != before["last"] and after["timestamp"] == before["timestamp"] + 3600
    day_ago = ok(client, "/indices/local/history/ETHUSD?period=monthly")[24]
    assert after["open"]["day"] == day_ago["average"]
    assert after["changes"]["price"]["day"] == pytest.approx(after["last"] - after["open"]["day"], abs=1e-6 + CENT)


def run(steps: list[float]) -> list[bytes]:
    from starlette.testclient import TestClient as Client

    with Client(create_app(Settings(seed=7, clock="manual", start=START_TEXT))) as client:
        out = []
        for seconds in steps:
            advance(client, seconds)
            since = START // 1_000_000 - 1800
            for path in (
                "/indices/global/ticker/all",
                "/exchanges/all",
                f"/indices/local/history/BTCUSD?since={since}",
            ):
                out.append(get(client, path).content)
        return out


def test_same_seed_same_steps_same_bytes() -> None:
    first: Any = run([0, 90])
    assert first == run([0, 90])
    assert first[0] != first[3], "the market moved in 90 s"

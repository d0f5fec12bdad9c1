"""Every route of spec §3 answers with the documented shape, and every error code of §1 has a case."""

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.apis.bitcoinaverage.conftest import KEYS, get, ok
from tests.conftest import START

NOW = START // 1_000_000
EXAMPLE_TX = "8a3b4394ba811a9e2b0bbf3cc56888d053ea21909299b2703cdc35e156c860ff"
NUMBER = (int, float)


def assert_ticker(t: dict[str, Any]) -> None:
    assert list(t) == [
        "ask",
        "bid",
        "last",
        "high",
        "low",
        "open",
        "averages",
        "volume",
        "changes",
        "volume_percent",
        "timestamp",
        "display_timestamp",
    ]
    for field in ("ask", "bid", "last", "high", "low", "volume", "volume_percent"):
        assert isinstance(t[field], NUMBER), field
    for group in ("open", "averages"):
        assert set(t[group]) == {"day", "week", "month"}
        assert all(isinstance(v, NUMBER) for v in t[group].values())
    assert set(t["changes"]) == {"price", "percent"}
    for group in t["changes"].values():
        assert set(group) == {"day", "week", "month"}
        assert all(isinstance(v, NUMBER) for v in group.values())
    assert t["bid"] <= t["last"] <= t["ask"] or t["bid"] <= t["ask"]
    assert t["low"] <= t["last"] <= t["high"]
    assert isinstance(t["timestamp"], int)
    assert t["display_timestamp"] == datetime.fromtimestamp(t["timestamp"], UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_constants(client: TestClient) -> None:
    both = ok(client, "/constants/symbols", None)
    assert both["success"] is True and "BTCUSD" in both["local"]["symbols"]
    assert len(both["global"]["symbols"]) > len(both["local"]["symbols"])
    for market in ("local", "global"):
        assert ok(client, f"/constants/symbols/{market}", None) == {"symbols": both[market]["symbols"], "success": True}
    rates = ok(client, "/constants/exchangerates/global", None)
    assert rates["time"] == "10-07-2011 00:00:00"
    assert rates["rates"]["USD"] == {"name": "United States Dollar", "rate": "1"}
    assert len(rates["rates"]) >= 30 and all(isinstance(r["rate"], str) for r in rates["rates"].values())
    assert rates["rates"]["EUR"]["name"] == "Euro" and 0.7 < float(rates["rates"]["EUR"]["rate"]) < 1.0
    local = ok(client, "/constants/exchangerates/local", None)
    assert set(local["rates"]) <= set(rates["rates"]) and "USD" in local["rates"]
    assert ok(client, "/constants/time", None) == {"epoch": NOW, "iso": "2011-07-10T00:00:00"}


@pytest.mark.parametrize("market", ["local", "global"])
def test_tickers(client: TestClient, market: str) -> None:
    one = ok(client, f"/indices/{market}/ticker/BTCUSD")
    assert_ticker(one)
    assert one["timestamp"] == NOW
    every = ok(client, f"/indices/{market}/ticker/all")
    assert every["BTCUSD"] == one
    assert set(every) == set(ok(client, f"/constants/symbols/{market}", None)["symbols"])
    for ticker in every.values():
        assert_ticker(ticker)
    crypto = ok(client, f"/indices/{market}/ticker/all?crypto=ETH&fiat=USD,EUR")
    assert set(crypto) == {"ETHUSD", "ETHEUR"}
    assert set(ok(client, f"/indices/{market}/ticker/all?crypto=&fiat=")) == set(every)
    short = ok(client, f"/indices/{market}/ticker/short")
    assert set(short) == set(every)
    assert short["BTCUSD"] == {"last": one["last"], "averages": {"day": one["averages"]["day"]}}
    assert set(ok(client, f"/indices/{market}/ticker/short?crypto=BTC&fiat=")) == {s for s in every if s[:3] == "BTC"}
    changes = ok(client, f"/indices/{market}/ticker/BTCUSD/changes")
    assert changes == {"last": one["last"], "changes": one["changes"], "success": True, "time": NOW}
    assert ok(client, f"/indices/{market}/ticker/changes/all")["BTCUSD"] == {
        "last": one["last"],
        "changes": one["changes"],
    }
    assert changes["changes"]["price"]["day"] == pytest.approx(one["last"] - one["open"]["day"], abs=0.011)


def test_custom_indices(client: TestClient) -> None:
    include = ok(client, "/indices/ticker/custom/include/BTCUSD?exchanges=bitstamp,kraken")
    assert set(include) == {"bid", "ask", "last", "timestamp"}
    assert all(set(include[f]) == {"price"} for f in ("bid", "ask", "last"))
    exclude = ok(client, "/indices/ticker/custom/exclude/BTCUSD?exchanges=bitstamp")
    assert exclude["last"]["price"] > 0 and exclude["timestamp"] == NOW
    assert get(client, "/indices/ticker/custom/include/BTCUSD?exchanges=nosuchexchange").status_code == 404
    assert get(client, "/indices/ticker/custom/include/BTCUSD").status_code == 400
    assert get(client, "/indices/ticker/custom/include/BTCKRW?exchanges=bitstamp").status_code == 404


def test_history_periods(client: TestClient) -> None:
    daily = ok(client, "/indices/local/history/BTCUSD?period=daily&format=json", None)
    assert len(daily) == 1440 and set(daily[0]) == {"time", "average"}
    assert daily[0]["time"] == "2011-07-10 00:00:00" and daily[1]["time"] == "2011-07-09 23:59:00"
    monthly = ok(client, "/indices/local/history/BTCUSD?period=monthly")
    assert len(monthly) == 720 and monthly[1]["time"] == "2011-07-09 23:00:00"
    alltime = ok(client, "/indices/global/history/BTCEUR?&period=alltime")
    assert set(alltime[0]) == {"time", "average", "high", "low", "open", "volume"}
    assert alltime[0]["time"] == "2011-07-10 00:00:00" and alltime[1]["time"] == "2011-07-09 00:00:00"
    assert alltime[-1]["time"] == "2010-07-17 00:00:00"  # BTC's first day
    assert ok(client, "/indices/global/history/BTCEUR?period=&format=") == alltime
    for point in alltime:
        assert point["low"] <= point["average"] <= point["high"] and point["low"] <= point["open"] <= point["high"]
    text = get(client, "/indices/local/history/BTCUSD?period=daily&format=csv", None)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert len(rows) == 1440 and rows[0] == {"time": daily[0]["time"], "average": str(daily[0]["average"])}


def test_history_since_and_at(client: TestClient) -> None:
    hour = ok(client, f"/indices/local/history/BTCUSD?since={NOW - 3600}")
    assert len(hour) == 60 and set(hour[0]) == {"ts", "average", "time"}
    assert isinstance(hour[0]["ts"], float) and hour[0]["ts"] == NOW and hour[-1]["ts"] == NOW - 59 * 60
    week = ok(client, f"/indices/global/history/BTCUSD?since={NOW - 7 * 86400}")
    assert len(week) == 7 * 24 and week[0]["ts"] - week[1]["ts"] == 3600
    year = ok(client, f"/indices/local/history/BTCUSD?since={NOW - 100 * 86400}")
    assert len(year) == 100 and year[0]["ts"] - year[1]["ts"] == 86400
    forced = ok(client, f"/indices/local/history/BTCUSD?since={NOW - 7200}&resolution=hour")
    assert [p["ts"] for p in forced] == [NOW, NOW - 3600]
    assert ok(client, f"/indices/local/history/BTCUSD?since={NOW + 50}") == []
    at = ok(client, f"/indices/local/history/BTCUSD?at={NOW - 125}")
    assert at == {"average": hour[2]["average"], "time": hour[2]["time"]}
    assert ok(client, f"/indices/local/history/BTCUSD?at={NOW - 5 * 86400 - 10}")["time"] == "2011-07-05 00:00:00"
    assert get(client, "/indices/local/history/BTCUSD?at=1000").status_code == 404  # before the first day


def test_exchanges(client: TestClient) -> None:
    bitstamp = ok(client, "/exchanges/bitstamp")
    assert list(bitstamp) == ["name", "display_name", "url", "timestamp", "data_source", "symbols"]
    assert bitstamp["display_name"] == "Bitstamp" and bitstamp["url"] == "https://bitstamp.net/"
    assert set(bitstamp["symbols"]["BTCUSD"]) == {"last", "volume", "ask", "bid", "high", "low", "open", "vwap"}
    assert ok(client, "/exchanges/ticker/bitstamp") == bitstamp
    assert ok(client, "/exchanges/BITSTAMP") == bitstamp
    gox = ok(client, "/exchanges/mtgox")["symbols"]["BTCUSD"]
    every = ok(client, "/exchanges/all")
    assert ok(client, "/exchanges/ticker/all") == every
    assert {e["name"] for e in every} >= {"bitstamp", "mtgox", "kraken", "gdax"}
    usd = ok(client, "/exchanges/all?crypto=BTC&fiat=USD")
    assert all(set(e["symbols"]) == {"BTCUSD"} for e in usd)
    assert {e["name"] for e in usd} == {e["name"] for e in every if "BTCUSD" in e["symbols"]}
    assert ok(client, "/exchanges/all?symbol=BTCKRW,ETHKRW") == ok(client, "/exchanges/all?crypto=BTC,ETH&fiat=KRW")
    ignored = ok(client, "/exchanges/ignored", None)
    assert ignored and all(set(e) == {"name", "display_name", "url", "timestamp", "ignore_reason"} for e in ignored)
    inactive = ok(client, "/exchanges/inactive", None)
    assert inactive and all(set(e) == {"name", "display_name", "url", "timestamp"} for e in inactive)
    assert ok(client, "/exchanges/incactive", None) == inactive
    count = ok(client, "/exchanges/count", None)
    assert count["success"] is True and count["count"] >= 40
    outliers = ok(client, "/exchanges/outliers")
    assert set(outliers) == {"last", "bid", "ask"}
    assert "exmo" in outliers["last"]["BTCUSD"]  # a 7.5 % premium over the others
    assert gox["last"] > 0 and gox["bid"] <= gox["ask"]


def test_weighting(client: TestClient) -> None:
    exchanges = ok(client, "/weighting/exchanges")
    assert 0 < exchanges["bitstamp"]["BTCUSD"] < 100
    currencies = ok(client, "/weighting/currencies")
    assert set(currencies["BTCUSD"]) == {"market_share"} and 0 < currencies["BTCUSD"]["market_share"] < 100


def test_convert(client: TestClient) -> None:
    answer = ok(client, "/convert/local?from=BTC&to=USD&amount=2", None)
    assert set(answer) == {"success", "time", "price"} and answer["success"] is True
    assert answer["time"] == "10-07-2011 00:00:00"
    back = ok(client, "/convert/global?from=EUR&to=BTC&amount=100")
    assert back["price"] > 0
    assert (
        ok(client, "/convert/local?from=BTC&to=USD&amount=", None)["price"]
        == ok(client, "/convert/local?from=BTC&to=USD", None)["price"]
    )


def test_blockchain(client: TestClient) -> None:
    answer = ok(client, f"/blockchain/tx_price/BTCUSD/{EXAMPLE_TX}")
    assert answer["time"] == "2016-05-17 00:00:00" and isinstance(answer["average"], float)
    assert ok(client, f"/blockchain/tx_price/BTCEUR/{EXAMPLE_TX.upper()}")["time"] == "2016-05-17 00:00:00"
    pizza = ok(client, "/blockchain/tx_price/BTCUSD/a1075db55d416d3ca199f55b6084e2115b9345e16c5cf302fc80e9d5fbf5d48d")
    assert pizza["time"] == "2010-05-22 00:00:00"
    assert get(client, f"/blockchain/tx_price/ETHUSD/{EXAMPLE_TX}").status_code == 400
    assert get(client, "/blockchain/tx_price/BTCUSD/xyz").status_code == 400
    assert get(client, f"/blockchain/tx_price/BTCUSD/{'0' * 64}").status_code == 404


def test_websocket_tickets(client: TestClient) -> None:
    first = ok(client, "/websocket/get_ticket", "free")["ticket"]
    second = ok(client, "/websocket/get_ticket", "free")["ticket"]
    assert first != second and len(first) >= 20
    assert ok(client, "/websocket/v2/get_ticket", "enterprise")["ticket"]
    assert get(client, "/websocket/v2/get_ticket", "business").status_code == 403
    assert get(client, "/websocket/get_ticket", None).status_code == 403


def test_websocket_client_limit_answers_plain_text(client: TestClient) -> None:
    from emulator.apis.bitcoinaverage.models import get_model
    from tests.conftest import default_world

    ok(client, "/websocket/get_ticket", "free")
    model = get_model(default_world(client))
    public = KEYS["free"][0]
    model.connect(public)
    refused = get(client, "/websocket/get_ticket", "free")
    assert refused.status_code == 429 and refused.text == f"Client limit reached for api key {public}"
    assert refused.headers["content-type"].startswith("text/plain")
    model.disconnect(public)
    assert get(client, "/websocket/get_ticket", "free").status_code == 200


def test_tickets_are_single_use_and_expire(client: TestClient) -> None:
    from emulator.apis.bitcoinaverage.models import get_model
    from tests.conftest import default_world

    public = KEYS["developer"][0]
    ticket = ok(client, "/websocket/get_ticket", "developer")["ticket"]
    model = get_model(default_world(client))
    now = default_world(client).now
    assert not model.consume_ticket(ticket, KEYS["free"][0], now)
    assert model.consume_ticket(ticket, public, now)
    assert not model.consume_ticket(ticket, public, now)
    late = ok(client, "/websocket/get_ticket", "developer")["ticket"]
    assert not model.consume_ticket(late, public, now + 61_000_000)
    assert model.consume_ticket(late, public, now + 59_000_000)


# -- error codes of spec §1 ------------------------------------------------------------------


def assert_error(answer: Any, status: int) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["success"] is False and isinstance(body["error"], str) and body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/indices/moon/ticker/BTCUSD",
        "/indices/local/ticker/BTC-USD",
        "/indices/local/history/BTCUSD?period=weekly",
        "/indices/local/history/BTCUSD?format=xml",
        "/indices/local/history/BTCUSD?since=yesterday",
        "/indices/local/history/BTCUSD?at=-5",
        "/indices/local/history/BTCUSD?since=99999999999999",
        "/indices/local/history/BTCUSD?resolution=second&since=1",
        "/indices/local/ticker/all?crypto=NOPE",
        "/convert/local?from=BTC&to=ETH",
        "/convert/local?from=USD&to=EUR",
        "/convert/local?from=BTC&to=USD&amount=lots",
        "/convert/local?from=BTC&to=USD&amount=-1",
        "/convert/local?from=BTC&to=USD&amount=1e40",
        "/convert/local?from=BTC&to=USD&amount=NaN",
        "/convert/local?from=BTC",
        "/constants/symbols/moon",
        "/exchanges/all?symbol=BTC$",
    ],
)
def test_bad_requests_are_400(client: TestClient, path: str) -> None:
    assert_error(get(client, path), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/indices/local/ticker/BTCXYZ",
        "/indices/local/ticker/XRPARS",  # a global symbol only
        "/exchanges/nosuchexchange",
        "/exchanges/ticker/nosuchexchange",
        "/indices/local/nothing",
        "/constants",
        "/weighting/nothing/here",
        "/convert/local/extra",
        "/websocket/v3/get_ticket",
        "/indices/local/history/BTCXYZ",
    ],
)
def test_unknown_things_are_404(client: TestClient, path: str) -> None:
    assert_error(get(client, path), 404)


def test_errors_carry_standard_reason_phrases(client: TestClient) -> None:
    import http

    for path, plan, status in [
        ("/indices/moon/ticker/BTCUSD", "enterprise", 400),
        ("/exchanges/nosuch", "enterprise", 404),
        ("/exchanges/all", "business", 403),
    ]:
        answer = get(client, path, plan)
        assert answer.status_code == status
        assert answer.reason_phrase == http.HTTPStatus(status).phrase
    assert get(client, "/exchanges/all", "business").json() == {
        "success": False,
        "error": "Forbidden -- Higher level API Keys required",
    }
    bad = client.get("/constants/time", headers={"x-ba-key": "nobody"})
    assert_error(bad, 401)
    assert bad.reason_phrase == "Unauthorized"


def test_fixed_routes_win_over_parameter_routes(client: TestClient) -> None:
    assert ok(client, "/exchanges/count")["success"] is True
    assert isinstance(ok(client, "/exchanges/ignored"), list)
    assert "BTCUSD" in ok(client, "/indices/local/ticker/all")
    assert "BTCUSD" in ok(client, "/indices/local/ticker/short")


def test_query_conventions(client: TestClient) -> None:
    plain = ok(client, "/indices/local/ticker/all?crypto=BTC&fiat=USD,EUR")
    assert set(plain) == {"BTCUSD", "BTCEUR"}
    assert ok(client, "/indices/local/ticker/all?&crypto=BTC&fiat=USD,EUR&") == plain
    assert ok(client, "/indices/local/ticker/all?crypto=BTC&fiat=USD%2CEUR") == plain
    assert ok(client, "/indices/local/ticker/all?crypto=&fiat=&crypto=BTC&fiat=USD,EUR") == plain

"""Every MtGox HTTP method, under both prefixes, checked against the spec's examples."""

import re

import pytest
from starlette.testclient import TestClient

from emulator.market.identities import is_valid_address
from tests.apis.mtgox.helpers import ALICE, BOB, call, last_tid
from tests.conftest import START

PREFIXES = ["/code/", "/api/0/"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_scripted_trade_between_two_users(quiet: TestClient, prefix: str) -> None:
    since = last_tid(quiet)
    sold = call(quiet, "sellBTC.php", ALICE, prefix, amount="2.71", price="14.43")
    assert sold["status"] == "Your order has been queued for execution"
    assert UUID.match(sold["oid"])
    bought = call(quiet, "buyBTC.php", BOB, prefix, amount="3", price="15")
    assert [o["amount"] for o in bought["orders"]] == [0.29]

    trades = quiet.get(f"{prefix}data/getTrades.php", params={"since": since}).json()
    assert len(trades) == 1
    trade = trades[0]
    assert trade == {
        "date": START // 10**6,
        "price": "14.43",
        "amount": "2.71",
        "price_int": "1443000",
        "amount_int": "271000000",
        "tid": trade["tid"],
        "price_currency": "USD",
        "item": "BTC",
        "trade_type": "bid",
    }
    assert isinstance(trade["tid"], str) and int(trade["tid"]) > since

    # 2.71 BTC at 14.43 is 39.1053 USD; the seller pays 0.65% in USD, the buyer 0.65% in BTC
    assert call(quiet, "getFunds.php", ALICE, prefix) == {"usds": 5038.85112, "btcs": 97.29}
    assert call(quiet, "getFunds.php", BOB, prefix) == {"usds": 19960.8947, "btcs": 52.692385}

    orders = call(quiet, "getOrders.php", BOB, prefix)
    assert orders["usds"] == 19960.8947 and orders["btcs"] == 52.692385
    (order,) = orders["orders"]
    assert order == {
        "oid": bought["oid"],
        "currency": "USD",
        "item": "BTC",
        "type": 2,
        "amount": 0.29,
        "price": 15,
        "status": 1,
        "dark": 0,
        "date": START // 10**6,
        "priority": order["priority"],
        "real_status": "open",
    }
    assert order["priority"].isdigit()

    ticker = quiet.get(f"{prefix}data/ticker.php").json()["ticker"]
    assert ticker["last"] == 14.43 and ticker["buy"] == 15
    assert isinstance(ticker["vol"], int)
    depth = quiet.get(f"{prefix}data/getDepth.php").json()
    assert depth["bids"][-1] == [15, 0.29], "both sides ascending: the best bid is the last"


def test_ticker_alias_and_types(client: TestClient) -> None:
    ticker = client.get("/code/ticker.php").json()["ticker"]
    assert ticker == client.get("/code/data/ticker.php").json()["ticker"]
    assert set(ticker) >= {"high", "low", "vol", "buy", "sell", "last"}
    assert all(isinstance(v, int | float) for v in ticker.values())
    assert isinstance(ticker["vol"], int) and ticker["vol"] > 10_000
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["buy"] < ticker["sell"]


def test_depth_is_aggregated_windowed_and_ascending(client: TestClient) -> None:
    depth = client.get("/code/data/getDepth.php").json()
    last = client.get("/code/data/ticker.php").json()["ticker"]["last"]
    for side in ("asks", "bids"):
        prices = [p for p, _ in depth[side]]
        assert prices == sorted(prices) and len(prices) == len(set(prices))
        assert all(last / 2 <= p <= last * 2 for p in prices)
        assert all(a > 0 for _, a in depth[side])
    assert len(depth["asks"]) > 100 and len(depth["bids"]) > 100
    assert depth["bids"][-1][0] < depth["asks"][0][0]
    assert client.get("/code/data/getDepth.php", params={"Currency": "XYZ"}).json() == {"error": "Invalid currency."}


def test_get_trades_paging(client: TestClient) -> None:
    first = client.get("/code/data/getTrades.php", params={"since": "0"}).json()
    assert len(first) == 100 and int(first[0]["tid"]) // 10**6 == first[0]["date"] >= START // 10**6 - 86_400
    tids = [int(t["tid"]) for t in first]
    assert tids == sorted(tids) and len(set(tids)) == 100
    following = client.get("/code/data/getTrades.php", params={"since": first[-1]["tid"]}).json()
    assert int(following[0]["tid"]) > tids[-1], "strictly greater than since"
    just_before = client.get("/code/data/getTrades.php", params={"since": str(tids[-1] - 1)}).json()
    assert just_before[0] == first[-1] and just_before[1:] == following[:99], "since need not be a tid"
    day = client.get("/code/data/getTrades.php").json()
    assert all(START // 10**6 - 86_400 <= t["date"] <= START // 10**6 for t in day)
    assert len(day) > 10_000
    for bad in ("abc", "-5", "1.5", "9" * 40):
        assert client.get("/code/data/getTrades.php", params={"since": bad}).json() == {"error": "Invalid since."}


def test_trades_after_market_activity_agree_with_the_ticker(client: TestClient) -> None:
    since = last_tid(client)
    client.post("/_emulator/clock/advance", json={"seconds": 120})
    new = client.get("/code/data/getTrades.php", params={"since": since}).json()
    assert new, "two minutes of market trade"
    assert int(new[0]["tid"]) // 10**6 == new[0]["date"] >= START // 10**6, "live tids are microsecond timestamps"
    ticker = client.get("/code/data/ticker.php").json()["ticker"]
    page = new
    while len(page) == 100:
        page = client.get("/code/data/getTrades.php", params={"since": page[-1]["tid"]}).json() or page
        new += page
    assert float(new[-1]["price"]) == ticker["last"]


def test_not_enough_funds_is_stored_with_status_2_and_activated_later(quiet: TestClient) -> None:
    placed = call(quiet, "buyBTC.php", ALICE, amount="400", price="15")
    active, waiting = placed["orders"]
    assert active["oid"] == placed["oid"] and active["status"] == 1 and active["real_status"] == "open"
    assert active["amount"] == pytest.approx(333.33333333)
    assert waiting["status"] == 2 and waiting["amount"] == pytest.approx(66.66666667)
    depth = quiet.get("/code/data/getDepth.php").json()
    assert depth["bids"] == [[15, active["amount"]]], "status-2 orders never show in depth"
    # cancelling the funded part frees the funds; the waiting part activates
    left = call(quiet, "cancelOrder.php", ALICE, oid=active["oid"], type="2")["orders"]
    assert [(o["oid"], o["status"]) for o in left] == [(waiting["oid"], 1)]
    assert quiet.get("/code/data/getDepth.php").json()["bids"] == [[15, waiting["amount"]]]


def test_a_buy_stops_at_its_owners_ask(quiet: TestClient) -> None:
    since = last_tid(quiet)
    call(quiet, "sellBTC.php", BOB, amount="0.5", price="13.9")
    call(quiet, "sellBTC.php", ALICE, amount="1", price="14")
    call(quiet, "sellBTC.php", BOB, amount="1", price="14.2")
    bought = call(quiet, "buyBTC.php", ALICE, amount="1", price="14.5")
    assert bought["status"] == "Your order has been queued for execution Trying to sell from yourself?"
    (trade,) = quiet.get("/code/data/getTrades.php", params={"since": since}).json()
    assert trade["price"] == "13.9", "bob's ask ahead of alice's traded; bob's at 14.2 behind it did not"
    orders = call(quiet, "getOrders.php", ALICE)["orders"]
    assert [(o["type"], o["price"], o["amount"]) for o in orders] == [(2, 14.5, 0.5), (1, 14, 1)]


def test_market_orders_take_liquidity_and_never_rest(quiet: TestClient) -> None:
    call(quiet, "sellBTC.php", BOB, amount="1", price="16")
    answer = call(quiet, "buyBTC.php", ALICE, amount="3")
    assert answer["orders"] == []
    assert call(quiet, "getFunds.php", ALICE)["btcs"] == pytest.approx(100 + 1 - 0.0065)


def test_cancel_order_rules(quiet: TestClient) -> None:
    placed = call(quiet, "sellBTC.php", ALICE, amount="1", price="20")
    unchanged = call(quiet, "cancelOrder.php", ALICE, oid="00000000-0000-4000-8000-000000000000", type="1")
    assert unchanged["orders"] == placed["orders"]
    assert call(quiet, "cancelOrder.php", ALICE, oid=placed["oid"]) == {"error": "Invalid."}
    assert call(quiet, "cancelOrder.php", ALICE, type="1") == {"error": "Invalid."}
    assert call(quiet, "cancelOrder.php", BOB, oid=placed["oid"], type="1")["orders"] == []
    assert len(call(quiet, "getOrders.php", ALICE)["orders"]) == 1, "nobody cancels another user's order"
    done = call(quiet, "cancelOrder.php", ALICE, oid=placed["oid"], type="1")
    assert done["orders"] == [] and done["btcs"] == 100


NOT_NUMBERS = ["abc", "-1", "0", "NaN", "Infinity", "-Infinity", "1e30", "1" * 60, "0x10", "1,5", " ", "[]"]


@pytest.mark.parametrize("amount", [*NOT_NUMBERS, "0.001", "0.00999999", "21000001"])
def test_bad_amounts_are_invalid_amount(quiet: TestClient, amount: str) -> None:
    assert call(quiet, "buyBTC.php", ALICE, amount=amount, price="15") == {"error": "Invalid Amount."}
    assert call(quiet, "getOrders.php", ALICE)["orders"] == []


@pytest.mark.parametrize("price", [*NOT_NUMBERS, "0.000001", "10000001"])
def test_bad_prices_are_invalid_amount(quiet: TestClient, price: str) -> None:
    assert call(quiet, "sellBTC.php", ALICE, amount="1", price=price) == {"error": "Invalid Amount."}
    assert call(quiet, "getOrders.php", ALICE)["orders"] == []


def test_withdraw_errors_and_success(quiet: TestClient) -> None:
    address = call(quiet, "btcAddress.php", ALICE)["addr"]
    assert address.startswith("1") and is_valid_address(address)
    assert call(quiet, "btcAddress.php", ALICE)["addr"] != address
    assert call(quiet, "withdraw.php", ALICE, group1="BTC", amount="1") == {"error": "Must enter in a Bitcoin Address."}
    broken = address[:-1] + ("2" if address[-1] != "2" else "3")
    assert call(quiet, "withdraw.php", ALICE, group1="BTC", btca=broken, amount="1") == {
        "error": f"Invalid Bitcoin Address: '{broken}'"
    }
    assert call(quiet, "withdraw.php", ALICE, group1="BTC", btca=address, amount="101") == {
        "error": "You don't have this much BTC."
    }
    for amount in ("0.0001", "60000", "x"):
        assert call(quiet, "withdraw.php", ALICE, group1="BTC", btca=address, amount=amount) == {"error": "Invalid."}
    done = call(quiet, "withdraw.php", ALICE, group1="BTC", btca=address, amount="1.5")
    assert done == {"usds": 5000, "btcs": 98.5, "status": "Your funds are on their way..."}


def test_withdraw_cannot_spend_funds_held_by_orders(quiet: TestClient) -> None:
    address = call(quiet, "btcAddress.php", ALICE)["addr"]
    call(quiet, "sellBTC.php", ALICE, amount="99.5", price="30")
    assert call(quiet, "withdraw.php", ALICE, group1="BTC", btca=address, amount="1") == {
        "error": "You don't have this much BTC."
    }


def test_info_and_history(quiet: TestClient) -> None:
    call(quiet, "sellBTC.php", ALICE, amount="1", price="14")
    call(quiet, "buyBTC.php", BOB, amount="1", price="14")
    info = call(quiet, "info.php", ALICE)
    assert info["Login"] == "alice" and info["Trade_Fee"] == 0.65
    assert info["Wallets"]["BTC"]["Balance"] == {
        "value": "99.00000000",
        "value_int": "9900000000",
        "display": "99.00000000 BTC",
        "currency": "BTC",
    }
    assert info["Wallets"]["USD"]["Balance"]["value_int"] == str(5000_00000 + 14_00000 - 9100)
    history = quiet.post("/code/history_USD.csv", data=ALICE)
    assert history.headers["content-type"].startswith("text/csv")
    lines = history.text.strip().splitlines()
    assert lines[0] == "Index,Date,Type,Info,Value,Balance"
    assert [line.split(",")[2] for line in lines[1:]] == ["deposit", "earned", "fee"]
    assert lines[-1].endswith(",0.091,5013.909")
    btc = quiet.get("/code/history_BTC.csv", params=ALICE).text.strip().splitlines()
    assert [line.split(",")[2] for line in btc[1:]] == ["deposit", "out"]


def test_transport_get_post_query_and_body(quiet: TestClient) -> None:
    by_get = quiet.get("/code/getFunds.php", params=ALICE).json()
    by_post = quiet.post("/code/getFunds.php", data=ALICE).json()
    by_multipart = quiet.post("/code/getFunds.php", data=ALICE, files={"ignored": (None, "x")}).json()
    assert by_get == by_post == by_multipart == {"usds": 5000, "btcs": 100}
    # body wins over the query string; unknown fields are ignored; empty counts as absent
    assert quiet.post("/code/getFunds.php?name=bob&pass=wrong", data=ALICE).json()["btcs"] == 100
    # the same query string again, without the body: the body's fields did not stick to it
    assert quiet.get("/code/getFunds.php?name=bob&pass=wrong").json() == {"error": "Not logged in."}
    assert quiet.post("/code/getFunds.php", data={**ALICE, "whatever": "1"}).json()["btcs"] == 100
    placed = quiet.post("/code/buyBTC.php", data={**ALICE, "amount": "1", "price": "", "Currency": ""}).json()
    assert placed["orders"] == [], "an empty price is absent: a market order, in an empty book it does not rest"


def test_unknown_method_is_a_404_in_api_style(client: TestClient) -> None:
    answer = client.get("/code/nothing.php")
    assert answer.status_code == 404 and answer.json() == {"error": "Unknown method."}

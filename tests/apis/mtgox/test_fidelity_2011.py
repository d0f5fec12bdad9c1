"""What the 2011 clients and the answers captured from the real MtGox (June to November 2011) show,
one HTTP test per point of issue 16, each quoting the 2011 shape it reproduces."""

import re
from typing import Any

from starlette.testclient import TestClient

from tests.apis.mtgox.helpers import ALICE, BOB, call
from tests.apis.mtgox.test_auth import signed
from tests.conftest import START

JSON_BODY = {"content-type": "application/json"}

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HOUR = 3_600 * 10**6

# getTrades as the wiki of 10 July 2011 and every captured answer show it: the tid is "in fact trade
# timestamp in microseconds", a string, beside `date` in whole seconds
WIKI_TRADE = {
    "date": 1309112950,
    "price": "15",
    "amount": "0.109",
    "price_int": "1500000",
    "amount_int": "10900000",
    "tid": "1309112950612567",
    "price_currency": "USD",
    "item": "BTC",
    "trade_type": "bid",
}
# one entry of the `orders` list of getOrders, buyBTC and sellBTC in the captured answers
CAPTURED_ORDER = {
    "oid": "<uuid>",
    "currency": "USD",
    "item": "BTC",
    "type": 2,
    "amount": 3,
    "price": 5,
    "status": 1,
    "dark": 0,
    "date": 1309198768,
    "priority": "1309198768104500",
    "real_status": "open",
}
QUEUED = "Your order has been queued for execution"
DIGIT_STRINGS = {"tid", "priority", "price_int", "amount_int"}


def same_shape(answer: dict[str, Any], captured: dict[str, Any]) -> bool:
    """The same fields with values of the same JSON types, integers in digit strings where 2011 had them."""
    if set(answer) != set(captured):
        return False
    for name, value in captured.items():
        if type(answer[name]) is not type(value):
            return False
        if name in DIGIT_STRINGS and not answer[name].isdigit():
            return False
    return True


def trades_since(client: TestClient, since: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = client.get("/code/data/getTrades.php", params={"since": str(since)}).json()
        found += page
        if len(page) < 100:
            return found
        since = int(page[-1]["tid"])


def test_every_tid_is_its_trades_time_in_microseconds_and_since_pages_by_time(quiet: TestClient) -> None:
    an_hour_ago = START - HOUR
    page = quiet.get("/code/data/getTrades.php", params={"since": str(an_hour_ago)}).json()
    assert len(page) == 100, "the seeded hour before the start is not empty"
    assert all(same_shape(trade, WIKI_TRADE) for trade in page)
    assert all(int(trade["tid"]) // 10**6 == trade["date"] for trade in page)
    assert int(page[0]["tid"]) > an_hour_ago and page[0]["date"] < START // 10**6

    hour = trades_since(quiet, an_hour_ago)
    assert 900 < len(hour) < 1_500, "about 1,200 seeded trades in the hour"
    tids = [int(trade["tid"]) for trade in hour]
    assert tids == sorted(set(tids)), "unique and growing"

    # live trades take the market's microseconds too, one more on a collision
    call(quiet, "sellBTC.php", ALICE, amount="1", price="14")
    call(quiet, "sellBTC.php", ALICE, amount="1", price="14.1")
    call(quiet, "buyBTC.php", BOB, amount="2", price="15")
    first, second = trades_since(quiet, tids[-1])
    assert (first["tid"], second["tid"]) == (str(START), str(START + 1))
    assert first["date"] == second["date"] == START // 10**6
    assert same_shape(first, WIKI_TRADE) and same_shape(second, WIKI_TRADE)


def test_order_lists_put_bids_first_then_asks_each_by_price_ascending(quiet: TestClient) -> None:
    call(quiet, "sellBTC.php", ALICE, amount="1", price="20")
    call(quiet, "buyBTC.php", ALICE, amount="1", price="12")
    call(quiet, "sellBTC.php", ALICE, amount="1", price="18")
    bought = call(quiet, "buyBTC.php", ALICE, amount="1", price="10")
    # the captured answers: type 2 (bids) then type 1 (asks), each by price ascending
    captured_listing = [(2, 10), (2, 12), (1, 18), (1, 20)]
    assert [(o["type"], o["price"]) for o in bought["orders"]] == captured_listing
    assert [(o["type"], o["price"]) for o in call(quiet, "getOrders.php", ALICE)["orders"]] == captured_listing
    sold = call(quiet, "sellBTC.php", ALICE, amount="1", price="19")
    assert [(o["type"], o["price"]) for o in sold["orders"]] == [(2, 10), (2, 12), (1, 18), (1, 19), (1, 20)]


def test_a_taker_meeting_its_owners_order_stops_there_and_both_stay_open(quiet: TestClient) -> None:
    asked = call(quiet, "sellBTC.php", ALICE, amount="1", price="14")
    bought = call(quiet, "buyBTC.php", ALICE, amount="1", price="14")
    # the original matching code's words, swapped as they were: a buy "sells from yourself"
    assert bought["status"] == "Your order has been queued for execution Trying to sell from yourself?"
    assert [(o["oid"], o["type"], o["amount"]) for o in bought["orders"]] == [
        (bought["oid"], 2, 1),
        (asked["oid"], 1, 1),
    ]
    # alice's own bid and ask meet at one price, and getDepth shows both
    assert quiet.get("/code/data/getDepth.php").json() == {"asks": [[14, 1]], "bids": [[14, 1]]}

    call(quiet, "buyBTC.php", BOB, amount="2", price="13")
    sold = call(quiet, "sellBTC.php", BOB, amount="2", price="12")  # takes alice's bid, then meets his own
    assert sold["status"] == "Your order has been queued for execution Trying to buy from yourself?"
    assert [(o["type"], o["price"], o["amount"]) for o in sold["orders"]] == [(2, 13, 2), (1, 12, 1)]
    depth = quiet.get("/code/data/getDepth.php").json()
    assert depth == {"asks": [[12, 1], [14, 1]], "bids": [[13, 2]]}, "bob's ask rests below his bid"

    # the next order that reaches them trades with them as usual
    plain = call(quiet, "sellBTC.php", ALICE, amount="1", price="13")
    assert plain["status"] == QUEUED and [o["price"] for o in plain["orders"]] == [14]
    assert quiet.get("/code/data/getDepth.php").json()["bids"] == [[13, 1]]


def test_activate_php_turns_a_one_time_activation_key_into_an_api_key(quiet: TestClient) -> None:
    made = quiet.post("/_emulator/keys", json={"api": "mtgox", "account": "alice", "activation": True})
    assert made.status_code == 201
    activation = made.json()["activation_key"]
    saved = quiet.get("/_emulator/state").content
    assert quiet.post("/_emulator/state", content=saved, headers=JSON_BODY).status_code == 200, (
        "an unspent key is saved with the world"
    )
    fields = {"name": "MtGox shell", "key": activation, "app": "mtgox-shell"}
    answer = quiet.post("/api/0/activate.php", data=fields).json()
    # July 2011: {"Rest-Key": ..., "Secret": ..., "Rights": ["get_info", "trade", "withdraw"]}
    assert set(answer) == {"Rest-Key", "Secret", "Rights"}
    assert answer["Rights"] == ["get_info", "trade", "withdraw"]
    assert UUID.match(answer["Rest-Key"])
    funds = signed(quiet, "/api/0/getFunds.php", {"nonce": "1"}, secret=answer["Secret"], key=answer["Rest-Key"])
    assert funds == {"usds": 5000, "btcs": 100}

    assert quiet.post("/api/0/activate.php", data=fields).json() == {"error": "Invalid activation key."}
    assert quiet.post("/api/0/activate.php", data={"name": "x", "key": "nope"}).json() == {
        "error": "Invalid activation key."
    }
    assert quiet.post("/api/0/activate.php", data={"name": "x"}).json() == {"error": "Invalid."}
    assert (
        quiet.post("/_emulator/keys", json={"api": "mtgox", "account": "nobody", "activation": True}).status_code == 400
    )


def test_withdraw_pays_out_usd_by_dwolla_liberty_reserve_and_paxum(quiet: TestClient) -> None:
    on_their_way = "Your funds are on their way..."
    # answered as the BTC withdrawal is: {"usds": ..., "btcs": ..., "status": "Your funds are on their way..."}
    dwolla = call(quiet, "withdraw.php", ALICE, group1="DWUSD", dwaccount="812-555-0100", amount="100")
    assert dwolla == {"usds": 4900, "btcs": 100, "status": on_their_way}
    liberty = call(quiet, "withdraw.php", ALICE, group1="USD", account="U1234567", amount="0.5")
    assert liberty == {"usds": 4899.5, "btcs": 100, "status": on_their_way}
    paxum = call(quiet, "withdraw.php", ALICE, group1="PAXUMUSD", paxumaccount="alice@example.com", amount="899.5")
    assert paxum == {"usds": 4000, "btcs": 100, "status": on_their_way}

    assert call(quiet, "withdraw.php", ALICE, group1="DWUSD", amount="1") == {
        "error": "Must enter in a Dwolla Account."
    }
    assert call(quiet, "withdraw.php", ALICE, group1="USD", amount="1") == {
        "error": "Must enter in a Liberty Reserve Account."
    }
    assert call(quiet, "withdraw.php", ALICE, group1="PAXUMUSD", amount="1") == {
        "error": "Must enter in a Paxum Account."
    }
    call(quiet, "buyBTC.php", ALICE, amount="100", price="30")  # holds 3,000 of her 4,000 USD
    assert call(quiet, "withdraw.php", ALICE, group1="DWUSD", dwaccount="812-555-0100", amount="1000.01") == {
        "error": "You don't have this much USD."
    }
    for amount in ("0", "0.001", "x"):
        assert call(quiet, "withdraw.php", ALICE, group1="USD", account="U1", amount=amount) == {"error": "Invalid."}
    history = quiet.post("/code/history_USD.csv", data=ALICE).text.strip().splitlines()
    assert [line.split(",")[2] for line in history[1:]] == ["deposit", "withdraw", "withdraw", "withdraw"]


def test_what_the_2011_clients_rely_on_is_kept(quiet: TestClient) -> None:
    bought = call(quiet, "buyBTC.php", ALICE, amount="3", price="5")
    # {"status": "Your order has been queued for execution", "oid": "<uuid>", "orders": [...]}
    assert set(bought) == {"status", "oid", "orders"} and bought["status"] == QUEUED
    assert UUID.match(bought["oid"])
    (order,) = bought["orders"]
    assert same_shape(order, CAPTURED_ORDER), order
    assert (order["oid"], order["amount"], order["price"], order["real_status"]) == (bought["oid"], 3, 5, "open")
    waiting = call(quiet, "buyBTC.php", ALICE, amount="1000", price="5")["orders"][-1]
    assert (waiting["status"], waiting["real_status"]) == (2, "invalid")
    call(quiet, "sellBTC.php", BOB, amount="0.5", price="5")
    trade = quiet.get("/code/data/getTrades.php", params={"since": str(START - 1)}).json()[-1]
    assert same_shape(trade, WIKI_TRADE)
    assert (trade["price"], trade["amount"], trade["price_int"], trade["amount_int"]) == (
        "5",
        "0.5",
        "500000",
        "50000000",
    )

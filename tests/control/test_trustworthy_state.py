"""Issue 14's cases, each over a real socket: no control operation shows a discarded world, and no bad
number corrupts one (or answers a bare 500)."""

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.app import create_app
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.conftest import START_TEXT

DEPTH, TICKER, TRADES = "/code/data/getDepth.php", "/code/data/ticker.php", "/code/data/getTrades.php"
ALICE = {"name": "alice", "pass": "alice-pass"}
BOB = {"name": "bob", "pass": "bob-pass"}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url, timeout=30) as client:
        yield client


@pytest.fixture
def quiet_http() -> Iterator[httpx.Client]:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url, timeout=30) as client:
        yield client


def asks(answer: httpx.Response) -> list[float]:
    return [price for price, _ in answer.json()["asks"]]


def test_reset_never_serves_the_old_worlds_depth(http: httpx.Client) -> None:
    """Case 1: version-keyed answers survived a reset; an identity that never repeats does not."""
    http.post("/_emulator/reset", json={"seed": 7})
    http.post("/_emulator/accounts", json={"name": "zed", "password": "p", "balances": {"BTC": "5"}})
    book = http.get(DEPTH).json()
    inside = round((max(p for p, _ in book["bids"]) + min(p for p, _ in book["asks"])) / 2, 4)
    placed = http.post("/code/sellBTC.php", data={"name": "zed", "pass": "p", "amount": "1", "price": str(inside)})
    assert "oid" in placed.json()
    assert inside in asks(http.get(DEPTH))
    http.post("/_emulator/reset", json={"seed": 7})
    for name in ("a1", "a2"):  # two changes: the old world's version number again
        http.post("/_emulator/accounts", json={"name": name, "password": "p", "balances": {"USD": "1"}})
    assert inside not in asks(http.get(DEPTH))


@pytest.mark.parametrize("select", ["prefix", "header"])
def test_restore_never_serves_the_discarded_timeline(quiet_http: httpx.Client, select: str) -> None:
    """Case 2: after a restore the same orders at another price show that price at once."""
    prefix, headers = ("/_t/team", {}) if select == "prefix" else ("", {"X-Emulator-Tenant": "team"})

    def get(path: str, **params: str) -> Any:
        return quiet_http.get(prefix + path, params=params, headers=headers).json()

    def trade_at(price: str) -> None:
        quiet_http.post(prefix + "/code/buyBTC.php", data={**ALICE, "amount": "2", "price": price}, headers=headers)
        quiet_http.post(prefix + "/code/sellBTC.php", data={**BOB, "amount": "0.5", "price": price}, headers=headers)

    saved = quiet_http.get(prefix + "/_emulator/state", headers=headers).content
    last_tid = get(TRADES)[-1]["tid"]
    trade_at("9.11")
    assert get(DEPTH)["bids"] == [[9.11, 1.5]] and get(TICKER)["ticker"]["last"] == 9.11
    assert [t["price"] for t in get(TRADES, since=last_tid)] == ["9.11"]
    restored = quiet_http.post(
        prefix + "/_emulator/state", content=saved, headers={**headers, "content-type": "application/json"}
    )
    assert restored.status_code == 200
    trade_at("9.22")
    assert get(DEPTH)["bids"] == [[9.22, 1.5]]
    assert get(TICKER)["ticker"]["last"] == 9.22
    assert [t["price"] for t in get(TRADES, since=last_tid)] == ["9.22"]


def test_stale_fault_cache_is_forgotten_on_reset_and_restore(quiet_http: httpx.Client) -> None:
    """Case 3: the `stale` effect serves last good answers of this timeline only."""
    stale = {"api": "mtgox", "path": "/code/data/*", "effect": "stale", "max_age": 60}
    assert quiet_http.post("/_emulator/faults", json=stale).status_code == 201
    saved = quiet_http.get("/_emulator/state").content  # the rule is part of the world
    quiet_http.post("/code/buyBTC.php", data={**ALICE, "amount": "1", "price": "9.5"})
    assert quiet_http.get(DEPTH).json()["bids"] == [[9.5, 1]]  # cached for a minute
    quiet_http.post("/_emulator/state", content=saved, headers={"content-type": "application/json"})
    assert quiet_http.get(DEPTH).json()["bids"] == [], "restored: the cache of the discarded timeline is gone"
    quiet_http.post("/code/buyBTC.php", data={**ALICE, "amount": "1", "price": "9.7"})
    quiet_http.post("/_emulator/clock/advance", json={"seconds": 61})
    assert quiet_http.get(DEPTH).json()["bids"] == [[9.7, 1]]  # cached a minute after the start
    quiet_http.post("/_emulator/reset", json={})  # back to the start: that minute has not happened
    assert quiet_http.post("/_emulator/faults", json=stale).status_code == 201
    assert quiet_http.get(DEPTH).json()["bids"] == [], "reset: the cache of the old world is gone"


def test_a_served_scenario_runs_on_its_own_seed_everywhere() -> None:
    """Case 4: serve, replay, POST /_emulator/scenario and reset agree on the scenario's seed (19)."""
    app = create_app(Settings(clock="manual", scenario="flash-crash-2011-06-19"))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        base = served.url
        assert http.get("/_emulator/ready").json()["seed"] == 19
        assert http.post("/_emulator/reset", json={}).json()["seed"] == 19
        assert http.post("/_emulator/scenario", json={"name": "thin-book"}).json()["seed"] == 5
        assert http.post("/_emulator/scenario", json={"name": "thin-book", "seed": 3}).json()["seed"] == 3
    pinned = create_app(Settings(clock="manual", scenario="flash-crash-2011-06-19", seed=4))
    with RunningEmulator(app=pinned) as served:
        base = served.url
        assert httpx.get(f"{base}/_emulator/ready").json()["seed"] == 4
    command = [sys.executable, "-m", "emulator", "replay", "flash-crash-2011-06-19", "--until", "2s", "--out", "-"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert "(seed 19," in done.stderr


@pytest.mark.parametrize(
    "fee, balances",
    [
        *[(fee, {}) for fee in ("-0.5", "5000", "100", "1e400", "²")],
        ("5", {"USD": "-1"}),
        ("0.65", {"BTC": "1e400"}),
    ],
)
def test_bad_fees_and_balances_are_refused_and_change_nothing(
    quiet_http: httpx.Client, fee: str, balances: dict[str, str]
) -> None:
    """Case 5: a fee outside [0, 100) % or a bad balance is a 422 that leaves the world as it was."""
    before = quiet_http.get("/_emulator/state").content
    body = {"name": "mallory", "password": "p", "fee": fee, "balances": balances}
    answer = quiet_http.post("/_emulator/accounts", json=body)
    assert answer.status_code == 422, answer.text
    assert "error" in answer.json() and "<class" not in answer.text
    assert quiet_http.get("/_emulator/state").content == before
    funds = quiet_http.post("/code/getFunds.php", data={"name": "mallory", "pass": "p"}).json()
    assert funds == {"error": "Not logged in."}


def test_a_valid_fee_is_what_a_trade_charges(quiet_http: httpx.Client) -> None:
    made = quiet_http.post(
        "/_emulator/accounts", json={"name": "fern", "password": "p", "fee": "0", "balances": {"USD": "100"}}
    )
    assert made.status_code == 201 and made.json()["fee"] == "0"
    quiet_http.post("/code/sellBTC.php", data={**BOB, "amount": "1", "price": "10"})
    quiet_http.post("/code/buyBTC.php", data={"name": "fern", "pass": "p", "amount": "1", "price": "10"})
    funds = quiet_http.post("/code/getFunds.php", data={"name": "fern", "pass": "p"}).json()
    assert funds["btcs"] == 1 and funds["usds"] == 90


def test_unicode_digits_and_infinite_numbers_answer_in_each_apis_style(http: httpx.Client) -> None:
    """Case 6: no 500 and no closed connection for `since=²`, `nonce=²³` or `since=inf`."""
    answer = http.get(TRADES, params={"since": "²"})
    assert answer.status_code == 200 and answer.json() == {"error": "Invalid since."}
    assert answer.headers.get("connection") != "close"
    key = "0b5d3f6e-7a3c-4c57-9d3e-2a1f8b6c4e01"  # alice's demo key: a bad nonce fails before the signature matters
    signed = http.post("/code/getFunds.php", content="nonce=²³", headers={"Rest-Key": key, "Rest-Sign": "AA=="})
    assert signed.status_code == 200 and "error" in signed.json()
    for since in ("inf", "1e400", "nan", "-1"):
        journal = http.get("/_emulator/journal", params={"since": since})
        assert journal.status_code == 422 and "error" in journal.json(), since
        assert journal.headers.get("connection") != "close"
    assert http.get(TICKER).status_code == 200  # the same connection still serves


def test_an_unexpected_error_answers_in_each_apis_style_and_keeps_the_connection(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No bare text/plain 500 and no closed connection, whatever breaks inside a route."""
    from emulator.apis.bitcoinaverage.models import AverageModel
    from emulator.market.world import World

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(World, "snapshot", broken)
    monkeypatch.setattr(AverageModel, "view", broken)
    control = http.get("/_emulator/state")
    assert control.status_code == 500 and control.json()["error"].startswith("Internal Server Error")
    assert "a bug" not in control.text and control.headers.get("connection") != "close"
    average = http.get("/_t/other/indices/local/ticker/BTCUSD")
    assert average.status_code == 500 and average.json()["success"] is False
    assert "RuntimeError" not in average.text and average.headers.get("connection") != "close"
    assert http.get("/_t/other/code/data/ticker.php").status_code == 200  # the same connection serves on


def test_an_account_cannot_take_the_name_of_a_market_agent(http: httpx.Client) -> None:
    """The seeded agents trade from ledger accounts of their own: a new user of that name would
    share (and could spend) an agent's money."""
    before = http.get("/_emulator/state").content
    taken = http.post("/_emulator/accounts", json={"name": "agent-03", "password": "p"})
    assert taken.status_code == 409 and "exists" in taken.json()["error"]
    assert http.get("/_emulator/state").content == before

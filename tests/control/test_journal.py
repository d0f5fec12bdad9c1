"""The request journal at /_emulator/journal: what clients asked, who they were and what they got."""

from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from emulator.apis.bitcoinaverage.auth import signature
from emulator.edge.journal import Entry, Journal
from tests.conftest import START, default_world

TICKER = "/code/data/ticker.php"
INDEX = "/indices/local/ticker/BTCUSD"
ALICE = {"name": "alice", "pass": "alice-pass"}
ALICE_KEY = "0b5d3f6e-7a3c-4c57-9d3e-2a1f8b6c4e01"
DEVELOPER = ("DeveloperDemoPublicKey00000000000000000000", "DeveloperDemoSecretKey0000000000000000000000000000000000")


def entries(client: TestClient, prefix: str = "", **filters: Any) -> list[dict[str, Any]]:
    answer = client.get(f"{prefix}/_emulator/journal", params=filters)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["entries"]
    return found


def test_records_requests_of_both_apis(quiet: TestClient) -> None:
    quiet.get(TICKER, params={"Currency": "USD"})
    quiet.get(INDEX)
    quiet.get("/_emulator/health")
    found = entries(quiet)
    assert [(e["api"], e["method"], e["path"], e["status"]) for e in found] == [
        ("mtgox", "GET", TICKER, 200),
        ("bitcoinaverage", "GET", INDEX, 200),
    ], "control routes are not journaled"
    first = found[0]
    assert first["query"] == "Currency=USD" and first["time"] == START / 1e6 and first["fault"] is None
    assert first["duration_ms"] >= 0 and first["wall"] > 1.6e9 and first["seq"] == 1
    assert first["auth"] is None and first["identity"] is None


def test_mtgox_identities(quiet: TestClient) -> None:
    quiet.post("/code/getFunds.php", data=ALICE)
    quiet.get("/code/getFunds.php", params={"name": "bob", "pass": "wrong"})
    quiet.post("/code/getOrders.php", headers={"Rest-Key": ALICE_KEY, "Rest-Sign": "bad"}, data={"nonce": "1"})
    quiet.post("/code/getOrders.php", headers={"Rest-Key": "who-knows"})
    quiet.post("/code/login.php", data=ALICE)
    quiet.get("/code/getFunds.php")  # the session cookie
    found = [(e["auth"], e["identity"]) for e in entries(quiet)]
    assert found == [
        ("name", "alice"),
        ("name", "bob"),  # as given: the journal does not verify
        ("rest-key", "alice"),
        ("rest-key", "who-knows"),
        ("name", "alice"),
        ("cookie", "alice"),
    ]


def test_bitcoinaverage_identities(quiet: TestClient) -> None:
    public, secret = DEVELOPER
    stamp = str(START // 1_000_000)
    quiet.get(INDEX, headers={"X-Signature": f"{stamp}.{public}.{signature(secret, stamp, public)}"})
    quiet.get(INDEX, headers={"x-ba-key": public})
    quiet.get(INDEX)
    assert [(e["auth"], e["identity"]) for e in entries(quiet)] == [
        ("x-signature", public),
        ("x-ba-key", public),
        (None, None),
    ]


def test_fault_hits_are_marked(quiet: TestClient) -> None:
    quiet.post("/_emulator/faults", json={"api": "mtgox", "path": TICKER, "effect": "status", "status": 502})
    quiet.get(TICKER)
    quiet.get(INDEX)
    found = entries(quiet)
    assert [(e["path"], e["status"], e["fault"]) for e in found] == [(TICKER, 502, "f1"), (INDEX, 200, None)]
    assert [e["path"] for e in entries(quiet, fault=True)] == [TICKER]
    assert [e["path"] for e in entries(quiet, fault=False)] == [INDEX]


def test_websocket_connects(quiet: TestClient) -> None:
    with quiet.websocket_connect("/mtgox?name=alice&pass=alice-pass") as ws:
        ws.receive_json()
    with pytest.raises(WebSocketDisconnect), quiet.websocket_connect("/websocket/nowhere") as ws:
        ws.receive_json()
    found = entries(quiet, method="websocket")
    assert [(e["api"], e["path"], e["status"]) for e in found] == [
        ("mtgox", "/mtgox", 101),
        ("bitcoinaverage", "/websocket/nowhere", 404),  # an unknown channel: 404 and the API's body
    ]
    assert found[0]["identity"] == "alice" and found[0]["query"] == "name=alice&pass=***"


def test_filters(quiet: TestClient) -> None:
    quiet.get(TICKER)
    quiet.post("/code/getFunds.php", data=ALICE)
    quiet.post("/_emulator/clock/advance", json={"seconds": 60})
    quiet.get(INDEX)
    quiet.get("/indices/local/ticker/NOPEUSD")
    quiet.get("/code/data/getDepth.php")
    assert [e["path"] for e in entries(quiet, api="bitcoinaverage")] == [INDEX, "/indices/local/ticker/NOPEUSD"]
    assert [e["path"] for e in entries(quiet, method="post")] == ["/code/getFunds.php"]
    assert [e["path"] for e in entries(quiet, path="/code/data/*")] == [TICKER, "/code/data/getDepth.php"]
    assert [e["path"] for e in entries(quiet, status=404)] == ["/indices/local/ticker/NOPEUSD"]
    since = START / 1e6 + 60
    assert [e["path"] for e in entries(quiet, since=since)] == [
        INDEX,
        "/indices/local/ticker/NOPEUSD",
        "/code/data/getDepth.php",
    ]
    assert [e["path"] for e in entries(quiet, limit=2)] == ["/indices/local/ticker/NOPEUSD", "/code/data/getDepth.php"]
    assert [e["path"] for e in entries(quiet, api="mtgox", since=since, limit=5)] == ["/code/data/getDepth.php"]


@pytest.mark.parametrize(
    "params", [{"api": "kraken"}, {"status": "ok"}, {"since": "-1"}, {"limit": "0"}, {"fault": "maybe"}]
)
def test_bad_filters_are_a_clear_4xx(quiet: TestClient, params: dict[str, str]) -> None:
    answer = quiet.get("/_emulator/journal", params=params)
    assert answer.status_code == 422 and "error" in answer.json()


def test_delete_clears_and_counts(quiet: TestClient) -> None:
    for _ in range(3):
        quiet.get(TICKER)
    answer = quiet.get("/_emulator/journal").json()
    assert answer["count"] == answer["total"] == answer["recorded"] == 3
    assert quiet.delete("/_emulator/journal").json() == {"deleted": 3}
    quiet.get(TICKER)
    after = quiet.get("/_emulator/journal").json()
    assert after["total"] == 1 and after["recorded"] == 4 and after["entries"][0]["seq"] == 4


def test_journal_survives_a_reset(quiet: TestClient) -> None:
    quiet.get(TICKER)
    quiet.post("/_emulator/reset", json={"flow": False})
    assert len(entries(quiet)) == 1


def test_journal_is_per_tenant(quiet: TestClient) -> None:
    quiet.get(f"/_t/red{TICKER}")
    quiet.get(INDEX, headers={"X-Emulator-Tenant": "red"})
    quiet.get(TICKER)
    assert [e["path"] for e in entries(quiet, "/_t/red")] == [TICKER, INDEX]
    assert [e["path"] for e in entries(quiet)] == [TICKER]
    assert entries(quiet, "/_t/blue") == []
    quiet.delete("/_t/red/_emulator/journal")
    assert [e["path"] for e in entries(quiet)] == [TICKER]


def test_journal_is_bounded() -> None:
    journal = Journal(limit=5)
    for n in range(8):
        journal.record(Entry(0, "mtgox", "GET", f"/code/{n}", "", 200, n, 0.0, 0.0, None, None, None))
    assert [e.path for e in journal.select()] == [f"/code/{n}" for n in range(3, 8)]
    assert journal.seq == 8


def test_default_world_journal_attachment(quiet: TestClient) -> None:
    quiet.get(TICKER)
    assert isinstance(default_world(quiet).attachments["journal"], Journal)

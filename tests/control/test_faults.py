"""HTTP fault injection through /_emulator/faults: what a client of either API sees."""

import time
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from emulator.app import create_app
from emulator.faults.rules import FaultBook, faults_of
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.conftest import START_TEXT, default_world

TICKER = "/code/data/ticker.php"
INDEX = "/indices/local/ticker/BTCUSD"
ALICE = {"name": "alice", "pass": "alice-pass"}
BOB = {"name": "bob", "pass": "bob-pass"}


def add(client: TestClient, **spec: Any) -> dict[str, Any]:
    answer = client.post("/_emulator/faults", json=spec)
    assert answer.status_code == 201, answer.text
    rule: dict[str, Any] = answer.json()
    return rule


def advance(client: TestClient, seconds: float) -> None:
    assert client.post("/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200


# -- the control routes -------------------------------------------------------------------------


def test_add_list_delete_rules(quiet: TestClient) -> None:
    rule = add(quiet, api="mtgox", path="/code/*", effect="status", status=502, count=2)
    assert rule["id"] == "f1" and rule["status"] == 502 and rule["count"] == 2 and rule["hits"] == 0
    assert rule["active"] is True and rule["end"] is None
    second = add(quiet, api="bitcoinaverage", path="/indices/*", effect="mysql_error", start_in=5, duration=10)
    assert second["id"] == "f2" and second["active"] is False and second["end"] - second["start"] == 10
    assert [r["id"] for r in quiet.get("/_emulator/faults").json()["faults"]] == ["f1", "f2"]
    assert quiet.get("/_emulator/faults/f2").json()["effect"] == "mysql_error"
    assert quiet.delete("/_emulator/faults/f1").json() == {"deleted": "f1"}
    missing = quiet.delete("/_emulator/faults/f1")
    assert missing.status_code == 404 and "f1" in missing.json()["error"]
    assert quiet.get("/_emulator/faults/nope").status_code == 404
    assert quiet.delete("/_emulator/faults").json() == {"deleted": 1}
    assert quiet.get("/_emulator/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"effect": "explode"}, "effect must be one of"),
        ({}, "effect must be one of"),
        ({"effect": "status", "colour": "red"}, "unknown field(s) colour"),
        ({"effect": "status", "api": "kraken"}, "api must be one of"),
        ({"effect": "status", "probability": 1.5}, "probability must be between"),
        ({"effect": "status", "probability": "often"}, "probability must be a number"),
        ({"effect": "status", "count": 0}, "count must be between"),
        ({"effect": "status", "status": 99}, "status must be between"),
        ({"effect": "status", "channel": "depth"}, "channel applies to websocket effects"),
        ({"effect": "ws_gap", "method": "GET"}, "method applies to HTTP effects"),
        ({"effect": "latency"}, "needs latency_ms"),
        ({"effect": "status", "path": "indices"}, "path must be a glob"),
        ({"effect": "status", "duration": 0}, "duration must be positive"),
        ({"effect": "ws_drop", "status": 1006}, "close code"),
        ({"effect": "mysql_error", "body": "x"}, "body applies to"),
        ({"effect": "status", "method": "FETCH"}, "method must be one of"),
    ],
)
def test_bad_rules_are_a_clear_400(quiet: TestClient, body: dict[str, Any], words: str) -> None:
    answer = quiet.post("/_emulator/faults", json=body)
    assert answer.status_code == 400 and words in answer.json()["error"]
    assert quiet.get("/_emulator/faults").json() == {"faults": []}


def test_non_object_bodies_are_a_400(quiet: TestClient) -> None:
    for raw in (b"[1]", b"not json", b""):
        answer = quiet.post("/_emulator/faults", content=raw, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and "JSON object" in answer.json()["error"]


def test_fault_routes_want_the_admin_token() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False, admin_token="s3cret"))
    with TestClient(app) as client:
        assert client.get("/_emulator/faults").status_code == 401
        assert client.get("/_emulator/journal").status_code == 401
        ok = client.get("/_emulator/faults", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


# -- effects ------------------------------------------------------------------------------------


def test_status_in_each_api_style(quiet: TestClient) -> None:
    add(quiet, api="any", path="*", effect="status", status=503)
    gox = quiet.get(TICKER)
    assert gox.status_code == 503 and gox.json() == {"error": "Service Unavailable"}
    average = quiet.get(INDEX)
    assert average.status_code == 503 and average.json() == {"success": False, "error": "Service Unavailable"}
    assert quiet.get("/_emulator/health").status_code == 200, "the control API is never faulted"


def test_status_with_a_body(quiet: TestClient) -> None:
    add(quiet, api="mtgox", path="/code/data/*", effect="status", status=500, body={"error": "down"})
    add(quiet, api="bitcoinaverage", effect="status", status=502, body="Bad gateway, try later")
    answer = quiet.get(TICKER)
    assert answer.status_code == 500 and answer.json() == {"error": "down"}
    text = quiet.get(INDEX)
    assert text.status_code == 502 and text.text == "Bad gateway, try later"
    assert text.headers["content-type"].startswith("text/plain")
    assert "error" not in quiet.get("/code/getFunds.php", params=ALICE).json(), "other paths are served"


def test_mysql_error_is_plain_text_with_http_200(quiet: TestClient) -> None:
    add(quiet, api="mtgox", effect="mysql_error")
    answer = quiet.post("/code/getFunds.php", data=ALICE)
    assert answer.status_code == 200 and answer.text == "MySQL error, please retry later"
    assert answer.headers["content-type"].startswith("text/plain")
    assert quiet.get(INDEX).status_code == 200, "the rule is for MtGox only"


def test_rate_limit_storm(quiet: TestClient) -> None:
    add(quiet, effect="rate_limit", duration=30)
    average = quiet.get(INDEX)
    assert average.status_code == 429 and average.headers["retry-after"] == "30"
    assert average.json()["success"] is False and "Rate limit" in average.json()["error"]
    gox = quiet.get(TICKER)
    assert gox.status_code == 200 and "error" in gox.json() and gox.headers["retry-after"] == "30"
    advance(quiet, 12)
    assert quiet.get(INDEX).headers["retry-after"] == "18"
    advance(quiet, 18)
    assert quiet.get(INDEX).status_code == 200 and "ticker" in quiet.get(TICKER).json()


def test_latency_delays_then_serves(quiet: TestClient) -> None:
    add(quiet, api="mtgox", path=TICKER, effect="latency", latency_ms=250)
    began = time.perf_counter()
    answer = quiet.get(TICKER)
    assert time.perf_counter() - began >= 0.24
    assert answer.status_code == 200 and "ticker" in answer.json()


def test_reset_breaks_the_in_process_connection(quiet: TestClient) -> None:
    add(quiet, api="mtgox", path=TICKER, effect="reset", count=1)
    with pytest.raises(ConnectionResetError):
        quiet.get(TICKER)
    assert quiet.get(TICKER).status_code == 200


def test_reset_over_a_socket_is_a_broken_connection() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url) as http:
        assert http.post("/_emulator/faults", json={"effect": "reset", "path": TICKER, "count": 1}).status_code == 201
        with pytest.raises(httpx.TransportError):
            http.get(TICKER)
        assert http.get(TICKER).json()["ticker"]
        journal = http.get("/_emulator/journal", params={"path": TICKER}).json()["entries"]
        assert [(e["status"], e["fault"], e["error"]) for e in journal] == [
            (None, "f1", "connection reset"),
            (200, None, None),
        ]


def trade_at(client: TestClient, price: str) -> None:
    client.post("/code/buyBTC.php", data={**ALICE, "amount": "1", "price": price})
    client.post("/code/sellBTC.php", data={**BOB, "amount": "1", "price": price})


def test_stale_serves_an_old_answer_up_to_max_age(quiet: TestClient) -> None:
    add(quiet, api="mtgox", path="/code/data/*", effect="stale", max_age=10)
    first = quiet.get(TICKER).json()
    trade_at(quiet, "21.5")
    assert quiet.get(TICKER).json() == first, "served from the cache"
    advance(quiet, 9)
    assert quiet.get(TICKER).json() == first
    advance(quiet, 2)
    fresh = quiet.get(TICKER).json()
    assert fresh["ticker"]["last"] == 21.5 and fresh != first
    quiet.delete("/_emulator/faults")
    trade_at(quiet, "22.5")
    assert quiet.get(TICKER).json()["ticker"]["last"] == 22.5


def test_count_limits_hits(quiet: TestClient) -> None:
    rule = add(quiet, api="mtgox", path=TICKER, effect="status", status=503, count=2)
    assert [quiet.get(TICKER).status_code for _ in range(4)] == [503, 503, 200, 200]
    listed = quiet.get(f"/_emulator/faults/{rule['id']}").json()
    assert listed["hits"] == 2 and listed["count"] == 0 and listed["active"] is False


def test_window_in_market_time(quiet: TestClient) -> None:
    add(quiet, api="mtgox", path=TICKER, effect="status", start_in=10, duration=30)
    assert quiet.get(TICKER).status_code == 200
    advance(quiet, 10)
    assert quiet.get(TICKER).status_code == 503
    advance(quiet, 29)
    assert quiet.get(TICKER).status_code == 503
    advance(quiet, 1)
    assert quiet.get(TICKER).status_code == 200


def test_method_filter(quiet: TestClient) -> None:
    add(quiet, api="mtgox", path=TICKER, method="post", effect="status")
    assert quiet.get(TICKER).status_code == 200
    assert quiet.post(TICKER).status_code == 503


def hit_pattern(client: TestClient, probability: float) -> list[bool]:
    add(client, api="mtgox", path=TICKER, effect="status", probability=probability)
    pattern = [client.get(TICKER).status_code == 503 for _ in range(40)]
    client.delete("/_emulator/faults")
    return pattern


def test_probability_is_seeded(quiet: TestClient) -> None:
    first = hit_pattern(quiet, 0.5)
    assert 5 < sum(first) < 35
    quiet.post("/_emulator/reset", json={"flow": False})
    assert hit_pattern(quiet, 0.5) == first, "same seed, same hits"
    quiet.post("/_emulator/reset", json={"seed": 8, "flow": False})
    assert hit_pattern(quiet, 0.5) != first
    assert not any(hit_pattern(quiet, 0.0)) and all(hit_pattern(quiet, 1.0))


def test_probability_does_not_depend_on_other_traffic(quiet: TestClient) -> None:
    def pattern(interleave: bool) -> list[bool]:
        quiet.post("/_emulator/reset", json={"flow": False})
        add(quiet, api="bitcoinaverage", effect="status", probability=0.5)
        add(quiet, api="mtgox", path=TICKER, effect="status", probability=0.3)
        hits = []
        for _ in range(30):
            if interleave:
                quiet.get(INDEX)
            hits.append(quiet.get(TICKER).status_code == 503)
        return hits

    alone = pattern(False)
    assert 0 < sum(alone) < 30
    assert pattern(True) == alone, "each rule draws from its own seeded RNG"


def test_faults_are_per_tenant(quiet: TestClient) -> None:
    quiet.post("/_t/red/_emulator/faults", json={"effect": "status", "status": 503})
    assert quiet.get(f"/_t/red{TICKER}").status_code == 503
    assert quiet.get(TICKER, headers={"X-Emulator-Tenant": "red"}).status_code == 503
    assert quiet.get(TICKER).status_code == 200
    assert quiet.get(f"/_t/blue{TICKER}").status_code == 200
    assert quiet.get("/_emulator/faults").json() == {"faults": []}
    assert len(quiet.get("/_t/red/_emulator/faults").json()["faults"]) == 1


def test_reset_clears_rules_and_snapshots_keep_them(quiet: TestClient) -> None:
    world = default_world(quiet)
    add(quiet, api="mtgox", path=TICKER, effect="status", probability=0.5, count=10)
    statuses = [quiet.get(TICKER).status_code for _ in range(3)]
    saved = world.snapshot()
    later = [quiet.get(TICKER).status_code for _ in range(6)]
    world.restore(saved)
    assert [quiet.get(TICKER).status_code for _ in range(6)] == later, "rules and their RNG are restored"
    assert faults_of(world).list()[0].hits == statuses.count(503) + later.count(503)
    quiet.post("/_emulator/reset", json={"flow": False})
    assert quiet.get("/_emulator/faults").json() == {"faults": []}


def test_scenario_code_adds_rules_with_the_same_shape(quiet: TestClient) -> None:
    world = default_world(quiet)
    book = faults_of(world)
    assert isinstance(book, FaultBook) and faults_of(world) is book
    rule = book.add({"api": "bitcoinaverage", "path": "/indices/*", "effect": "status", "status": 503, "duration": 30})
    assert rule.end is not None and rule.end - world.now == 30_000_000
    assert quiet.get(INDEX).status_code == 503
    with pytest.raises(ValueError, match="effect must be one of"):
        book.add({"effect": None})


def test_a_broken_rule_never_becomes_a_500(quiet: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    add(quiet, api="mtgox", effect="status")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(FaultBook, "match_http", broken)
    answer = quiet.get(TICKER)
    assert answer.status_code == 200 and "ticker" in answer.json()


def test_websocket_handshakes_are_refused_or_delayed(quiet: TestClient) -> None:
    add(quiet, api="mtgox", path="/mtgox", effect="rate_limit", status=429, count=1)
    add(quiet, api="mtgox", path="/mtgox", effect="latency", latency_ms=200, count=1)
    with pytest.raises(WebSocketDenialResponse) as refused, quiet.websocket_connect("/mtgox"):
        pass
    assert refused.value.status_code == 429 and refused.value.headers["retry-after"] == "60"
    began = time.perf_counter()
    with quiet.websocket_connect("/mtgox") as ws:
        assert ws.receive_json()["op"] == "subscribe"
    assert time.perf_counter() - began >= 0.19


def test_an_unused_book_leaves_no_trace_in_snapshots(quiet: TestClient) -> None:
    world = default_world(quiet)
    before = world.snapshot()
    quiet.get("/_emulator/faults")
    assert world.snapshot()["models"] == before["models"]

"""Control routes for scenarios, orders as any user, and whole-world snapshots."""

from starlette.testclient import TestClient

from tests.conftest import default_world

JSON_BODY = {"content-type": "application/json"}


def test_start_a_shipped_scenario_and_follow_it(client: TestClient) -> None:
    names = {s["name"] for s in client.get("/_emulator/scenarios").json()["scenarios"]}
    assert "flash-crash-2011-06-19" in names
    status = client.post("/_emulator/scenario", json={"name": "exchange-outage"}).json()
    assert status["name"] == "exchange-outage" and status["done"] == 0 and status["pending"] == 5
    client.post("/_emulator/clock/advance", json={"seconds": 6 * 60 + 1})
    status = client.get("/_emulator/scenario").json()
    assert status["done"] == 2 and status["pending"] == 3
    stopped = client.delete("/_emulator/scenario").json()
    assert stopped["pending"] == 0 and stopped["name"] == "exchange-outage"


def test_inline_scenarios_and_their_errors(client: TestClient) -> None:
    good = "name: inline\nseed: 3\nstart: '2012-01-01T00:00:00Z'\ntimeline:\n  - at: 1m\n    flow: false\n"
    status = client.post("/_emulator/scenario", json={"yaml": good}).json()
    assert status["name"] == "inline" and status["clock"]["now"] == "2012-01-01T00:00:00Z"
    assert default_world(client).seed == 3
    bad = client.post("/_emulator/scenario", json={"yaml": "name: x\ntimeline:\n  - at: 1m\n    fly: true\n"})
    assert bad.status_code == 400 and "<inline>:4: timeline.0.fly" in bad.json()["error"]
    assert client.post("/_emulator/scenario", json={"name": "nonesuch"}).status_code == 400
    assert client.post("/_emulator/scenario", json={}).status_code == 400
    assert client.post("/_emulator/reset", json={"scenario": "thin-book"}).json()["seed"] == 5


def test_orders_as_any_user(quiet: TestClient) -> None:
    made = quiet.post("/_emulator/orders", json={"account": "bob", "side": "sell", "amount": "2", "price": "16"})
    assert made.status_code == 201
    assert made.json()["open_orders"][0]["amount"] == "2"
    depth = quiet.get("/code/data/getDepth.php").json()
    assert depth["asks"] == [[16, 2]]
    assert quiet.post("/_emulator/orders", json={"account": "nobody", "side": "buy", "amount": "1"}).status_code == 404
    for bad in ({"amount": "-1"}, {"amount": "x"}, {"amount": "1", "price": "0"}, {"amount": "1e40"}):
        answer = quiet.post("/_emulator/orders", json={"account": "bob", "side": "buy", **bad})
        assert answer.status_code == 400, bad


def test_state_snapshot_and_restore_round_trip(client: TestClient) -> None:
    client.post("/_emulator/clock/advance", json={"seconds": 30})
    saved = client.get("/_emulator/state").content
    ticker = client.get("/code/data/ticker.php").json()
    client.post("/_emulator/clock/advance", json={"seconds": 600})
    assert client.get("/code/data/ticker.php").json() != ticker
    assert client.post("/_emulator/state", content=saved, headers=JSON_BODY).json()["restored"] is True
    assert client.get("/code/data/ticker.php").json() == ticker
    assert client.get("/_emulator/state").content == saved


def test_a_broken_snapshot_is_refused_and_changes_nothing(client: TestClient) -> None:
    before = client.get("/_emulator/state").content
    for junk in (b"not json", b"{}", b'{"seed": 1}', b"[]"):
        answer = client.post("/_emulator/state", content=junk, headers=JSON_BODY)
        assert answer.status_code == 400 and "error" in answer.json()
    assert client.get("/_emulator/state").content == before


def test_a_snapshot_restored_into_a_fresh_tenant_keeps_faults_but_sessions_stay_with_their_tenant(
    client: TestClient,
) -> None:
    rule = client.post(
        "/_emulator/faults", json={"api": "mtgox", "path": "/code/getOrders.php", "effect": "status", "status": 503}
    ).json()
    login = client.post("/code/login.php", data={"name": "alice", "pass": "alice-pass"})
    cookie = login.cookies["mtgox_session"]
    saved = client.get("/_emulator/state").content
    assert client.post("/_t/fresh/_emulator/state", content=saved, headers=JSON_BODY).status_code == 200
    assert client.get("/_t/fresh/_emulator/state").content == saved
    assert [r["id"] for r in client.get("/_t/fresh/_emulator/faults").json()["faults"]] == [rule["id"]]
    client.cookies.clear()
    client.cookies.set("mtgox_session", cookie)
    assert client.get("/_t/fresh/code/getFunds.php").json() == {"error": "Not logged in."}
    client.post("/_emulator/reset")
    assert client.get("/code/getFunds.php").json() == {"error": "Not logged in."}
    # in its own tenant the sessions come back
    assert client.post("/_emulator/state", content=saved, headers=JSON_BODY).status_code == 200
    assert client.get("/code/getFunds.php").json() == {"usds": 5000, "btcs": 100}
    assert client.get("/_t/fresh/code/getOrders.php", params={"name": "alice", "pass": "alice-pass"}).status_code == 503

"""The control routes a test leans on: health, ready, reset, clock, accounts and keys."""

from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import START_TEXT, default_world

JSON_BODY = {"content-type": "application/json"}


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/_emulator/health").json() == {"status": "ok"}
    ready = client.get("/_emulator/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_manual_clock_advances_only_on_request(client: TestClient) -> None:
    before = client.get("/_emulator/clock").json()
    assert before["mode"] == "manual" and before["now"] == START_TEXT
    trades = len(default_world(client).trades)
    after = client.post("/_emulator/clock/advance", json={"seconds": 90}).json()
    assert after["timestamp"] == before["timestamp"] + 90
    assert len(default_world(client).trades) > trades, "the order flow ran during the advanced time"


def test_clock_switches_mode_and_speed(client: TestClient) -> None:
    answer = client.post("/_emulator/clock", json={"mode": "realtime", "speed": 25}).json()
    assert answer["mode"] == "realtime" and answer["speed"] == 25


def test_bad_clock_input_is_a_clear_4xx(client: TestClient) -> None:
    for body in ({"seconds": -1}, {"seconds": "soon"}, {}, {"seconds": 10**12}):
        answer = client.post("/_emulator/clock/advance", json=body)
        assert answer.status_code == 422 and "error" in answer.json()
    assert client.post("/_emulator/clock", json={"mode": "warp"}).status_code == 422
    assert client.post("/_emulator/clock", json={"speed": 0}).status_code == 422


def test_reset_restores_the_seeded_start(client: TestClient) -> None:
    fresh = default_world(client).snapshot()
    client.post("/_emulator/clock/advance", json={"seconds": 120})
    answer = client.post("/_emulator/reset", json={"start": START_TEXT})
    assert answer.status_code == 200 and answer.json()["seed"] == 7
    assert default_world(client).snapshot() == fresh
    reseeded = client.post("/_emulator/reset", json={"seed": 8, "start": START_TEXT}).json()
    assert reseeded["seed"] == 8


def test_accounts_and_keys(client: TestClient) -> None:
    made = client.post("/_emulator/accounts", json={"name": "dave", "password": "pw", "balances": {"BTC": "1.5"}})
    assert made.status_code == 201
    assert made.json()["balances"]["BTC"] == "1.5"
    assert client.post("/_emulator/accounts", json={"name": "DAVE", "password": "x"}).status_code == 409
    for balances in ({"XYZ": "1"}, {"BTC": "lots"}):  # refused by validation, in the control API's 422
        refused = client.post("/_emulator/accounts", json={"name": "eve", "password": "x", "balances": balances})
        assert refused.status_code == 422 and "balances" in refused.json()["details"][0]
    key = client.post("/_emulator/keys", json={"api": "mtgox", "account": "dave"})
    assert key.status_code == 201 and key.json()["key"] and key.json()["secret"]
    assert client.post("/_emulator/keys", json={"api": "mtgox", "account": "nobody"}).status_code == 400
    average = client.post("/_emulator/keys", json={"api": "bitcoinaverage", "plan": "business"}).json()
    assert average["plan"] == "business" and average["public_key"] and average["secret_key"]
    assert client.post("/_emulator/keys", json={"api": "bitcoinaverage", "plan": "platinum"}).status_code == 400


def test_tenants_are_isolated_by_prefix_and_header(client: TestClient) -> None:
    client.post("/_t/one/_emulator/clock/advance", json={"seconds": 60})
    one = client.get("/_emulator/clock", headers={"X-Emulator-Tenant": "one"}).json()
    default = client.get("/_emulator/clock").json()
    assert one["timestamp"] == default["timestamp"] + 60
    assert client.get("/_t/bad name!/_emulator/clock").status_code == 400


def test_admin_token_guards_the_control_api() -> None:
    app = create_app(Settings(clock="manual", start=START_TEXT, admin_token="s3cret"))
    with TestClient(app) as client:
        assert client.get("/_emulator/health").status_code == 200
        assert client.get("/_emulator/clock").status_code == 401
        assert client.get("/_emulator/clock", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/_emulator/clock", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_bad_start_instants_are_a_clear_4xx_everywhere(client: TestClient) -> None:
    for start in (":", "yesterday", "1e400", "99999999999999999", "1900-01-01T00:00:00Z", "x" * 100):
        answer = client.post("/_emulator/reset", json={"start": start})
        assert answer.status_code == 422 and "start" in " ".join(answer.json()["details"]), start
        inline = client.post("/_emulator/scenario", json={"yaml": f"name: x\nstart: '{start}'\n"})
        assert inline.status_code == 400 and "start" in inline.json()["error"], start
    assert client.get("/_emulator/clock").json()["now"] == START_TEXT, "nothing changed"


def test_the_control_api_can_be_switched_off() -> None:
    app = create_app(Settings(clock="manual", start=START_TEXT, admin=False))
    with TestClient(app) as client:
        assert client.get("/_emulator/health").status_code == 200
        assert client.get("/_emulator/ready").status_code == 200
        for method, path in (
            ("GET", "/_emulator/clock"),
            ("POST", "/_emulator/reset"),
            ("GET", "/_emulator/faults"),
            ("GET", "/_emulator/journal"),
            ("GET", "/_emulator/state"),
        ):
            assert client.request(method, path).status_code in (404, 405), path
        assert client.get("/code/data/ticker.php").status_code == 200, "the APIs themselves stay up"


def test_openapi_documents_the_emulators_own_error_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["schemas"]["HTTPValidationError"]["required"] == ["error"]
    answer = client.post("/_emulator/clock/advance", json={"seconds": "x"})
    assert set(answer.json()) == {"error", "details"}
    assert "control" in {tag for op in spec["paths"]["/_emulator/clock"].values() for tag in op["tags"]}


def test_accounts_without_a_name_get_a_generated_one_from_the_seed() -> None:
    names = []
    for _ in range(2):
        app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
        with TestClient(app) as client:
            made = [client.post("/_emulator/accounts", json={"password": "pw"}) for _ in range(3)]
            assert all(answer.status_code == 201 for answer in made)
            generated = [answer.json()["name"] for answer in made]
            assert len(set(generated)) == 3 and all(n.isidentifier() or n.isalnum() for n in generated)
            login = client.post("/code/getFunds.php", data={"name": generated[0], "pass": "pw"}).json()
            assert login == {"usds": 0, "btcs": 0}
            names.append(generated)
    assert names[0] == names[1], "same seed, same calls, same names"


def test_transactions_added_through_the_control_api_are_priced(client: TestClient) -> None:
    tx = "ab" * 32
    developer = {"x-ba-key": "DeveloperDemoPublicKey00000000000000000000"}
    assert client.get(f"/blockchain/tx_price/BTCUSD/{tx}", headers=developer).status_code == 404
    added = client.post("/_emulator/transactions", json={"hash": tx.upper(), "time": "2011-07-09T12:00:00Z"})
    assert added.status_code == 201 and added.json() == {"hash": tx, "time": 1310212800}
    priced = client.get(f"/blockchain/tx_price/BTCUSD/{tx}", headers=developer)
    assert priced.status_code == 200 and priced.json()["time"].startswith("2011-07-09")
    assert client.post("/_emulator/transactions", json={"hash": "xyz", "time": "2011-07-09"}).status_code == 422
    assert client.post("/_emulator/transactions", json={"hash": tx, "time": None}).status_code == 422
    saved = client.get("/_emulator/state").content
    assert client.post("/_t/copy/_emulator/state", content=saved, headers=JSON_BODY).status_code == 200
    assert client.get(f"/_t/copy/blockchain/tx_price/BTCUSD/{tx}", headers=developer).status_code == 200

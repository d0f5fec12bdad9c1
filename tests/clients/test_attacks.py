"""Issue 15's attacks, each over a real socket, as an attacker on the same machine or a web page in
the developer's browser would try them. Each failed before the fix it names."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import websocket

from emulator.app import create_app
from emulator.settings import Settings
from emulator.testing import EmulatorProcess, RunningEmulator
from tests.conftest import START_TEXT

ALICE = {"name": "alice", "pass": "alice-pass"}
KEY = "0b5d3f6e-7a3c-4c57-9d3e-2a1f8b6c4e01"
SECRET = json.loads(Path("fixtures/accounts.json").read_text())["users"][0]["mtgox_keys"][0]["secret"]
JSON_BODY = {"content-type": "application/json"}


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(base64.b64decode(SECRET), body, hashlib.sha512).digest()).decode()


@pytest.fixture
def base() -> Iterator[str]:
    with RunningEmulator(app=create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False))) as served:
        yield served.url


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client


def open_orders(http: httpx.Client) -> list[object]:
    orders: list[object] = http.post("/code/getOrders.php", data=ALICE).json()["orders"]
    return orders


def test_attack_1_reading_files_through_the_scenario_route(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("root: x:0:0:root:/root:/bin/bash\nname: private\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "mine.yaml").write_text("name: mine\nseed: 42\n")
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, scenarios_dir=str(mine)))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        url = served.url
        for name in ("/etc/shadow", "/etc/passwd", str(secret), "../scenarios/steady", "..", "mine/../steady"):
            answer = http.post("/_emulator/scenario", json={"name": name})
            assert answer.status_code == 400, name
            assert "steady" in answer.json()["error"], "the refusal names the allowed names"
            assert "x:0:0" not in answer.text and "/bin/bash" not in answer.text
        assert http.post("/_emulator/scenario", json={"name": "steady"}).status_code == 200
        assert http.post("/_emulator/scenario", json={"name": "mine"}).json()["seed"] == 42  # --scenarios-dir
        assert http.post("/_emulator/scenario", json={"yaml": "name: inline\nseed: 3\n"}).json()["seed"] == 3
        assert "mine" in [s["name"] for s in http.get("/_emulator/scenarios").json()["scenarios"]]
    (mine / "broken.yaml").write_text("name: broken\nsecret_word: hunter2\n")
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, scenarios_dir=str(mine)))
    with RunningEmulator(app=app) as served:
        url = served.url
        refused = httpx.post(f"{url}/_emulator/scenario", json={"name": "broken"})
        assert refused.status_code == 400 and "broken.yaml:2" in refused.json()["error"]
        assert "secret_word" not in refused.text and "hunter2" not in refused.text, "no content quoted"


def test_attack_2_query_parameters_ride_on_a_signed_empty_body(http: httpx.Client) -> None:
    headers = {"Rest-Key": KEY, "Rest-Sign": sign(b"")}
    answer = http.get("/code/buyBTC.php", params={"nonce": "1", "amount": "0.5", "price": "9.01"}, headers=headers)
    assert "Rest-Key" in answer.json()["error"]
    body = b"amount=0.5&price=9.02"  # signed, but without a nonce: replayed with fresh ?nonce= values
    signed = {"Rest-Key": KEY, "Rest-Sign": sign(body), "content-type": "application/x-www-form-urlencoded"}
    for nonce in ("2", "3"):
        replayed = http.post("/code/buyBTC.php", params={"nonce": nonce}, content=body, headers=signed)
        assert "error" in replayed.json()
    assert open_orders(http) == []
    good = urlencode({"nonce": "4", "amount": "0.5", "price": "9.03"}).encode()
    placed = http.post("/code/buyBTC.php", content=good, headers={**signed, "Rest-Sign": sign(good)})
    assert "oid" in placed.json() and len(open_orders(http)) == 1, "everything in the signed body works"


def test_attack_3_computing_a_session_token(base: str, http: httpx.Client) -> None:
    cookie = http.post("/code/login.php", data=ALICE).cookies["mtgox_session"]
    seed = http.get("/_emulator/ready").json()["seed"]
    guesses = {hashlib.sha256(f"mtgox-session:{seed}:{n}:alice".encode()).hexdigest() for n in range(5)}
    assert cookie not in guesses and len(cookie) >= 64
    assert cookie != http.post("/code/login.php", data=ALICE).cookies["mtgox_session"]
    http.cookies.clear()
    with_cookie = {"cookie": f"mtgox_session={cookie}"}
    assert http.get("/code/getFunds.php", headers=with_cookie).json()["btcs"] == 100
    assert http.get("/_t/other/code/getFunds.php", headers=with_cookie).json() == {"error": "Not logged in."}


def test_attack_4_dns_rebinding_and_cross_site_requests(base: str, http: httpx.Client) -> None:
    evil = {"Host": "attacker.example"}
    for path in ("/code/data/ticker.php", "/_emulator/state", "/"):  # the fast lane's reads too
        assert http.get(path, headers=evil).status_code == 421, path
    assert http.post("/_emulator/reset", headers=evil).status_code == 421
    port = base.rsplit(":", 1)[1]
    ws = f"ws://127.0.0.1:{port}/mtgox"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws, host="attacker.example", timeout=5)
    assert refused.value.status_code == 421
    websocket.create_connection(ws, host=f"localhost:{port}", timeout=5).close()

    before = http.get("/_emulator/state").content
    page = {"Origin": "http://attacker.example"}
    assert http.post("/_emulator/reset", headers=page).status_code == 403
    rule = json.dumps({"api": "mtgox", "path": "/code/*", "effect": "status"})
    assert http.post("/_emulator/faults", content=rule, headers={"content-type": "text/plain"}).status_code == 415
    rich = json.loads(before)
    restored = http.post("/_emulator/state", content=json.dumps(rich), headers={"content-type": "text/plain"})
    assert restored.status_code == 415
    assert http.get("/_emulator/state").content == before, "nothing changed"
    assert http.get("/_emulator/faults").json()["faults"] == []
    own = {"Origin": base}
    assert http.post("/_emulator/faults", content=rule, headers={**own, **JSON_BODY}).status_code == 201


def test_attack_5_made_up_tenants_fill_memory_for_good() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, max_tenants=4, tenant_ttl=3))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        for name in ("a", "b", "c"):
            assert http.get("/code/data/ticker.php", headers={"X-Emulator-Tenant": name}).status_code == 200
        full = http.get("/code/data/ticker.php", headers={"X-Emulator-Tenant": "d"})
        assert full.status_code == 429 and "DELETE /_emulator/tenant" in full.json()["error"]
        listed = {t["name"]: t for t in http.get("/_emulator/tenants").json()["tenants"]}
        assert set(listed) == {"default", "a", "b", "c"}
        assert all(t["memory_estimate"] > 0 and t["created"] <= t["last_used"] + 0.01 for t in listed.values())
        assert http.delete("/_t/a/_emulator/tenant").json() == {"deleted": "a"}
        assert http.delete("/_emulator/tenant", headers={"X-Emulator-Tenant": "a"}).status_code == 404
        assert http.delete("/_emulator/tenant").status_code == 409, "default stays"
        deadline = time.monotonic() + 30  # the ttl is wall-clock time by design: idle for 3 s
        while time.monotonic() < deadline and len(http.get("/_emulator/tenants").json()["tenants"]) > 1:
            time.sleep(0.2)
        assert [t["name"] for t in http.get("/_emulator/tenants").json()["tenants"]] == ["default"]
        assert http.get("/code/data/ticker.php", headers={"X-Emulator-Tenant": "d"}).status_code == 200


def test_attack_5_a_new_tenant_is_cheap_until_its_first_market_read() -> None:
    import tracemalloc

    from emulator.edge.tenancy import WorldRegistry

    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    registry: WorldRegistry = app.state.registry
    registry.get("warm-up")  # modules and fixtures loaded once
    tracemalloc.start()
    try:
        registry.get("fresh").sync()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held <= 2 * 1024 * 1024, f"{held} bytes before the first market read"


def test_attack_6_secrets_and_other_tenants_leak(base: str, http: httpx.Client) -> None:
    http.get("/code/getFunds.php", params=ALICE)
    http.get("/_t/neighbour/code/data/ticker.php")
    entry = http.get("/_emulator/journal", params={"path": "/code/getFunds.php"}).json()["entries"][0]
    assert entry["query"] == "name=alice&pass=***" and "alice-pass" not in json.dumps(entry)
    socket = websocket.create_connection(base.replace("http", "ws") + "/_t/neighbour/mtgox", timeout=5)
    try:
        mine = http.get("/_emulator/connections").json()
        assert mine["count"] == 0 and "neighbour" not in json.dumps(mine)
        theirs = http.get("/_t/neighbour/_emulator/connections").json()
        assert theirs["count"] == 1
    finally:
        socket.close()
    refused = http.post("/_emulator/accounts", json={"name": "x", "password": "p", "balances": {"BTC": "lots"}})
    assert refused.status_code == 422 and "<class" not in refused.text and "not a number" in refused.text


def test_attack_7_a_20_mib_frame_closes_with_1009(base: str) -> None:
    socket = websocket.create_connection(base.replace("http", "ws") + "/mtgox", timeout=20)
    socket.send("x" * (20 * 1024 * 1024))
    while True:
        opcode, data = socket.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
    assert int.from_bytes(data[:2], "big") == 1009


def test_pages_forbid_framing_sniffing_and_foreign_scripts(http: httpx.Client) -> None:
    for path in ("/", "/_emulator/ui", "/docs", "/redoc"):
        headers = http.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


def test_serve_warns_once_when_the_control_api_is_open_to_the_network() -> None:
    with EmulatorProcess("--host", "0.0.0.0") as served:
        assert httpx.get(f"{served.url}/_emulator/ready", timeout=10).status_code == 200
    errors = served.stderr
    warnings = [line for line in errors.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "0.0.0.0" in warnings[0] and "EMULATOR_ADMIN_TOKEN" in warnings[0]

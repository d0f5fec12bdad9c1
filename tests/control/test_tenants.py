"""Tenants: parallel test workers share one emulator and never see each other's market."""

from pathlib import Path

import httpx
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.edge.tenancy import WorldRegistry
from emulator.market.tape import TapeSource
from emulator.market.world import World
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.clients.mtgox_ws import of_kind, open_socket, read_all
from tests.conftest import START_TEXT

ALICE = {"name": "alice", "pass": "alice-pass"}
BOB = {"name": "bob", "pass": "bob-pass"}


def test_two_tenants_trade_at_the_same_time_and_never_see_each_other() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url) as http:
        base = served.url
        red, blue = f"{base}/_t/red", f"{base}/_t/blue"
        since = http.get(f"{red}/code/data/getTrades.php").json()[-1]["tid"]
        with open_socket(red) as red_ws, open_socket(blue) as blue_ws:
            read_all(red_ws), read_all(blue_ws)
            http.post(f"{red}/code/sellBTC.php", data={**ALICE, "amount": "1", "price": "14"})
            http.post(f"{blue}/code/sellBTC.php", data={**ALICE, "amount": "3", "price": "20"})
            http.post(f"{red}/code/buyBTC.php", data={**BOB, "amount": "1", "price": "14"})
            red_frames, blue_frames = read_all(red_ws), read_all(blue_ws)
        red_trades = http.get(f"{red}/code/data/getTrades.php", params={"since": since}).json()
        blue_trades = http.get(f"{blue}/code/data/getTrades.php", params={"since": since}).json()
        assert [t["price"] for t in red_trades] == ["14"] and blue_trades == []
        assert [t["tid"] for t in of_kind(red_frames, "trade")] == [red_trades[0]["tid"]]
        assert of_kind(blue_frames, "trade") == []
        assert {d["price"] for d in of_kind(blue_frames, "depth")} == {20}
        assert http.get(f"{red}/code/data/getDepth.php").json()["asks"] == []
        assert http.get(f"{blue}/code/data/getDepth.php").json()["asks"] == [[20, 3]]
        # the header selects the same tenant as the prefix; no selector is the default tenant
        by_header = http.get("/code/data/getDepth.php", headers={"X-Emulator-Tenant": "blue"}).json()
        assert by_header["asks"] == [[20, 3]]
        assert http.post("/code/getFunds.php", data=ALICE).json()["btcs"] == 100


def test_each_tenant_has_its_own_clock_keys_and_seed() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    with TestClient(app) as client:
        client.post("/_t/a/_emulator/reset", json={"seed": 99, "start": START_TEXT})
        client.post("/_t/a/_emulator/clock/advance", json={"seconds": 600})
        key = client.post("/_t/a/_emulator/keys", json={"api": "mtgox", "account": "alice"}).json()["key"]
        b_clock = client.get("/_t/b/_emulator/clock").json()
        a_clock = client.get("/_t/a/_emulator/clock").json()
        assert a_clock["timestamp"] == b_clock["timestamp"] + 600
        assert client.app.state.registry.get("a").seed == 99  # type: ignore[attr-defined]
        assert key in client.app.state.registry.get("a").directory.mtgox_keys  # type: ignore[attr-defined]
        assert key not in client.app.state.registry.get("b").directory.mtgox_keys  # type: ignore[attr-defined]


def test_tenant_count_is_bounded_with_a_clear_error() -> None:
    app = create_app(Settings(clock="manual", start=START_TEXT, max_tenants=2))
    with TestClient(app) as client:
        assert client.get("/_t/one/_emulator/clock").status_code == 200  # default + one
        refused = client.get("/_t/two/_emulator/clock")
        assert refused.status_code == 429 and "tenant limit of 2" in refused.json()["error"]
        assert client.get("/_t/one/code/data/ticker.php").status_code == 200


def test_a_dropped_tenants_world_is_closed(tmp_path: Path) -> None:
    tape = tmp_path / "t.csv"
    tape.write_text("1310256000,17.5,1\n1310256060,17.6,2\n")
    registry = WorldRegistry(lambda tenant: World(seed=5, mode="manual", tape=TapeSource.file(str(tape))), limit=4)
    world = registry.get("alice")
    assert world.tape is not None and not world.tape.reader.file.closed
    assert registry.drop("alice")
    assert world.tape.reader.file.closed

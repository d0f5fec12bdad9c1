"""`serve --state FILE`: the worlds survive a restart; a damaged file is refused whole, in one line."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
from starlette.testclient import TestClient

from emulator.testing import EmulatorProcess
from tests.conftest import START_TEXT
from tests.test_cli import one_line_error, run

ALICE = {"name": "alice", "pass": "alice-pass"}


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[httpx.Client]:
    """`serve` in a subprocess on a free port, a client on it; stopped with Ctrl-C (its status checked)."""
    served = EmulatorProcess("--clock", "manual", "--start", START_TEXT, *args, env=env)
    with served, httpx.Client(base_url=served.url, timeout=30) as client:
        yield client
    assert (served.returncode, served.stderr) == (0, "")


def test_worlds_survive_a_restart_saved_on_shutdown_and_on_request(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serving("--state", str(state)) as gox:
        assert gox.post(
            "/_emulator/accounts", json={"name": "zoe", "password": "pw", "balances": {"BTC": "3"}}
        ).is_success
        assert gox.post("/code/sellBTC.php", data={**ALICE, "amount": "2", "price": "40"}).json()["orders"]
        assert gox.post("/_t/other/_emulator/clock/advance", json={"seconds": 90}).is_success
        session = gox.post("/_t/other/code/login.php", data=ALICE).cookies["mtgox_session"]
        gox.cookies.clear()
        saved = gox.post("/_emulator/state/save")
        assert saved.status_code == 200 and saved.json()["tenants"] == ["default", "other"]
        on_request = orjson.loads(state.read_bytes())
        assert set(on_request["tenants"]) == {"default", "other"}
        gox.post("/_emulator/clock/advance", json={"seconds": 30})  # after the save: kept by the shutdown's
        orders = gox.post("/code/getOrders.php", data=ALICE).json()["orders"]
    assert not list(tmp_path.glob(".*.tmp")), "the temporary file was renamed over the state file"

    with serving(env={"EMULATOR_STATE": str(state)}) as gox:
        assert gox.post("/code/getFunds.php", data={"name": "zoe", "pass": "pw"}).json()["btcs"] == 3
        assert gox.post("/code/getOrders.php", data=ALICE).json()["orders"] == orders
        assert gox.get("/_emulator/clock").json()["now"] == "2011-07-10T00:00:30Z"
        assert gox.get("/_t/other/_emulator/clock").json()["now"] == "2011-07-10T00:01:30Z"
        with_session = {"cookie": f"mtgox_session={session}"}  # still good in its own tenant, only there
        assert gox.get("/_t/other/code/getFunds.php", headers=with_session).json()["btcs"] == 100
        assert gox.get("/code/getFunds.php", headers=with_session).json() == {"error": "Not logged in."}
        assert {t["name"] for t in gox.get("/_emulator/tenants").json()["tenants"]} == {"default", "other"}


def test_a_damaged_state_file_is_refused_whole_in_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serving("--state", str(state)) as gox:
        gox.get("/_t/second/_emulator/clock")
    whole = state.read_bytes()

    state.write_bytes(whole[: len(whole) // 2])  # cut short, as by a full disk before the atomic write
    one_line_error(run("serve", "--port", "0", "--state", str(state)), "--state", str(state), "not JSON", "move it")
    assert state.read_bytes() == whole[: len(whole) // 2], "a refused file is left as it was"

    document = orjson.loads(whole)
    del document["tenants"]["second"]["engine"]  # the default world is fine, the second is not
    state.write_bytes(orjson.dumps(document))
    line = one_line_error(run("serve", "--port", "0", "--state", str(state)), "'second'", "damaged")
    assert "KeyError" in line and "engine" in line

    state.write_bytes(orjson.dumps({"some": "other json"}))
    one_line_error(
        run("serve", "--port", "0", env={"EMULATOR_STATE": str(state)}), "EMULATOR_STATE", "not a state file"
    )
    one_line_error(run("serve", "--state", str(tmp_path / "missing" / "s.json")), "--state", "no folder")


def test_save_without_a_state_file_says_how_to_get_one(client: TestClient) -> None:
    answer = client.post("/_emulator/state/save")
    assert answer.status_code == 409 and "--state" in answer.json()["error"]

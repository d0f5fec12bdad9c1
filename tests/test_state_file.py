"""`serve --state FILE`: the worlds survive a restart; a damaged file is refused whole, in one line."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import PIPE

import httpx
import orjson
from starlette.testclient import TestClient

from emulator.testing import EmulatorProcess
from tests.conftest import START_TEXT
from tests.test_cli import COMMAND, one_line_error

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


def refused_side_by_side(*starts: tuple[tuple[str, ...], dict[str, str]]) -> list[subprocess.CompletedProcess[str]]:
    """`run` of several (args, env) starts at once: each costs seconds of imports before it is refused."""
    children = [
        (args, subprocess.Popen([*COMMAND, *args], stdout=PIPE, stderr=PIPE, text=True, env={**os.environ, **env}))
        for args, env in starts
    ]
    done = []
    for args, child in children:
        out, err = child.communicate(timeout=60)
        done.append(subprocess.CompletedProcess([*COMMAND, *args], child.returncode, out, err))
    return done


def test_a_damaged_state_file_is_refused_whole_in_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serving("--state", str(state)) as gox:
        gox.get("/_t/second/_emulator/clock")
    whole = state.read_bytes()

    cut, damaged, other = tmp_path / "cut.json", tmp_path / "damaged.json", tmp_path / "other.json"
    cut.write_bytes(whole[: len(whole) // 2])  # cut short, as by a full disk before the atomic write
    document = orjson.loads(whole)
    del document["tenants"]["second"]["engine"]  # the default world is fine, the second is not
    damaged.write_bytes(orjson.dumps(document))
    other.write_bytes(orjson.dumps({"some": "other json"}))
    short, broken, foreign, nowhere = refused_side_by_side(
        (("serve", "--port", "0", "--state", str(cut)), {}),
        (("serve", "--port", "0", "--state", str(damaged)), {}),
        (("serve", "--port", "0"), {"EMULATOR_STATE": str(other)}),
        (("serve", "--state", str(tmp_path / "missing" / "s.json")), {}),
    )
    one_line_error(short, "--state", str(cut), "not JSON", "move it")
    assert cut.read_bytes() == whole[: len(whole) // 2], "a refused file is left as it was"
    line = one_line_error(broken, "'second'", "damaged")
    assert "KeyError" in line and "engine" in line
    one_line_error(foreign, "EMULATOR_STATE", "not a state file")
    one_line_error(nowhere, "--state", "no folder")


def test_save_without_a_state_file_says_how_to_get_one(client: TestClient) -> None:
    answer = client.post("/_emulator/state/save")
    assert answer.status_code == 409 and "--state" in answer.json()["error"]

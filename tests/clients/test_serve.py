"""The console script starts a real server, ready when its banner is printed (how fast: bench/startup.py,
which compares it with a bare FastAPI app; a timed assertion here only measured the machine's load)."""

import json
import os
import shutil
import subprocess
import sys

import httpx

from emulator.testing import EmulatorProcess, RunningEmulator


def test_console_script_serves_ready_once_its_banner_is_printed() -> None:
    script = shutil.which("btc-market-emulator", path=os.path.dirname(sys.executable)) or shutil.which(
        "btc-market-emulator"
    )
    assert script, "the console script is installed with the package"
    with EmulatorProcess("--seed", "5", "--clock", "manual", command=[script]) as served:
        ready = httpx.get(f"{served.url}/_emulator/ready", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["seed"] == 5
        clock = httpx.get(f"{served.url}/_emulator/clock").json()
        assert clock["mode"] == "manual"
    assert f"{served.url}/_emulator/" in served.stdout, "serve prints the URLs it listens on"
    assert f"{served.ws_url}/mtgox" in served.stdout


def test_python_dash_m_emulator_shows_help() -> None:
    result = subprocess.run([sys.executable, "-m", "emulator", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "serve" in result.stdout


def test_the_pure_python_stack_serves_where_the_fast_one_cannot_install() -> None:
    """uvloop and httptools are installed by default; without them uvicorn runs on asyncio and h11,
    and the emulator answers the same over HTTP and websockets."""
    from websockets.sync.client import connect

    from emulator.app import create_app
    from emulator.settings import Settings

    app = create_app(Settings(seed=5, clock="manual", start="2011-07-10T00:00:00Z"))
    with RunningEmulator(app=app, loop="asyncio", http="h11") as served:
        url = served.url
        ticker = httpx.get(f"{url}/code/data/ticker.php", timeout=5)
        assert ticker.status_code == 200 and "ticker" in ticker.json()
        with connect(url.replace("http", "ws", 1) + "/mtgox", open_timeout=5) as ws:
            assert json.loads(ws.recv(timeout=5))["op"] == "subscribe"

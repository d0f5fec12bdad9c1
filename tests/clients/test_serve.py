"""The console script starts a real server that is ready within two seconds."""

import json
import os
import shutil
import subprocess
import sys
import time

import httpx

from emulator.server import free_port


def test_console_script_serves_ready_within_two_seconds() -> None:
    script = shutil.which("btc-market-emulator", path=os.path.dirname(sys.executable)) or shutil.which(
        "btc-market-emulator"
    )
    assert script, "the console script is installed with the package"
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [script, "serve", "--port", str(port), "--seed", "5", "--clock", "manual"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = None
        while time.monotonic() - started < 2.0:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/_emulator/ready", timeout=0.5)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.02)
        assert ready is not None and ready.status_code == 200, "not ready within 2 s"
        assert ready.json()["seed"] == 5
        clock = httpx.get(f"http://127.0.0.1:{port}/_emulator/clock").json()
        assert clock["mode"] == "manual"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=5)
    assert f"http://127.0.0.1:{port}/_emulator/" in output, "serve prints the URLs it listens on"
    assert f"ws://127.0.0.1:{port}/mtgox" in output


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
    from tests.clients.server import running

    app = create_app(Settings(seed=5, clock="manual", start="2011-07-10T00:00:00Z"))
    with running(app, loop="asyncio", http="h11") as url:
        ticker = httpx.get(f"{url}/code/data/ticker.php", timeout=5)
        assert ticker.status_code == 200 and "ticker" in ticker.json()
        with connect(url.replace("http", "ws", 1) + "/mtgox", open_timeout=5) as ws:
            assert json.loads(ws.recv(timeout=5))["op"] == "subscribe"

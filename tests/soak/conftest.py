"""Load and soak tests: bounded, loopback only. Each runs at a quick size by default and at the full
size under the `long` marker (deselected by default; `pytest -m long`, which .ci/run runs too)."""

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from emulator.server import EmulatorServer
from tests.clients.server import free_port


@pytest.fixture(params=[pytest.param("quick"), pytest.param("full", marks=pytest.mark.long)])
def soak_size(request: pytest.FixtureRequest) -> str:
    """`quick` (a check that the path works, in seconds) or `full` (the issue's sizes, minutes)."""
    return str(request.param)


def size(which: str, quick: float, full: float) -> float:
    return full if which == "full" else quick


@dataclass
class Served:
    url: str
    server: EmulatorServer
    loop: asyncio.AbstractEventLoop

    def in_loop(self, function: object) -> object:
        """Run a plain function inside the server's event loop and return its result."""

        async def call() -> object:
            return function()  # type: ignore[operator]

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=10)


@contextmanager
def serving(app: FastAPI) -> Iterator[Served]:
    """tests.clients.server.running, plus the server's loop (for asyncio.all_tasks and friends)."""
    port = free_port()
    server = EmulatorServer(app, "127.0.0.1", port)
    loops: list[asyncio.AbstractEventLoop] = []
    server.on_started.append(lambda _: loops.append(asyncio.get_running_loop()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not loops:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("soak server did not start")
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{port}", server, loops[0])
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def serving_process(*flags: str) -> Iterator[str]:
    """`python -m emulator serve` on a free loopback port (manual clock, seed 7, 2011-07-10); yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--clock", "manual"]
    child = subprocess.Popen([*command, "--seed", "7", "--start", "2011-07-10T00:00:00Z", *flags])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/_emulator/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError("soak server did not start")
            time.sleep(0.05)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=15)


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")

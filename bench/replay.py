"""Market time against wall time, with both APIs' streams on.

    python bench/replay.py [--hours 1] [--subscribers 4] [--skip-server]

First the cost of the BitcoinAverage view of one new market second (what every figure below pays
once per market second it shows BitcoinAverage): a manual-clock world (seed 1, the default flow)
advanced one second at a time, `view(world)` and the local and global BTCUSD tickers made each
second, timed without the world's own step (target <= 1 ms). Then two figures, each in market
seconds per wall second (the target is >= 1800, i.e. an hour of market in two seconds):

- **replay**: `replay steady --until <hours>` in this process, written to /dev/null: the MtGox
  trade, depth and ticker frames of every market second and the BitcoinAverage local and global
  BTCUSD ticker frames every 3 market seconds, exactly what the command writes.
- **advance**: `python -m emulator serve --clock manual` in a child, with `--subscribers` websocket
  clients of BitcoinAverage (`websocket/ticker`, local and global BTCUSD, alternately) and one of
  MtGox connected and reading; the wall time of one `POST /_emulator/clock/advance` of `<hours>`
  (the answer comes once the world has played it; the frames are sent as it plays), then every
  frame read. Beside it, the same advance on a fresh server with nobody connected.

The last line: `view: V ms per new market second (C ms CPU; ...); replay: R market s/s; advance with subscribers:
A market s/s (without: B); target >= 1800`.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from emulator.market.scenario import load
from emulator.replay import write
from emulator.server import free_port

TARGET = 1800
START = "2011-07-10T00:00:00Z"
BA_KEY = "EnterpriseDemoPublicKey0000000000000000000"


def run_replay(seconds: float) -> tuple[float, int]:
    story = load("steady")
    with open(os.devnull, "w") as out:
        began = time.perf_counter()
        count = write(story, None, seconds, out)
        return time.perf_counter() - began, count


def view_cost(seconds: int) -> tuple[float, float]:
    """Wall and CPU seconds per new market second of the BitcoinAverage view (local and global
    BTCUSD). The CPU time of this process moves less than the wall time on a shared machine."""
    from emulator.apis.bitcoinaverage.models import get_model
    from emulator.market.world import World, parse_instant

    world = World(seed=1, start=parse_instant(START), mode="manual")
    model = get_model(world)
    model.view(world).ticker("global", "BTCUSD")  # the price model and the hourly summaries
    spent = cpu = 0.0
    for _ in range(seconds):
        world.advance(1)
        began, began_cpu = time.perf_counter(), time.process_time()
        view = model.view(world)
        view.ticker("local", "BTCUSD")
        view.ticker("global", "BTCUSD")
        spent += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
    return spent / seconds, cpu / seconds


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    flags = ["--port", str(port), "--clock", "manual", "--seed", "7", "--start", START]
    child = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", *flags],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/_emulator/ready", timeout=1).status_code == 200:
                return child, url
        except httpx.HTTPError:
            time.sleep(0.05)
    child.kill()
    raise RuntimeError("the server did not start")


class Reader(threading.Thread):
    """Reads one websocket until it has been quiet for a while after `stop` is set."""

    def __init__(self, ws: ClientConnection) -> None:
        super().__init__(daemon=True)
        self.ws = ws
        self.frames = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while True:
            try:
                self.ws.recv(timeout=0.5)
                self.frames += 1
            except TimeoutError:
                if self.stop.is_set():
                    return
            except Exception:
                return


def ba_socket(url: str, http: httpx.Client, market: str) -> ClientConnection:
    ticket = http.get("/websocket/get_ticket", headers={"x-ba-key": BA_KEY}).json()["ticket"]
    ws = connect(f"{url.replace('http://', 'ws://')}/websocket/ticker?public_key={BA_KEY}&ticket={ticket}")
    ws.recv(timeout=5)  # status
    options: dict[str, Any] = {"market": market, "currency": "BTCUSD"}
    ws.send(json.dumps({"event": "message", "data": {"operation": "subscribe", "options": options}}))
    return ws


def run_advance(seconds: float, subscribers: int) -> tuple[float, int]:
    child, url = start_server()
    try:
        with httpx.Client(base_url=url, timeout=600) as http:
            readers = []
            if subscribers:
                sockets = [ba_socket(url, http, ("local", "global")[i % 2]) for i in range(subscribers)]
                sockets.append(connect(url.replace("http://", "ws://") + "/mtgox"))
                readers = [Reader(ws) for ws in sockets]
                for reader in readers:
                    reader.start()
                http.post("/_emulator/clock/advance", json={"seconds": 1})  # the first frames: views built
                time.sleep(0.5)
            began = time.perf_counter()
            answer = http.post("/_emulator/clock/advance", json={"seconds": seconds})
            elapsed = time.perf_counter() - began
            assert answer.status_code == 200, answer.text
            for reader in readers:
                reader.stop.set()
            for reader in readers:
                reader.join(timeout=60)
                reader.ws.close()
            return elapsed, sum(r.frames for r in readers)
    finally:
        child.terminate()
        child.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--subscribers", type=int, default=4, help="BitcoinAverage websocket clients")
    parser.add_argument("--skip-server", action="store_true", help="the replay figure only")
    args = parser.parse_args()
    seconds = args.hours * 3600
    view, view_cpu = view_cost(300)
    print(
        f"BitcoinAverage view of a new market second (local and global BTCUSD): {view * 1000:.2f} ms "
        f"({view_cpu * 1000:.2f} ms CPU)"
    )
    replay, lines = run_replay(seconds)
    print(
        f"replay steady --until {seconds:g}s: {replay:.2f} s wall, {lines:,} lines, {seconds / replay:,.0f} market s/s"
    )
    summary = (
        f"view: {view * 1000:.2f} ms per new market second ({view_cpu * 1000:.2f} ms CPU; target <= 1); "
        f"replay: {seconds / replay:,.0f} market s/s"
    )
    if not args.skip_server:
        alone, _ = run_advance(seconds, 0)
        watched, frames = run_advance(seconds, args.subscribers)
        print(f"advance {seconds:g}s, nobody connected: {alone:.2f} s wall, {seconds / alone:,.0f} market s/s")
        print(
            f"advance {seconds:g}s, {args.subscribers} BitcoinAverage + 1 MtGox websocket clients: "
            f"{watched:.2f} s wall, {seconds / watched:,.0f} market s/s, {frames:,} frames read"
        )
        summary += f"; advance with subscribers: {seconds / watched:,.0f} market s/s (without: {seconds / alone:,.0f})"
    print(f"{summary}; target >= {TARGET}")


if __name__ == "__main__":
    main()

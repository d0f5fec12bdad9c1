"""Start-up time of the emulator against a bare FastAPI hello-world app, both started by uvicorn.

    python bench/startup.py [--repeat 5]

Seconds from process start (just before Popen) until the server answers 200 on its readiness route:
`btc-market-emulator serve` (as `python -m emulator serve`: imports, the default world seeded with a
day of history, the book primed, the websocket route mounted) polled on /_emulator/ready, then a
websocket connect to /mtgox that must get its first frame; and a bare FastAPI app with one route
returning {"hello": "world"}, run in a child `python` by the same uvicorn.Server/Config call
(`EmulatorServer` is a uvicorn.Server with the same Config arguments), polled on /. Both are polled
over a raw socket every 5 ms, alternately, --repeat times each; the medians are compared.

The final line gives both medians and the ratio. Target: at most 1.2x the hello-world floor.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

from emulator.server import free_port

TARGET = 1.2
HELLO = """
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def hello() -> dict[str, str]:
    return {"hello": "world"}


uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port={port}, log_level="warning", ws="auto")).run()
"""


def answers(port: int, path: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def websocket_ready(port: int) -> bool:
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/mtgox", open_timeout=5) as ws:
        return bool(ws.recv(timeout=5))


def time_start(kind: str) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # the warm-up writes bytecode
    if kind == "emulator":
        command = [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--seed", "7"]
        path = "/_emulator/ready"
    else:
        command = [sys.executable, "-c", HELLO.replace("{port}", str(port))]
        path = "/"
    began = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        while not answers(port, path):
            if child.poll() is not None or time.perf_counter() - began > 60:
                raise RuntimeError(f"{kind} did not start")
            time.sleep(0.005)
        elapsed = time.perf_counter() - began
        if kind == "emulator" and not websocket_ready(port):
            raise RuntimeError("the emulator was ready but its websocket was not")
        return elapsed
    finally:
        child.terminate()
        child.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"hello": [], "emulator": []}
    time_start("hello")  # warm the file cache and bytecode for both
    time_start("emulator")
    for _ in range(args.repeat):
        for kind in times:
            times[kind].append(time_start(kind))
    for kind, values in times.items():
        print(f"  {kind:9} " + " ".join(f"{v:.2f}" for v in values) + f"  median {statistics.median(values):.2f} s")
    hello, emulator = statistics.median(times["hello"]), statistics.median(times["emulator"])
    ratio = emulator / hello
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"startup: emulator ready in {emulator:.2f} s; FastAPI hello-world in {hello:.2f} s; "
        f"ratio {ratio:.2f} (target <= {TARGET}: {verdict})"
    )


if __name__ == "__main__":
    main()

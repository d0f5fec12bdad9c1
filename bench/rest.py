"""Hot REST read routes of the emulator against the raw ASGI ceiling (and a bare Starlette endpoint).

    python bench/rest.py [--seconds 8] [--connections 64] [--generator auto|wrk|httpx] [--stack fast|pure]

Each contender runs in its own subprocess under the same uvicorn settings the `serve` command uses
(uvicorn.Config(app, host, port, log_level="warning", ws="auto", loop and http "auto"), one worker;
the default install has uvloop and httptools, `--stack pure` forces asyncio and h11 on every
contender): the emulator as `serve` builds it (realtime clock at speed 1, so the market moves during
the run; seed 7, start 2011-07-10); the ceiling, a raw ASGI callable answering "ok" (no framework:
what a Python server can do at all on this stack); and a Starlette app whose one route returns
PlainTextResponse("ok"), reported beside it for comparison with older runs. The load comes from
this process: wrk (`wrk -t2 -c64 --latency`) when it is on the PATH, else an async httpx generator
(one AsyncClient, 64 concurrent keep-alive connections, a closed loop per connection).

Routes: MtGox data/ticker.php, data/getDepth.php, data/getTrades.php?since=<a recent tid> (a
client's poll) and BitcoinAverage indices/global/ticker/BTCUSD (enterprise key, no rate limit);
data/getTrades.php without `since` (the whole day, ~28,000 trades) is reported beside them.
The raw endpoint is measured before and after the routes; the ceiling is the mean of both.

The final line gives requests/s, p50/p99 and the ratio to the ceiling per route, and the smallest
ratio. Target: every hot read route at >= 0.7 of the raw ASGI ceiling.
"""

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

from emulator.server import free_port, stack

TARGET = 0.7
BA_KEY = "EnterpriseDemoPublicKey0000000000000000000"
START = "2011-07-10T00:00:00Z"


async def raw_ok(scope: dict[str, object], receive: object, send: object) -> None:
    """The ceiling: a raw ASGI app, one fixed answer, nothing else."""
    if scope["type"] != "http":
        return
    await send(  # type: ignore[operator]
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


def serve(kind: str, port: int, pure: bool) -> None:
    """The child: one contender under uvicorn, the same settings for all."""
    import uvicorn

    loop, http = ("asyncio", "h11") if pure else ("auto", "auto")
    if kind == "raw":
        config = uvicorn.Config(
            raw_ok, host="127.0.0.1", port=port, log_level="warning", ws="auto", lifespan="off", loop=loop, http=http
        )
        uvicorn.Server(config).run()
    elif kind == "bare":
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        async def ok(request: object) -> PlainTextResponse:
            return PlainTextResponse("ok")

        app = Starlette(routes=[Route("/plain", ok)])
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="auto", loop=loop, http=http)
        uvicorn.Server(config).run()
    elif not pure:  # exactly what `python -m emulator serve` runs (its collector settings included)
        from emulator.cli import main

        main(["serve", "--port", str(port), "--seed", "7", "--start", START])
    else:  # the same on asyncio and h11
        import gc

        from emulator.app import create_app
        from emulator.server import EmulatorServer
        from emulator.settings import Settings

        gc.disable()
        server = EmulatorServer(create_app(Settings(seed=7, start=START)), "127.0.0.1", port, loop=loop, http=http)
        server.on_started.append(lambda _: (gc.freeze(), gc.enable()))
        server.run()


def start(kind: str, pure: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    extra = ["--stack", "pure"] if pure else []
    child = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), *extra])
    url = f"http://127.0.0.1:{port}"
    probe = "/plain" if kind in ("bare", "raw") else "/_emulator/ready"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + probe, timeout=1).status_code == 200:
                return child, url
        except httpx.HTTPError:
            time.sleep(0.05)
    child.kill()
    raise RuntimeError(f"{kind} server did not start")


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = 0.0  # the server's CPU time per request (0 where /proc is not there)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def measured(
    child: subprocess.Popen[bytes], generator: str, url: str, headers: dict[str, str], seconds: float, connections: int
) -> Result:
    """measure(), with the server's CPU time per request: on a machine shared with other jobs the
    request rate follows whatever else runs, the CPU a request costs much less so."""
    before = cpu_seconds(child.pid)
    result = measure(generator, url, headers, seconds, connections)
    spent = cpu_seconds(child.pid) - before
    count = result.rate * seconds
    result.cpu_us = spent / count * 1e6 if count and spent else 0.0
    return result


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, failed.groups())) if failed else 0)
    return Result(rate, p50, p99, errors)


async def _httpx_load(url: str, headers: dict[str, str], seconds: float, connections: int) -> Result:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10, headers=headers) as client:
        await client.get(url)
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while (began := time.perf_counter()) < stop:
                try:
                    response = await client.get(url)
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(
        len(latencies) / elapsed,
        latencies[len(latencies) // 2] * 1000,
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        errors,
    )


def measure(generator: str, url: str, headers: dict[str, str], seconds: float, connections: int) -> Result:
    if generator == "wrk":
        return run_wrk(url, headers, seconds, connections)
    return asyncio.run(_httpx_load(url, headers, seconds, connections))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--generator", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--stack", choices=("fast", "pure"), default="fast", help="pure: asyncio and h11")
    parser.add_argument("--serve", choices=("emulator", "bare", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.stack == "pure")
        return
    pure = args.stack == "pure"
    generator = args.generator if args.generator != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    loop, http = ("asyncio", "h11") if pure else stack()
    print(
        f"load generator: {generator}, {args.connections} connections, "
        f"{args.seconds:g} s per route, {os.cpu_count()} cores; server stack: uvicorn, {loop}, {http}"
    )
    raw, raw_url = start("raw", pure)
    bare, bare_url = start("bare", pure)
    emulator, url = start("emulator", pure)
    try:
        tid = int(httpx.get(url + "/code/data/getTrades.php?since=0").json()[0]["tid"])  # warm
        last = httpx.get(url + "/code/data/ticker.php").json()
        assert "ticker" in last
        trades = httpx.get(url + "/code/data/getTrades.php").json()
        httpx.get(url + "/indices/global/ticker/BTCUSD", headers={"x-ba-key": BA_KEY})  # builds the BA model
        since = int(trades[-1]["tid"]) - 20 if trades else tid
        routes = {
            "ticker": ("/code/data/ticker.php", {}),
            "getDepth": ("/code/data/getDepth.php", {}),
            "getTrades?since": (f"/code/data/getTrades.php?since={since}", {}),
            "BA ticker": ("/indices/global/ticker/BTCUSD", {"x-ba-key": BA_KEY}),
        }
        ceiling_before = measured(raw, generator, raw_url + "/plain", {}, args.seconds, args.connections)
        starlette = measured(bare, generator, bare_url + "/plain", {}, args.seconds, args.connections)
        results = {}
        for name, (path, headers) in routes.items():
            results[name] = measured(emulator, generator, url + path, headers, args.seconds, args.connections)
        full_day = measure(generator, url + "/code/data/getTrades.php", {}, args.seconds, 8)
        ceiling_after = measured(raw, generator, raw_url + "/plain", {}, args.seconds, args.connections)
    finally:
        for child in (raw, bare, emulator):
            child.terminate()
            child.wait(timeout=10)
    ceiling = (ceiling_before.rate + ceiling_after.rate) / 2
    rows = [("raw (before)", ceiling_before), ("bare Starlette", starlette), *results.items()]
    for name, r in [*rows, ("raw (after)", ceiling_after)]:
        print(
            f"  {name:16} {r.rate:9.0f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms  errors {r.errors}"
            f"  server CPU {r.cpu_us:6.1f} us/request"
        )
    print(
        f"  {'getTrades (24 h)':16} {full_day.rate:9.1f} req/s  p50 {full_day.p50_ms:7.1f} ms  "
        f"p99 {full_day.p99_ms:7.1f} ms  (8 connections; not a target route)"
    )
    parts = [
        f"{name} {r.rate:.0f}/s p50 {r.p50_ms:.1f} ms p99 {r.p99_ms:.1f} ms ratio {r.rate / ceiling:.2f}"
        for name, r in results.items()
    ]
    worst = min(r.rate for r in results.values()) / ceiling
    errors = sum(r.errors for r in results.values())
    verdict = "met" if worst >= TARGET and not errors else "NOT met"
    print(f"  bare Starlette is {starlette.rate / ceiling:.2f} of the raw ASGI ceiling")
    raw_cpu = (ceiling_before.cpu_us + ceiling_after.cpu_us) / 2
    if raw_cpu:
        print(
            "  CPU ratio (raw ASGI's server CPU per request / the route's; what the rate ratio is on an idle machine): "
            + "; ".join(f"{name} {raw_cpu / r.cpu_us:.2f}" for name, r in results.items() if r.cpu_us)
        )
    print(
        f"rest ({generator}, {loop}/{http}): raw ASGI {ceiling:.0f}/s; "
        + "; ".join(parts)
        + f"; min ratio {worst:.2f} (target >= {TARGET}: {verdict}); errors {errors}"
    )


if __name__ == "__main__":
    main()

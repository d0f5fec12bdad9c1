"""Websocket fan-out of the MtGox emulator (/mtgox) against a bare Starlette websocket broadcast.

    python bench/ws_fanout.py [--subscribers 1,100,500] [--messages 200] [--rounds 30] [--interval 0.1] [--repeat 1]

Each contender runs as a uvicorn server (same uvicorn settings: default websocket implementation,
permessage-deflate offered) in its own subprocess, so the client load does not share its GIL; this
process runs every subscriber on one asyncio loop with the `websockets` client, loopback only.

Per subscriber count and contender, on a fresh server (the emulator: manual clock, fixed start and
seed, so every run plays exactly the same market):

1. Burst: one trigger publishes about --messages messages. The emulator advances its clock by enough
   market seconds (calibrated once up front); the bare app sends the texts the emulator's first
   subscriber received in that burst, one `await ws.send_text` per subscriber per message.
   messages/s = subscribers x messages / (last frame received - start of the triggering HTTP call),
   so the emulator's rate includes the time it takes to play that market time.
2. Paced: --rounds triggers, one every --interval seconds (open loop), each playing --step market
   seconds on the emulator (about 2 messages per market second) or sending the same messages as that
   emulator round on the bare app. p50/p99 latency come from this phase.

Latency of a frame = the time a subscriber's client read it - the time the server handed that message
to its fan-out (the emulator: entry of Channels.publish, wrapped by this script inside the server
process; the bare app: before its loop over the sockets). Both clocks are time.perf_counter, i.e.
CLOCK_MONOTONIC, which processes on one Linux machine share. Server CPU per frame comes from
/proc/<pid>/stat over the burst, so it does not depend on how fast this client reads.

The final line gives the ratio (emulator messages/s / bare messages/s) and the emulator's p99 at the
largest subscriber count. Target at 500 subscribers: ratio >= 0.8 and p99 < 100 ms.
"""

import argparse
import asyncio
import bisect
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from emulator.server import free_port

START = "2011-07-10T00:00:00Z"
SEED = 1
QUEUE_LIMIT = 1_000_000  # no subscriber is dropped as slow during the benchmark
TARGET_RATIO = 0.8
TARGET_P99_MS = 100.0
TARGET_SUBSCRIBERS = 500
CONNECT_AT_ONCE = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")
# the three frames the emulator sends on connect; the bare app sends the same ones
HELLO = [
    json.dumps({"op": "subscribe", "channel": c}, separators=(",", ":"))
    for c in (
        "dbf1dee9-4f2e-4a08-8cb7-748919a71b21",
        "d5f06780-30a8-4a48-a2f8-7ed181b4a13f",
        "24e67e0d-1cad-4cc0-9e7a-f8523ef460fe",
    )
]


# -- the servers (run with --serve in a subprocess) ------------------------------------------------


def serve_emulator(port: int) -> None:
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    from emulator import streaming
    from emulator.app import create_app
    from emulator.server import EmulatorServer
    from emulator.settings import Settings

    stamps: list[float] = []
    publish = streaming.Channels.publish

    def stamped(self: streaming.Channels, channel: str, payload: Any) -> None:
        if self.subscribers.get(channel):
            stamps.append(time.perf_counter())
        publish(self, channel, payload)

    streaming.Channels.publish = stamped  # type: ignore[method-assign]

    async def take_stamps(request: Request) -> JSONResponse:
        taken = stamps[:]
        stamps.clear()
        return JSONResponse(taken)

    settings = Settings(clock="manual", start=START, seed=SEED, ws_queue_limit=QUEUE_LIMIT)
    app = create_app(settings)
    app.add_route("/_bench/stamps", take_stamps, methods=["GET"])
    EmulatorServer(app, "127.0.0.1", port).run()


def serve_bare(port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    texts: list[str] = []
    sockets: list[WebSocket] = []
    stamps: list[float] = []

    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        for text in HELLO:
            await websocket.send_text(text)
        sockets.append(websocket)
        try:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sockets.remove(websocket)

    async def load(request: Request) -> JSONResponse:
        texts[:] = await request.json()
        return JSONResponse(len(texts))

    async def broadcast(request: Request) -> JSONResponse:
        first, end = await request.json()
        stamps.extend([time.perf_counter()] * (end - first))  # every message is there to send from now
        for text in texts[first:end]:
            for websocket in list(sockets):
                await websocket.send_text(text)
        return JSONResponse(end - first)

    async def take_stamps(request: Request) -> JSONResponse:
        taken = stamps[:]
        stamps.clear()
        return JSONResponse(taken)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse("ok")

    routes = [
        WebSocketRoute("/mtgox", feed),
        Route("/_bench/load", load, methods=["POST"]),
        Route("/_bench/broadcast", broadcast, methods=["POST"]),
        Route("/_bench/stamps", take_stamps, methods=["GET"]),
        Route("/_emulator/health", health, methods=["GET"]),
    ]
    uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning")).run()


# -- the client side --------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Server:
    """One contender in a subprocess on a free loopback port."""

    profile: str | None = None  # a directory: each server writes a cProfile dump there when stopped

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, os.path.abspath(__file__), "--serve", kind, "--port", str(self.port)]
        if self.profile:
            args += ["--profile", self.profile]
        self.process = subprocess.Popen(args)

    async def wait_ready(self, http: httpx.AsyncClient) -> None:
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited with {self.process.returncode}")
            try:
                if (await http.get(self.base + "/_emulator/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} server did not start")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # uvicorn shuts down, then re-raises it: KeyboardInterrupt
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Subscriber:
    keep_texts: bool
    times: list[float] = field(default_factory=list)  # receipt time of message k (after HELLO)
    texts: list[str] = field(default_factory=list)
    hello: int = 0
    closed: bool = False


class Crowd:
    """N websocket subscribers on this loop; wake-ups when every one holds `expect` messages."""

    def __init__(self, count: int, url: str, compression: str | None) -> None:
        self.subscribers = [Subscriber(keep_texts=i == 0) for i in range(count)]
        self.url = url
        self.compression = compression
        self.expect = 0
        self.behind = count
        self.done = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.sockets: list[ClientConnection] = []

    async def open(self) -> None:
        gate = asyncio.Semaphore(CONNECT_AT_ONCE)
        opened = [asyncio.Event() for _ in self.subscribers]
        for sub, ready in zip(self.subscribers, opened, strict=True):
            self.tasks.append(asyncio.create_task(self._run(sub, gate, ready)))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in opened)), 60)

    async def _run(self, sub: Subscriber, gate: asyncio.Semaphore, ready: asyncio.Event) -> None:
        async with gate:
            ws = await connect(
                self.url, compression=self.compression, ping_interval=None, open_timeout=30, max_size=None
            )
            self.sockets.append(ws)
            while sub.hello < len(HELLO):
                await ws.recv()
                sub.hello += 1
        ready.set()
        clock = time.perf_counter
        times, texts = sub.times, sub.texts
        try:
            async for text in ws:
                times.append(clock())
                if sub.keep_texts:
                    texts.append(str(text))
                if len(times) == self.expect:
                    self.behind -= 1
                    if not self.behind:
                        self.done.set()
        except ConnectionClosed:
            pass
        sub.closed = True

    async def until(self, expect: int, timeout: float) -> bool:
        """Wait until every subscriber has `expect` messages; False on timeout or a closed socket."""
        self.expect = expect
        self.behind = sum(1 for s in self.subscribers if len(s.times) < expect)
        self.done.clear()
        if not self.behind:
            return True
        try:
            await asyncio.wait_for(self.done.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


@dataclass
class Result:
    kind: str
    subscribers: int
    messages: int = 0
    rate: float = math.nan  # frames delivered per second in the burst, all subscribers together
    server_cpu_us: float = math.nan  # server CPU per delivered frame in the burst
    client_cpu_share: float = math.nan  # client CPU seconds / wall seconds in the burst
    p50_ms: float = math.nan  # paced phase
    p99_ms: float = math.nan
    burst_p99_ms: float = math.nan
    missing: int = 0  # frames not delivered before the timeout
    burst_texts: list[str] = field(default_factory=list)
    round_texts: list[list[str]] = field(default_factory=list)


@dataclass
class Plan:
    burst_seconds: int
    step: int
    rounds: int
    interval: float
    compression: str | None
    timeout: float


def latencies(subs: Sequence[Subscriber], stamps: Sequence[float], offset: int) -> list[float]:
    out: list[float] = []
    for sub in subs:
        times = sub.times[offset : offset + len(stamps)]
        out.extend(t - s for t, s in zip(times, stamps, strict=False))
    return out


async def run(
    kind: str, count: int, plan: Plan, reference: Result | None, http: httpx.AsyncClient, log: bool
) -> Result:
    """One contender with `count` subscribers; the bare app replays the texts of `reference`."""
    server = Server(kind)
    result = Result(kind, count)
    crowd: Crowd | None = None
    try:
        await server.wait_ready(http)
        if kind == "bare":
            assert reference is not None
            rounds = reference.round_texts
            texts = reference.burst_texts + [t for r in rounds for t in r]
            await http.post(server.base + "/_bench/load", json=texts)
            bounds = [len(reference.burst_texts)]
            for r in rounds:
                bounds.append(bounds[-1] + len(r))
        crowd = Crowd(count, server.base.replace("http://", "ws://") + "/mtgox", plan.compression)
        await crowd.open()
        await http.get(server.base + "/_bench/stamps")  # drop anything stamped while connecting

        # 1. burst
        cpu0, client0 = cpu_seconds(server.process.pid), time.process_time()
        start = time.perf_counter()
        if kind == "emulator":
            await http.post(server.base + "/_emulator/clock/advance", json={"seconds": plan.burst_seconds})
        else:
            await http.post(server.base + "/_bench/broadcast", json=[0, bounds[0]])
        answered = time.perf_counter() - start
        burst = (await http.get(server.base + "/_bench/stamps")).json()
        complete = await crowd.until(len(burst), plan.timeout)
        last = max((s.times[-1] for s in crowd.subscribers if s.times), default=math.nan)
        cpu = cpu_seconds(server.process.pid) - cpu0
        wall, client_cpu = last - start, time.process_time() - client0
        delivered = sum(min(len(s.times), len(burst)) for s in crowd.subscribers)
        result.messages = len(burst)
        result.rate = delivered / wall if complete else math.nan
        result.server_cpu_us = cpu / max(1, delivered) * 1e6
        result.client_cpu_share = client_cpu / wall
        result.burst_p99_ms = percentile(latencies(crowd.subscribers, burst, 0), 0.99) * 1e3
        result.missing += count * len(burst) - delivered
        result.burst_texts = crowd.subscribers[0].texts[: len(burst)]

        # 2. paced rounds, open loop
        triggers: list[float] = []
        cpu0 = cpu_seconds(server.process.pid)
        begin = time.perf_counter()
        for i in range(plan.rounds):
            await asyncio.sleep(max(0.0, begin + i * plan.interval - time.perf_counter()))
            triggers.append(time.perf_counter())
            if kind == "emulator":
                await http.post(server.base + "/_emulator/clock/advance", json={"seconds": plan.step})
            else:
                await http.post(server.base + "/_bench/broadcast", json=[bounds[i], bounds[i + 1]])
        paced = (await http.get(server.base + "/_bench/stamps")).json()
        await crowd.until(len(burst) + len(paced), plan.timeout)
        got = latencies(crowd.subscribers, paced, len(burst))
        paced_cpu = cpu_seconds(server.process.pid) - cpu0
        paced_wall = time.perf_counter() - begin
        result.missing += count * len(paced) - len(got)
        result.p50_ms = percentile(got, 0.5) * 1e3
        result.p99_ms = percentile(got, 0.99) * 1e3
        if kind == "emulator":  # which round published which message, for the bare replay
            received = crowd.subscribers[0].texts[len(burst) :]
            owners = [bisect.bisect_right(triggers, s) - 1 for s in paced]
            result.round_texts = [[] for _ in triggers]
            for text, owner in zip(received, owners, strict=False):
                result.round_texts[max(0, owner)].append(text)
        if log:
            print(
                f"  {kind:8} {count:4} subs: burst {result.messages} msgs, {result.rate:,.0f} frames/s, "
                f"server {result.server_cpu_us:.1f} us CPU/frame, client CPU {result.client_cpu_share:.0%}, "
                f"burst p99 {result.burst_p99_ms:.0f} ms, trigger answered after {answered * 1e3:.0f} ms; "
                f"paced {len(paced)} msgs p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms, "
                f"server CPU {paced_cpu / paced_wall:.0%}"
                + (f"; {result.missing} frames missing" if result.missing else ""),
                flush=True,
            )
        return result
    finally:
        if crowd is not None:
            await crowd.close()
        server.stop()


def better(a: Result, b: Result) -> Result:
    """The best of two runs, figure by figure (noisy neighbours only ever make a run slower)."""
    best = a if a.rate >= b.rate or math.isnan(b.rate) else b
    return replace(
        best,
        p50_ms=min(a.p50_ms, b.p50_ms),
        p99_ms=min(a.p99_ms, b.p99_ms),
        server_cpu_us=min(a.server_cpu_us, b.server_cpu_us),
    )


async def calibrate(messages: int, http: httpx.AsyncClient, compression: str | None) -> int:
    """Market seconds the emulator needs to publish at least `messages` messages to one subscriber."""
    server = Server("emulator")
    crowd: Crowd | None = None
    try:
        await server.wait_ready(http)
        crowd = Crowd(1, server.base.replace("http://", "ws://") + "/mtgox", compression)
        await crowd.open()
        await http.get(server.base + "/_bench/stamps")
        seconds, published = 0, 0
        while published < messages and seconds < 100_000:
            step = max(10, (messages - published) // 2)
            await http.post(server.base + "/_emulator/clock/advance", json={"seconds": step})
            seconds += step
            published += len((await http.get(server.base + "/_bench/stamps")).json())
        return seconds
    finally:
        if crowd is not None:
            await crowd.close()
        server.stop()


async def bench(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.subscribers.split(",")]
    compression = None if args.compression == "none" else "deflate"
    async with httpx.AsyncClient(timeout=120) as http:
        burst_seconds = await calibrate(args.messages, http, compression)
        plan = Plan(burst_seconds, args.step, args.rounds, args.interval, compression, args.timeout)
        print(
            f"burst: {burst_seconds} market seconds; paced: {args.rounds} rounds of {args.step} market s every "
            f"{args.interval * 1e3:.0f} ms; compression {args.compression}",
            flush=True,
        )
        best: dict[tuple[str, int], Result] = {}
        for _ in range(args.repeat):
            for count in counts:
                emulator = await run("emulator", count, plan, None, http, args.verbose)
                bare = await run("bare", count, plan, emulator, http, args.verbose)
                for result in (emulator, bare):
                    key = (result.kind, count)
                    best[key] = better(best[key], result) if key in best else result
        rows = [(best["emulator", count], best["bare", count]) for count in counts]

    print(
        f"{'subs':>5} {'emulator msg/s':>15} {'bare msg/s':>12} {'ratio':>6} {'emu p50/p99 ms':>15} "
        f"{'bare p50/p99 ms':>16} {'CPU us/frame emu/bare':>22}"
    )
    for emulator, bare in rows:
        print(
            f"{emulator.subscribers:>5} {emulator.rate:>15,.0f} {bare.rate:>12,.0f} {emulator.rate / bare.rate:>6.2f} "
            f"{f'{emulator.p50_ms:.1f}/{emulator.p99_ms:.1f}':>15} {f'{bare.p50_ms:.1f}/{bare.p99_ms:.1f}':>16} "
            f"{f'{emulator.server_cpu_us:.1f}/{bare.server_cpu_us:.1f}':>22}"
        )
    emulator, bare = next((row for row in rows if row[0].subscribers == TARGET_SUBSCRIBERS), rows[-1])
    ratio = emulator.rate / bare.rate
    met = emulator.subscribers >= TARGET_SUBSCRIBERS and ratio >= TARGET_RATIO and emulator.p99_ms < TARGET_P99_MS
    print(
        f"{emulator.subscribers} subscribers: emulator {emulator.rate:,.0f} msg/s, bare {bare.rate:,.0f} msg/s, "
        f"ratio {ratio:.2f}; p99 {emulator.p99_ms:.1f} ms (bare {bare.p99_ms:.1f} ms); "
        f"target at {TARGET_SUBSCRIBERS}: ratio >= {TARGET_RATIO} and p99 < {TARGET_P99_MS:.0f} ms: "
        + ("met" if met else "NOT met")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--subscribers", default="1,100,500", help="comma-separated subscriber counts")
    parser.add_argument("--messages", type=int, default=200, help="messages in the burst (about)")
    parser.add_argument("--rounds", type=int, default=30, help="paced triggers")
    parser.add_argument("--step", type=int, default=1, help="market seconds per paced trigger")
    parser.add_argument("--interval", type=float, default=0.1, help="wall seconds between paced triggers")
    parser.add_argument("--repeat", type=int, default=1, help="passes; each figure is the best of them")
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for delivery per phase")
    parser.add_argument("--quiet", dest="verbose", action="store_false", help="no per-run lines")
    parser.add_argument("--profile", metavar="DIR", help="write a cProfile dump of every server run to DIR")
    parser.add_argument("--serve", choices=["emulator", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve = serve_emulator if args.serve == "emulator" else serve_bare
        if args.profile:
            import cProfile

            with cProfile.Profile() as profiler, contextlib.suppress(KeyboardInterrupt):
                serve(args.port)
            profiler.dump_stats(os.path.join(args.profile, f"{args.serve}-{args.port}.prof"))
        else:
            with contextlib.suppress(KeyboardInterrupt):
                serve(args.port)
    else:
        Server.profile = args.profile and os.path.abspath(args.profile)
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()

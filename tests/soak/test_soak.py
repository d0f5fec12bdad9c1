"""Load and soak tests (marked `soak`; each at a quick size, and at the issue's full size marked `long`).

- REST: requests across the hot read routes at a fixed concurrency, zero errors (quick: 500 at 20;
  full: 50,000 at 100).
- Websocket: connect/subscribe/disconnect cycles on /mtgox with RSS growth under 10 MB and the
  server loop's task count back to its baseline (quick: 60; full: 5,000).
- A realtime market at 1000x with clients trading, depositing and withdrawing over HTTP; funds are
  conserved (quick: 4 s of wall time; full: 10 minutes).
"""

import asyncio
import gc
import itertools
import json
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from emulator.apis.mtgox.websocket import PUBLIC, TICKER
from emulator.app import create_app
from emulator.engine.events import BalanceChange
from emulator.market.world import World
from emulator.settings import Settings
from emulator.testing import EmulatorProcess, RunningEmulator
from tests.clients.mtgox_ws import open_socket
from tests.conftest import START_TEXT
from tests.soak.conftest import rss_bytes, size

pytestmark = pytest.mark.soak
BA_KEY = {"x-ba-key": "EnterpriseDemoPublicKey0000000000000000000"}  # unlimited plan: no 429s
ALICE = {"name": "alice", "pass": "alice-pass"}
ADDRESS = "1HZwkjkeaoZfTSaJxDw6aKkxp45agDiEzN"
BOB = {"name": "bob", "pass": "bob-pass"}


def hot_routes(since: str) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/code/data/ticker.php", {}),
        ("/code/data/getDepth.php", {}),
        (f"/code/data/getTrades.php?since={since}", {}),
        ("/indices/global/ticker/BTCUSD", BA_KEY),
    ]


async def _load(base: str, routes: list[tuple[str, dict[str, str]]], total: int, concurrency: int) -> Counter[Any]:
    outcomes: Counter[Any] = Counter()
    jobs = itertools.islice(itertools.cycle(routes), total)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def worker() -> None:
            for path, headers in jobs:  # one shared iterator: the workers split the requests between them
                try:
                    response = await http.get(path, headers=headers)
                    outcomes[path.split("?")[0], response.status_code] += 1
                except httpx.HTTPError as exc:
                    outcomes[path.split("?")[0], type(exc).__name__] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


def test_hot_routes_under_load_answer_every_request(soak_size: str) -> None:
    """The server runs in a child process (as `serve` runs it), so the load does not share its GIL."""
    total, concurrency = int(size(soak_size, 500, 50_000)), int(size(soak_size, 20, 100))
    flags = ("--clock", "manual", "--seed", "7", "--start", START_TEXT)
    with EmulatorProcess(*flags) as served:
        url = served.url
        last = httpx.get(url + "/code/data/getTrades.php").json()[-1]["tid"]
        since = str(int(last) - 50)
        started = time.perf_counter()
        outcomes = asyncio.run(_load(url, hot_routes(since), total, concurrency))
        elapsed = time.perf_counter() - started
    failures = {key: n for key, n in outcomes.items() if key[1] != 200}
    assert sum(outcomes.values()) == total
    assert not failures, failures
    print(f"\n{total} requests at {concurrency} concurrent in {elapsed:.1f} s ({total / elapsed:.0f}/s), no errors")


def _cycle(base: str) -> None:
    with open_socket(base) as ws:
        for _ in PUBLIC:
            json.loads(ws.recv(timeout=5))
        ws.send(json.dumps({"op": "unsubscribe", "channel": TICKER}))
        assert json.loads(ws.recv(timeout=5)) == {"op": "unsubscribe", "channel": TICKER}


def test_websocket_cycles_leak_neither_memory_nor_tasks(soak_size: str) -> None:
    cycles = int(size(soak_size, 60, 5_000))
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    with RunningEmulator(app=app) as served:
        connections = app.state.connections

        def settled() -> tuple[int, int]:
            return len(asyncio.all_tasks()), len(connections.clients)

        for _ in range(20):  # warm-up: imports, caches, the feed and its subscription
            _cycle(served.url)
        time.sleep(0.2)
        baseline = served.in_loop(settled)
        gc.collect()
        rss_before = rss_bytes()
        for _ in range(cycles):
            _cycle(served.url)
        deadline = time.monotonic() + 5
        while (after := served.in_loop(settled)) != baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        gc.collect()
        growth = rss_bytes() - rss_before
        feed = app.state.registry.get("default").attachments["mtgox-feed"]
        subscribers = {channel: len(members) for channel, members in feed.channels.subscribers.items()}
    assert after == baseline, f"tasks and open clients {after} after {cycles} cycles, baseline {baseline}"
    assert not subscribers, f"channels still hold clients: {subscribers}"
    assert growth < 10 * 2**20, f"RSS grew {growth / 2**20:.1f} MB over {cycles} cycles"
    print(f"\n{cycles} websocket cycles: RSS {growth / 2**20:+.1f} MB, tasks back to {baseline[0]}")


async def _trade_while_running(base: str, seconds: float) -> Counter[int]:
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for round_ in itertools.count():
            if time.monotonic() > deadline:
                break
            side = "buyBTC.php" if round_ % 2 else "sellBTC.php"
            price = "20" if side == "buyBTC.php" else "10"  # crossing: they trade with the agents
            calls = [
                http.post(f"/code/{side}", data={**ALICE, "amount": "0.5", "price": price}),
                http.post("/code/withdraw.php", data={**BOB, "group1": "BTC", "amount": "0.01", "btca": ADDRESS}),
                http.get("/code/data/ticker.php"),
                http.get("/indices/global/ticker/BTCUSD", headers=BA_KEY),
            ]
            for response in await asyncio.gather(*calls):
                statuses[response.status_code] += 1
            if round_ % 20 == 0:  # deposits, through new accounts
                account = {"name": f"u{round_}", "password": "pw", "balances": {"BTC": "1", "USD": "10"}}
                statuses[(await http.post("/_emulator/accounts", json=account)).status_code] += 1
            await asyncio.sleep(0.05)
    return statuses


def test_a_market_at_1000x_conserves_funds(soak_size: str) -> None:
    seconds = size(soak_size, 4, 600)
    app = create_app(Settings(seed=7, clock="realtime", speed=1000, start=START_TEXT))
    world: World = app.state.registry.get("default")
    flows = world.bus.subscribe(["balance"], maxsize=10**8)
    before = world.engine.ledger.totals()
    started_at = world.now
    with RunningEmulator(app=app) as served:
        statuses = asyncio.run(_trade_while_running(served.url, seconds))
    world.clock.configure(mode="manual")  # the server has stopped: nothing else touches the world now
    after = world.engine.ledger.totals()
    external: Counter[str] = Counter()
    withdrawn: Counter[str] = Counter()
    for change in flows.drain():
        assert isinstance(change, BalanceChange)
        if change.kind in ("deposit", "withdraw"):
            external[change.currency] += change.delta
        if change.kind == "withdraw":
            withdrawn[change.currency] -= change.delta
    assert not flows.overflowed
    for currency in set(before) | set(after):
        assert after.get(currency, 0) - before.get(currency, 0) == external[currency], currency
    played = (world.now - started_at) / 1e6
    assert played >= 1000 * seconds * 0.8, f"only {played:.0f} s of market time in {seconds} s at 1000x"
    assert statuses[200] > 0 and set(statuses) <= {200, 201}, statuses
    assert withdrawn["BTC"] > 0, "the run withdrew BTC"
    print(f"\n{played / 3600:.1f} h of market at 1000x in {seconds:.0f} s, funds conserved; net in {dict(external)}")

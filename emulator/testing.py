"""pytest plugin: the emulator as a fixture, one isolated tenant (world) per test.

Registered through the `pytest11` entry point, so installing the package is enough. Fixtures:

- `emulator`: a handle on this test's own tenant of an emulator served on a free loopback port:
  `http_url`, `ws_url`, `mtgox_url`, `tenant`, and control methods (`reset`, `advance`, `clock`,
  `set_clock`, `account`, `mtgox_key`, `mtgox_activation_key`, `average_key`, `add_fault`, `faults`,
  `remove_fault`, `clear_faults`, `journal`, `clear_journal`).
- `emulator_server`: the session's server (started on first use, stopped at the end of the session).
- `emulator_asgi`: an `httpx.AsyncClient` on the app through `httpx.ASGITransport` (no socket),
  on this test's own tenant; `emulator_asgi_sync`: the same as a starlette `TestClient`. These two
  need httpx (`pip install httpx`); the others need nothing beyond the package and pytest: their
  control calls go through the standard library.
- `emulator_app`: the session's in-process app behind the two ASGI fixtures.

The harnesses behind them, for tests that need a server of their own (other settings, another
uvicorn stack, the real command line): `RunningEmulator` serves an app in a thread of this process;
`EmulatorProcess` runs `serve` in a child process with more flags and environment, its output kept.
The project's own tests start every server they need through these two.

Worlds run on a manual clock; seed, start instant and order flow come from `--emulator-seed`,
`--emulator-start`, `--emulator-flow` (or the `emulator_seed`, `emulator_start`, `emulator_flow` ini
options, or EMULATOR_SEED, EMULATOR_START, EMULATOR_FLOW). Imports nothing heavy until a fixture is used.
"""

from __future__ import annotations

import asyncio
import hashlib
import json as jsonlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest

from emulator.market.defaults import DEFAULT_SEED, DEFAULT_START

if TYPE_CHECKING:
    import httpx  # only the two ASGI fixtures need it, and they say so when it is missing
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from emulator.server import EmulatorServer
    from emulator.settings import Settings

MAX_TENANTS = 10_000
TENANT_HEADER = "X-Emulator-Tenant"
T = TypeVar("T")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class EmulatorError(AssertionError):
    """A control call the emulator refused; the message carries the route, the status and the body."""


class _Response(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class _Client(Protocol):
    def request(self, method: str, url: str, *, json: Any = ..., params: Any = ...) -> Any: ...


class Control:
    """The control API (/_emulator) of one tenant, over any sync httpx-style client whose base URL or
    headers already pick the tenant (the `emulator` fixture's own client, or `emulator_asgi_sync`)."""

    def __init__(self, client: _Client) -> None:
        self.client = client

    def _call(self, method: str, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        response: _Response = self.client.request(method, "/_emulator/" + path, json=json, params=params)
        if not 200 <= response.status_code < 300:
            raise EmulatorError(f"{method} /_emulator/{path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.json() if response.text else None

    def reset(self, seed: int | None = None, start: str | int | None = None, flow: bool | None = None) -> Any:
        """A fresh world (same seed and start unless given); `flow=False` is a quiet market."""
        body = {"seed": seed, "start": None if start is None else str(start), "flow": flow}
        return self._call("POST", "reset", json={k: v for k, v in body.items() if v is not None})

    def advance(self, seconds: float) -> Any:
        """Play `seconds` of market time now (order flow, scenario steps, websocket updates)."""
        return self._call("POST", "clock/advance", json={"seconds": seconds})

    def clock(self) -> Any:
        return self._call("GET", "clock")

    def set_clock(self, mode: str | None = None, speed: float | None = None) -> Any:
        body = {"mode": mode, "speed": speed}
        return self._call("POST", "clock", json={k: v for k, v in body.items() if v is not None})

    def account(
        self,
        name: str,
        password: str,
        balances: Mapping[str, str | int | Decimal] | None = None,
        fee: str | float | None = None,
    ) -> Any:
        """Create a user: balances as decimal strings or numbers, e.g. {"BTC": "10", "USD": 1000}."""
        body: dict[str, Any] = {"name": name, "password": password}
        body["balances"] = {currency: str(amount) for currency, amount in (balances or {}).items()}
        if fee is not None:
            body["fee"] = str(fee)
        return self._call("POST", "accounts", json=body)

    def mtgox_key(self, account: str) -> Any:
        """A MtGox API key acting for `account`: {"key": ..., "secret": <base64>}."""
        return self._call("POST", "keys", json={"api": "mtgox", "account": account})

    def mtgox_activation_key(self, account: str) -> str:
        """A one-time activation key for `account`, which `activate.php` turns into a MtGox API key."""
        answer = self._call("POST", "keys", json={"api": "mtgox", "account": account, "activation": True})
        return str(answer["activation_key"])

    def average_key(self, plan: str = "developer") -> Any:
        """A BitcoinAverage key pair on `plan`: {"public_key": ..., "secret_key": ...}."""
        return self._call("POST", "keys", json={"api": "bitcoinaverage", "plan": plan})

    def add_fault(self, **rule: Any) -> Any:
        """Add a fault rule, as in add_fault(path="/code/getFunds.php", effect="status", status=503): the rule, with
        its "id"; the rule fields are those of `POST /_emulator/faults`."""
        return self._call("POST", "faults", json=rule)

    def faults(self) -> list[Any]:
        answer = self._call("GET", "faults")
        return list(answer["faults"] if isinstance(answer, dict) else answer)

    def remove_fault(self, rule_id: str) -> Any:
        return self._call("DELETE", f"faults/{rule_id}")

    def clear_faults(self) -> Any:
        return self._call("DELETE", "faults")

    def journal(self, **filters: Any) -> list[Any]:
        """The requests this tenant has served, oldest first: journal(api="mtgox", method="POST", path="/code/*")."""
        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in filters.items() if v is not None}
        answer = self._call("GET", "journal", params=params)
        return list(answer["entries"] if isinstance(answer, dict) else answer)

    def clear_journal(self) -> Any:
        return self._call("DELETE", "journal")


class Answer:
    """A response of `StdlibClient`, with the three members `Control` reads."""

    def __init__(self, status_code: int, text: str) -> None:
        self.status_code = status_code
        self.text = text

    def json(self) -> Any:
        return jsonlib.loads(self.text)


class StdlibClient:
    """JSON requests to the control API over urllib: the `emulator` fixture needs no HTTP library
    beyond the standard one (`pip install btc-market-emulator pytest` is enough to use it)."""

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, url: str, *, json: Any = None, params: Any = None) -> Answer:
        target = self.base_url + url
        if params:
            target += "?" + urllib.parse.urlencode(params)
        body = None if json is None else jsonlib.dumps(json).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        request = urllib.request.Request(target, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read().decode())
        except urllib.error.HTTPError as refused:  # a 4xx or 5xx is an answer for Control to report
            with refused:
                return Answer(refused.code, refused.read().decode())


class Emulator(Control):
    """One test's tenant on the session's server: its URLs, and its control API."""

    def __init__(self, root_url: str, tenant: str) -> None:
        self.root_url = root_url
        self.tenant = tenant
        self.http_url = f"{root_url}/_t/{tenant}"
        self.ws_url = "ws" + self.http_url.removeprefix("http")
        self.mtgox_url = self.http_url + "/code/"
        self.mtgox_ws_url = self.ws_url + "/mtgox"
        super().__init__(StdlibClient(self.http_url))

    def url(self, path: str) -> str:
        """An absolute URL of `path` in this tenant, e.g. url("/code/data/ticker.php")."""
        return self.http_url + "/" + path.lstrip("/")

    def close(self) -> None:
        """Nothing to release (each control call has its own connection); kept for callers of 0.1."""

    def __repr__(self) -> str:
        return f"<Emulator tenant={self.tenant!r} at {self.http_url}>"


class RunningEmulator:
    """An emulator served on 127.0.0.1 (a port the system picks) by uvicorn in a daemon thread of this
    process: the session's server behind the `emulator` fixture, or, for a test that needs its own
    settings, any app: `with RunningEmulator(app=create_app(Settings(...))) as server: server.url`.

    `loop` and `http` pick uvicorn's stack ("auto": uvloop and httptools when installed)."""

    def __init__(
        self, settings: Settings | None = None, *, app: FastAPI | None = None, loop: str = "auto", http: str = "auto"
    ) -> None:
        from emulator.server import EmulatorServer

        if app is None:
            if settings is None:
                raise TypeError("RunningEmulator needs settings or an app")
            from emulator.app import create_app

            app = create_app(settings)
        self.app: FastAPI = app
        self.settings: Settings = app.state.settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: EmulatorServer = EmulatorServer(app, "127.0.0.1", 0, loop=loop, http=http)
        self._server.on_started.append(self._started)
        self._thread = threading.Thread(target=self._server.run, name="btc-market-emulator", daemon=True)
        self.port = 0
        self.url = ""
        self.ws_url = ""

    def _started(self, server: EmulatorServer) -> None:
        self._loop = asyncio.get_running_loop()
        self.port = server.port
        self.url = f"http://127.0.0.1:{server.port}"
        self.ws_url = f"ws://127.0.0.1:{server.port}"

    def start(self, timeout: float = 30) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the emulator's test server did not start")
            time.sleep(0.01)

    def stop(self, timeout: float = 15) -> None:
        """A graceful shutdown: websockets are closed with 1001, as `serve` closes them on Ctrl-C."""
        self._server.should_exit = True
        self._thread.join(timeout=timeout)

    def __enter__(self) -> RunningEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def tenant(self, name: str) -> Emulator:
        """A handle on the tenant `name` (its world is made on the first request)."""
        return Emulator(self.url, name)

    def drop(self, name: str) -> None:
        """Forget the tenant's world (its memory is freed); a later request makes a fresh one."""
        if self._loop is not None and self._thread.is_alive():
            self.in_loop(lambda: _forget(self.app, name))

    def in_loop(self, function: Callable[[], T], timeout: float = 10) -> T:
        """Call `function` on the server's event loop, between its requests, and return its result
        (for state only that loop may touch, or asks about it, such as `asyncio.all_tasks()`)."""
        if self._loop is None:
            raise RuntimeError("the server has not started")

        async def call() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=timeout)

    def __repr__(self) -> str:
        return f"<RunningEmulator at {self.url}>"


def _forget(app: FastAPI, tenant: str) -> None:
    app.state.registry.drop(tenant)


BANNER = "btc-market-emulator listening on "


class EmulatorProcess:
    """`serve` in a child process, as users and the Docker image run it, on a port the system picks
    (`--port 0` unless `args` give one): `args` are more flags, `env` more environment variables.
    The child's stdout and stderr are read as it writes them (`stdout`, `stderr`), so a chatty server
    never blocks on a full pipe; `stop()` is Ctrl-C (SIGINT), the graceful shutdown, and returns the
    exit status. `command` runs something else than `python -m emulator`, e.g. the console script.
    `start(ready=False)` and `stop(sig=...)` are for tests of start-up and shutdown themselves: Ctrl-C
    a moment after the process starts, before it listens; SIGTERM as a container runtime sends it."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None, command: Sequence[str] | None = None) -> None:
        port = [] if "--port" in args else ["--port", "0"]
        self.args = [*(command or (sys.executable, "-m", "emulator")), "serve", *port, *args]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers: list[threading.Thread] = []
        self._listening = threading.Event()
        self.port = 0
        self.url = ""
        self.ws_url = ""

    @property
    def stdout(self) -> str:
        return "".join(self._out)

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def _read(self, stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line)
            if line.startswith(BANNER) and not self._listening.is_set():
                address = line.removeprefix(BANNER).split()[0]
                self.port = int(address.rsplit(":", 1)[1])
                self._listening.set()
        stream.close()

    def start(self, timeout: float = 60, ready: bool = True) -> None:
        """Start the child and wait for its banner: the port is bound and the app has started
        (`ready=False`: return at once, the child starting; `url` stays empty)."""
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env
        )
        for stream, into in ((self.process.stdout, self._out), (self.process.stderr, self._err)):
            reader = threading.Thread(target=self._read, args=(stream, into), daemon=True)
            reader.start()
            self._readers.append(reader)
        if not ready:
            return
        deadline = time.monotonic() + timeout
        while not self._listening.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"serve did not start: {self.args}: {self.stderr.strip()[-2000:]}")
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 30, sig: signal.Signals = signal.SIGINT) -> int:
        """Ctrl-C (SIGINT, or the signal `sig`; on Windows, terminate), wait for the exit and the last
        output; the status (the child is killed if it has not ended after `timeout` seconds)."""
        process = self.process
        if process is None:
            raise RuntimeError("the process has not started")
        if process.poll() is None:
            if sys.platform == "win32":
                process.terminate()
            else:
                process.send_signal(sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for reader in self._readers:
            reader.join(timeout=timeout)
        return process.returncode

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<EmulatorProcess {self.url or 'not listening'} status {self.returncode}>"


# -- options -----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("btc-market-emulator")
    for name, text in (
        ("seed", f"seed of every test's world (default: EMULATOR_SEED, else {DEFAULT_SEED})"),
        ("start", f"market start instant, ISO 8601 or unix seconds (default: EMULATOR_START, else {DEFAULT_START})"),
        ("flow", "'false' for quiet markets: no agents' book, no order flow (default: EMULATOR_FLOW, else true)"),
    ):
        group.addoption(f"--emulator-{name}", dest=f"emulator_{name}", default=None, help=text)
        parser.addini(f"emulator_{name}", text, default=None)


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"emulator_{name}")
    if value is None:
        value = config.getini(f"emulator_{name}")
    return str(value) if value not in (None, "", []) else None


def emulator_settings(config: pytest.Config) -> Settings:
    """The settings of the session's worlds: the options above on a manual clock, control API open."""
    from emulator.settings import Settings

    chosen: dict[str, Any] = {"clock": "manual", "admin": True, "admin_token": None, "max_tenants": MAX_TENANTS}
    for name in ("seed", "start", "flow"):
        value = _option(config, name)
        if value is not None:
            chosen[name] = value
    if "start" not in chosen and not os.environ.get("EMULATOR_START"):
        chosen["start"] = DEFAULT_START
    return Settings(**chosen)


# -- tenants -----------------------------------------------------------------------------------

_used_tenants: set[str] = set()


def tenant_for(node: pytest.Item | Any, used: set[str] = _used_tenants) -> str:
    """A tenant name for the test, unique in the session: its readable name and a hash of its node id."""
    readable = _UNSAFE.sub("-", str(node.name)).strip("-.")[:40] or "test"
    name = f"{readable}-{hashlib.sha1(str(node.nodeid).encode()).hexdigest()[:8]}"
    unique, n = name, 1
    while unique in used:  # the same test run twice in a session (reruns) gets a fresh world
        n += 1
        unique = f"{name}-{n}"
    used.add(unique)
    return unique


def _needs_httpx(fixture: str) -> Any:
    try:
        import httpx
    except ImportError:
        pytest.fail(
            f"the {fixture} fixture needs httpx: pip install httpx (the emulator fixture does not)", pytrace=False
        )
    return httpx


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def emulator_server(pytestconfig: pytest.Config) -> Iterator[RunningEmulator]:
    """The emulator served on a free 127.0.0.1 port for the whole session."""
    server = RunningEmulator(emulator_settings(pytestconfig))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator(emulator_server: RunningEmulator, request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """This test's own tenant on the session's server: a fresh world, seen by nobody else."""
    handle = emulator_server.tenant(tenant_for(request.node))
    try:
        yield handle
    finally:
        handle.close()
        emulator_server.drop(handle.tenant)


@pytest.fixture(scope="session")
def emulator_app(pytestconfig: pytest.Config) -> FastAPI:
    """The session's in-process app (no socket) behind `emulator_asgi` and `emulator_asgi_sync`."""
    from emulator.app import create_app

    return create_app(emulator_settings(pytestconfig))


@pytest.fixture
def emulator_asgi(emulator_app: FastAPI, request: pytest.FixtureRequest) -> Iterator[httpx.AsyncClient]:
    """An `httpx.AsyncClient` on the app through `httpx.ASGITransport`, no socket, on this test's tenant."""
    httpx = _needs_httpx("emulator_asgi")

    tenant = tenant_for(request.node)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator_app), base_url="http://emulator", headers={TENANT_HEADER: tenant}
    )
    try:
        yield client
    finally:
        _forget(emulator_app, tenant)


@pytest.fixture
def emulator_asgi_sync(emulator_app: FastAPI, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A starlette `TestClient` on the app (no socket, websockets included) on this test's tenant;
    `Control(emulator_asgi_sync)` gives it the control methods of `emulator`."""
    _needs_httpx("emulator_asgi_sync")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*starlette.testclient")
        from starlette.testclient import TestClient

    tenant = tenant_for(request.node)
    with TestClient(emulator_app, base_url="http://emulator", headers={TENANT_HEADER: tenant}) as client:
        yield client
    _forget(emulator_app, tenant)

"""Every number a client or the control API sends, as a property: whatever text or JSON value stands
where a number belongs (infinities, NaN, 1e400, negatives, superscript and Arabic-Indic digits,
huge integers), the answer is never a 5xx, and a refused request leaves the world's snapshot as it
was."""

import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.market.world import World
from emulator.settings import Settings
from tests.conftest import START_TEXT

ODD_TEXTS = [
    "inf",
    "-inf",
    "Infinity",
    "nan",
    "NaN",
    "1e400",
    "-1e400",
    "1e-400",
    "-1",
    "0",
    "-0",
    "²",
    "²³",
    "٣",
    "\uff11",
    "99999999999999999999999999999",
    "0x10",
    "1_000",
    " 7 ",
    "",
    "1.5",
    "0.00000001",
    "1e9",
    "+5",
    "5-",
    "...",
]
TEXTS = st.one_of(st.sampled_from(ODD_TEXTS), st.integers(-(10**30), 10**30).map(str), st.text(max_size=8))
JSON_VALUES = st.one_of(
    TEXTS,
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([None, True, False, [], {}]),
)
SIZES = [pytest.param(6, id="quick"), pytest.param(60, id="long", marks=pytest.mark.long)]


def check(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))


# control routes and the numeric fields of their JSON bodies (with the rest of a valid body)
CONTROL = [
    ("/_emulator/reset", "seed", {}),
    ("/_emulator/reset", "start", {}),
    ("/_emulator/clock", "speed", {}),
    ("/_emulator/clock/advance", "seconds", {}),
    ("/_emulator/accounts", "fee", {"name": "mallory", "password": "p"}),
    ("/_emulator/orders", "amount", {"account": "alice", "side": "buy", "price": "9"}),
    ("/_emulator/orders", "price", {"account": "alice", "side": "buy", "amount": "1"}),
    ("/_emulator/transactions", "time", {"hash": "ab" * 32}),
    ("/_emulator/scenario", "seed", {"name": "steady"}),
    ("/_emulator/scenario", "start", {"name": "steady"}),
    *[
        ("/_emulator/faults", name, {"api": "mtgox", "path": "/code/x.php", "effect": "status"})
        for name in ("status", "probability", "count", "start_in", "duration", "latency_ms", "max_age")
    ],
]
MTGOX = [
    ("/code/data/getTrades.php", "since"),
    ("/code/buyBTC.php", "amount"),
    ("/code/buyBTC.php", "price"),
    ("/code/sellBTC.php", "amount"),
    ("/code/cancelOrder.php", "type"),
    ("/code/withdraw.php", "amount"),
]
AVERAGE = [
    ("/indices/global/history/BTCUSD", "since"),
    ("/indices/global/history/BTCUSD", "at"),
    ("/convert/global", "amount"),
    ("/indices/local/ticker/BTCUSD", "since"),
]
ENTERPRISE = {"x-ba-key": "EnterpriseDemoPublicKey0000000000000000000"}  # no rate limit: refused means refused


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False))) as test_client:
        yield test_client


def fingerprint(client: TestClient) -> bytes:
    world: World = client.app.state.registry.get("default")  # type: ignore[attr-defined]
    return orjson.dumps(world.snapshot(), option=orjson.OPT_SORT_KEYS)


class Fingerprints:
    """The world's fingerprint before each example. Only the examples touch the module's world (a
    manual clock, no order flow), so after a refused one the fingerprint just taken is the next
    example's "before": one snapshot per example instead of two. An accepted one is followed by a
    reset, and the next "before" is taken afresh."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.last: bytes | None = None

    def before(self) -> bytes:
        if self.last is None:
            self.last = fingerprint(self.client)
        return self.last

    def check(self, before: bytes, status: int, refused: bool) -> None:
        assert status < 500
        self.last = None
        if refused:
            after = fingerprint(self.client)
            assert after == before, "a refused request changed the world"
            self.last = after


@pytest.mark.parametrize("examples", SIZES)
@pytest.mark.parametrize(("path", "field", "rest"), CONTROL, ids=[f"{p}:{f}" for p, f, _ in CONTROL])
def test_control_numbers(client: TestClient, path: str, field: str, rest: dict[str, Any], examples: int) -> None:
    prints = Fingerprints(client)

    @check(examples)
    @given(value=JSON_VALUES)
    def run(value: Any) -> None:
        if path == "/_emulator/clock/advance" and isinstance(value, int | float) and not 0 <= value <= 60:
            value = str(value)  # a valid long advance is slow, not wrong; its bound is tested in tests/control
        before = prints.before()
        body = json.dumps({**rest, field: value}, allow_nan=True)
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
        prints.check(before, answer.status_code, answer.status_code >= 400)
        assert "<class" not in answer.text and "Traceback" not in answer.text
        if answer.status_code < 400:
            client.post("/_emulator/reset", json={"seed": 7, "start": START_TEXT, "flow": False})
            client.delete("/_emulator/faults")
            client.post("/_emulator/clock", json={"mode": "manual"})

    run()


@pytest.mark.parametrize("examples", SIZES)
@pytest.mark.parametrize(("path", "field"), MTGOX, ids=[f"{p}:{f}" for p, f in MTGOX])
def test_mtgox_numbers(client: TestClient, path: str, field: str, examples: int) -> None:
    prints = Fingerprints(client)

    @check(examples)
    @given(value=TEXTS)
    def run(value: str) -> None:
        before = prints.before()
        fields = {"name": "alice", "pass": "alice-pass", "amount": "0.5", "price": "9", "group1": "BTC", field: value}
        fields["btca"] = "1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY"
        answer = client.post(path, data=fields)
        assert answer.status_code == 200 and isinstance(answer.json(), dict | list)
        refused = isinstance(answer.json(), dict) and "error" in answer.json()
        prints.check(before, answer.status_code, refused)
        if not refused and path != "/code/data/getTrades.php":
            client.post("/_emulator/reset", json={"seed": 7, "start": START_TEXT, "flow": False})

    run()


@pytest.mark.parametrize("examples", SIZES)
@pytest.mark.parametrize(("path", "field"), AVERAGE, ids=[f"{p}:{f}" for p, f in AVERAGE])
def test_bitcoinaverage_numbers(client: TestClient, path: str, field: str, examples: int) -> None:
    prints = Fingerprints(client)

    @check(examples)
    @given(value=TEXTS)
    def run(value: str) -> None:
        before = prints.before()
        params = {"from": "BTC", "to": "USD", field: value} if path.startswith("/convert") else {field: value}
        answer = client.get(path, params=params, headers=ENTERPRISE)
        prints.check(before, answer.status_code, answer.status_code >= 400)
        if answer.status_code >= 400:
            assert answer.json()["success"] is False and answer.json()["error"]

    run()

"""Hypothesis fuzz of the client messages of the MtGox websocket (/mtgox), over a real socket.

Whatever a client sends (random JSON, commands with wrong types, unknown ops and channels, huge,
binary or invalid UTF-8 frames), the socket answers with one `{"op": "remark", ...}`, acknowledges a
valid command, or closes cleanly (1003 binary, 1007 bad UTF-8, 1009 too big): never 1011, never a
server error. A second client connected the whole time keeps receiving the market normally.
"""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from emulator.apis.mtgox.websocket import DEPTH, PUBLIC, TICKER, TRADES
from emulator.app import create_app
from emulator.settings import Settings
from emulator.streaming import MAX_FRAME
from emulator.testing import RunningEmulator
from tests.clients.mtgox_ws import of_kind, open_socket, read_all
from tests.conftest import START_TEXT

CLEAN_CLOSES = {1003, 1007, 1009}
WAIT = 5.0
SENTINEL = {"op": "unsubscribe", "channel": DEPTH}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
anything = st.one_of(json_values, st.sampled_from([*PUBLIC, "subscribe", "unsubscribe", ""]))
commands = st.fixed_dictionaries(
    {"op": st.one_of(st.sampled_from(["subscribe", "unsubscribe", "remark", "call", ""]), anything)},
    optional={"channel": st.one_of(st.sampled_from([*PUBLIC, TRADES.upper(), "user"]), anything), "x": anything},
)
texts = st.one_of(
    json_values.map(json.dumps),
    commands.map(json.dumps),
    st.text(max_size=200),  # mostly not JSON at all
    st.integers(10, 5_000).map(lambda depth: "[" * depth + "]" * depth),  # nesting beyond orjson's limit
    st.sampled_from([MAX_FRAME - 200, MAX_FRAME + 1, 4 * MAX_FRAME]).map(
        lambda size: json.dumps({"op": "subscribe", "channel": "x" * size})
    ),
)
frames = st.one_of(
    texts.map(lambda text: ("text", text)),
    st.binary(max_size=100).map(lambda data: ("binary", data)),
    st.sampled_from([b"\xff\xfe", b'{"op": "\xc3"}']).map(lambda data: ("bad-utf8", data)),
)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, httpx.Client, ClientConnection]]:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    with (
        RunningEmulator(app=app) as served,
        httpx.Client(base_url=served.url) as http,
        open_socket(served.url) as watcher,
    ):
        base = served.url
        read_all(watcher, quiet_for=0.2)
        yield base, http, watcher


def receive(ws: ClientConnection) -> dict[str, Any] | None:
    """The next frame, or None when the server closed the socket (the caller checks the code)."""
    try:
        message = json.loads(ws.recv(timeout=WAIT))
    except ConnectionClosed:
        return None
    assert isinstance(message, dict)
    return message


def send(ws: ClientConnection, kind: str, payload: Any) -> None:
    try:
        if kind == "text":
            ws.send(payload)
        elif kind == "binary":
            ws.send(payload, text=False)
        else:
            ws.send(payload, text=True)  # bytes sent as a text frame, unchecked: invalid UTF-8
    except ConnectionClosed:
        pass  # closed while a huge frame was still being written: the code is checked below


def expected_answer(kind: str, text: Any) -> tuple[str, Any]:
    """What the server should do with one frame: ("close", codes) or ("reply", frame or None for a remark)."""
    if kind == "binary":
        return "close", {1003}
    if kind == "bad-utf8":
        return "close", {1007}
    if len(text) > MAX_FRAME:
        return "close", {1009}
    try:
        command = json.loads(text)
    except (ValueError, RecursionError):
        return "reply", None
    if isinstance(command, dict) and command.get("op") in ("subscribe", "unsubscribe"):
        channel = command.get("channel")
        if isinstance(channel, str) and channel in PUBLIC:
            return "reply", {"op": command["op"], "channel": channel}
    return "reply", None


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(frame=frames)
def test_any_client_frame_gets_a_remark_an_ack_or_a_clean_close(
    server: tuple[str, httpx.Client, ClientConnection], frame: tuple[str, Any]
) -> None:
    base, _, _ = server
    kind, payload = frame
    with open_socket(base) as ws:
        for _ in PUBLIC:
            assert receive(ws) is not None  # the three subscribe announcements
        send(ws, kind, payload)
        what, expected = expected_answer(kind, payload)
        answer = receive(ws)
        if what == "close":
            assert answer is None, f"expected a close, got {answer}"
            assert ws.close_code in expected, (ws.close_code, ws.close_reason)
            return
        assert answer is not None, f"closed with {ws.close_code} {ws.close_reason!r}"
        if expected is None:
            assert answer["op"] == "remark" and answer["success"] is False and isinstance(answer["message"], str)
        else:
            assert answer == expected
        ws.send(json.dumps(SENTINEL))  # the socket still works, and nothing else was queued before this
        assert receive(ws) == SENTINEL


def test_frames_past_uvicorns_own_limit_are_closed_with_1009(
    server: tuple[str, httpx.Client, ClientConnection],
) -> None:
    base, _, _ = server
    with open_socket(base) as ws:
        read_all(ws, quiet_for=0.2)
        send(ws, "text", "x" * (17 * 1024 * 1024))
        assert receive(ws) is None
        # 1009 when the close frame reaches the client; 1006 when the server drops the socket while the
        # client is still uploading (it never gets to read the close frame). Never accepted, never 1011.
        assert ws.close_code in (1009, 1006)


def test_the_watcher_kept_receiving_the_market(server: tuple[str, httpx.Client, ClientConnection]) -> None:
    """Runs after the fuzz (file order): the socket open all along still gets trades and depth."""
    _, http, watcher = server
    assert http.post("/_emulator/clock/advance", json={"seconds": 120}).status_code == 200
    frames = read_all(watcher, quiet_for=0.5)
    assert watcher.close_code is None
    assert of_kind(frames, "trade") and of_kind(frames, "depth") and of_kind(frames, "ticker")
    assert {f["channel"] for f in frames} <= {TRADES, TICKER, DEPTH}

"""Websocket faults on the MtGox /mtgox socket, over real sockets, on a quiet market and a manual clock."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection

from emulator.apis.mtgox.websocket import DEPTH, TICKER, TRADES
from emulator.testing import Emulator
from tests.clients.mtgox_ws import of_kind, open_socket, read_all

ALICE = {"name": "alice", "pass": "alice-pass"}
BOB = {"name": "bob", "pass": "bob-pass"}


@pytest.fixture
def server(emulator: Emulator) -> Iterator[tuple[str, httpx.Client]]:
    """This test's own tenant on the session's server (the plugin's `emulator` fixture), a quiet market."""
    emulator.reset(flow=False)
    with httpx.Client(base_url=emulator.http_url) as http:
        yield emulator.http_url, http


def fault(http: httpx.Client, **spec: Any) -> dict[str, Any]:
    answer = http.post("/_emulator/faults", json={"api": "mtgox", **spec})
    assert answer.status_code == 201, answer.text
    rule: dict[str, Any] = answer.json()
    return rule


def bid(http: httpx.Client, price: str) -> None:
    assert "oid" in http.post("/code/buyBTC.php", data={**ALICE, "amount": "1", "price": price}).json()


@contextmanager
def connected(base: str) -> Iterator[ClientConnection]:
    with open_socket(base) as ws:
        assert len(read_all(ws, 0.2)) == 3  # the three subscribe messages
        yield ws


def depth_prices(frames: list[dict[str, Any]]) -> list[float]:
    return [d["price"] for d in of_kind(frames, "depth")]


def test_gap_drops_depth_deltas(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    fault(http, effect="ws_gap", channel="depth", count=1)
    with connected(base) as ws:
        for price in ("10", "11", "12"):
            bid(http, price)
        frames = read_all(ws)
    assert depth_prices(frames) == [11, 12], "the first delta never arrives: a gap"
    assert len(of_kind(frames, "ticker")) == 3, "other channels are untouched"
    bids = {price for price, _ in http.get("/code/data/getDepth.php").json()["bids"]}
    assert bids == {10, 11, 12}


def test_duplicate_sends_a_trade_twice(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    fault(http, effect="ws_duplicate", channel="trade")
    with connected(base) as ws:
        bid(http, "15")
        http.post("/code/sellBTC.php", data={**BOB, "amount": "1", "price": "15"})
        frames = read_all(ws)
    trades = of_kind(frames, "trade")
    assert len(trades) == 2 and trades[0] == trades[1]
    assert http.get("/code/data/getTrades.php").json()[-1]["tid"] == trades[0]["tid"]


def test_reorder_swaps_with_the_next_frame(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    # held until the next frame; a wall-clock bound far beyond a loaded machine's pause between two bids
    fault(http, effect="ws_reorder", channel=DEPTH, count=1, latency_ms=30_000)  # by UUID this time
    with connected(base) as ws:
        for price in ("10", "11", "12"):
            bid(http, price)
        frames = read_all(ws)
    assert depth_prices(frames) == [11, 10, 12]


def test_reorder_without_a_next_frame_still_delivers(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    fault(http, effect="ws_reorder", channel="depth", count=1, latency_ms=200)
    with connected(base) as ws:
        bid(http, "10")
        frames = read_all(ws, 0.6)
    assert depth_prices(frames) == [10]


def test_delay_holds_frames(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    fault(http, effect="ws_delay", channel="depth", latency_ms=400)
    with connected(base) as ws:
        began = time.monotonic()
        bid(http, "10")
        first = ws.recv(timeout=5)
        assert f'"channel":"{TICKER}"' in first, "the ticker is not delayed and overtakes"
        frames = read_all(ws, 1.0)
        elapsed = time.monotonic() - began
    assert depth_prices(frames) == [10] and elapsed >= 0.39


def test_drop_closes_every_listener_with_the_reason(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    fault(http, effect="ws_drop", channel="depth", status=4000, body="maintenance", count=1)
    with connected(base) as dropped, connected(base) as kept:
        kept.send('{"op": "unsubscribe", "channel": "' + DEPTH + '"}')
        assert read_all(kept, 0.2) == [{"op": "unsubscribe", "channel": DEPTH}]
        bid(http, "10")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                dropped.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4000, "maintenance")
        assert len(of_kind(read_all(kept), "ticker")) == 1, "a socket not on the channel stays open"
        bid(http, "11")
        assert len(of_kind(read_all(kept), "ticker")) == 1


def test_window_ends_on_the_manual_clock(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    fault(http, effect="ws_gap", channel="depth", duration=5)
    with connected(base) as ws:
        bid(http, "10")
        assert depth_prices(read_all(ws)) == []
        http.post("/_emulator/clock/advance", json={"seconds": 6})
        bid(http, "11")
        assert depth_prices(read_all(ws)) == [11]


def test_rules_for_other_apis_and_channels_do_not_apply(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    http.post("/_emulator/faults", json={"api": "bitcoinaverage", "effect": "ws_gap"})
    fault(http, effect="ws_gap", channel=TRADES)
    with connected(base) as ws:
        bid(http, "10")
        frames = read_all(ws)
    assert depth_prices(frames) == [10] and len(of_kind(frames, "ticker")) == 1


def test_probability_on_frames_is_seeded(server: tuple[str, httpx.Client]) -> None:
    base, http = server

    def seen() -> list[float]:
        http.post("/_emulator/reset", json={"flow": False})
        fault(http, effect="ws_gap", channel="depth", probability=0.5)
        with connected(base) as ws:
            for n in range(16):
                bid(http, str(10 + n))
            return depth_prices(read_all(ws))

    first = seen()
    assert 0 < len(first) < 16
    assert seen() == first


def test_http_rules_refuse_handshakes(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    fault(http, path="/mtgox", effect="status", status=503, count=1)
    with pytest.raises(InvalidStatus) as refused:
        open_socket(base)
    assert refused.value.response.status_code == 503
    assert b"Service Unavailable" in refused.value.response.body
    with connected(base):
        pass
    journal = http.get("/_emulator/journal", params={"method": "WEBSOCKET"}).json()["entries"]
    assert [(e["status"], e["fault"]) for e in journal] == [(503, "f1"), (101, None)]

"""The MtGox websocket over real sockets, on a manual clock: what a 2011 streaming client relied on."""

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from emulator.apis.mtgox.websocket import DEPTH, TICKER, TRADES
from emulator.app import create_app
from emulator.settings import Settings
from emulator.testing import Emulator, RunningEmulator
from tests.clients.mtgox_ws import of_kind, open_socket, read_all
from tests.conftest import START_TEXT

ALICE = {"name": "alice", "pass": "alice-pass"}
BOB = {"name": "bob", "pass": "bob-pass"}


@pytest.fixture
def server(emulator: Emulator) -> Iterator[tuple[str, httpx.Client]]:
    """This test's own tenant on the session's server (the plugin's `emulator` fixture)."""
    with httpx.Client(base_url=emulator.http_url) as http:
        yield emulator.http_url, http


def book_of(depth: dict[str, Any]) -> dict[tuple[int, int], int]:
    book = {}
    for side, kind in (("asks", 1), ("bids", 2)):
        for price, amount in depth[side]:
            book[kind, round(price * 10**5)] = round(amount * 10**8)
    return book


def test_connect_announces_the_three_public_channels(server: tuple[str, httpx.Client]) -> None:
    base, _ = server
    with open_socket(base) as ws:
        frames = read_all(ws)
    assert frames == [{"op": "subscribe", "channel": c} for c in (TRADES, TICKER, DEPTH)]


def test_depth_deltas_rebuild_the_book_and_trades_match_get_trades(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    with open_socket(base) as ws:
        read_all(ws)
        book = book_of(http.get("/code/data/getDepth.php").json())
        since = http.get("/code/data/getTrades.php").json()[-1]["tid"]
        http.post("/code/buyBTC.php", data={**ALICE, "amount": "30", "price": "15.6"})
        placed = http.post("/code/sellBTC.php", data={**BOB, "amount": "2", "price": "15.9"}).json()
        http.post("/code/cancelOrder.php", data={**BOB, "oid": placed["oid"], "type": "1"})
        http.post("/_emulator/clock/advance", json={"seconds": 300})
        frames = read_all(ws)

    deltas = of_kind(frames, "depth")
    assert deltas and all(f["channel"] == DEPTH and f["origin"] == "broadcast" for f in frames if "depth" in f)
    for delta in deltas:
        assert isinstance(delta["volume"], int | float) and isinstance(delta["volume_int"], str)
        assert delta["type_str"] == {1: "ask", 2: "bid"}[delta["type"]]
        key = (delta["type"], int(delta["price_int"]))
        book[key] = book.get(key, 0) + int(delta["volume_int"])
        if book[key] == 0:
            del book[key]
    after = http.get("/code/data/getDepth.php").json()
    final = book_of(after)
    low, high = min(p for _, p in final), max(p for _, p in final)
    assert {k: v for k, v in book.items() if low <= k[1] <= high} == final

    streamed = of_kind(frames, "trade")
    assert len(streamed) > 20
    listed: list[dict[str, Any]] = []
    page = http.get("/code/data/getTrades.php", params={"since": since}).json()
    while page:
        listed += page
        page = http.get("/code/data/getTrades.php", params={"since": page[-1]["tid"]}).json()
    assert [t["tid"] for t in streamed] == [t["tid"] for t in listed]
    for mine, theirs in zip(streamed, listed, strict=True):
        assert mine["type"] == "trade" and mine["item"] == "BTC" and mine["price_currency"] == "USD"
        for field in ("price_int", "amount_int", "date", "trade_type"):
            assert mine[field] == theirs[field]
        assert mine["price"] == float(theirs["price"]) and mine["amount"] == float(theirs["amount"])

    tickers = of_kind(frames, "ticker")
    assert tickers and set(tickers[-1]) == {"buy", "high", "low", "sell", "vol", "last"}
    assert isinstance(tickers[-1]["vol"], int)
    assert tickers[-1]["last"] == float(listed[-1]["price"])
    assert tickers[-1]["buy"] == after["bids"][-1][0] and tickers[-1]["sell"] == after["asks"][0][0]


def test_unsubscribe_stops_exactly_that_channel(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    with open_socket(base) as ws:
        read_all(ws)
        ws.send(f'{{"op": "unsubscribe", "channel": "{TICKER}"}}')
        assert read_all(ws) == [{"op": "unsubscribe", "channel": TICKER}]
        http.post("/_emulator/clock/advance", json={"seconds": 120})
        kinds = {f.get("private") for f in read_all(ws)}
        assert kinds == {"trade", "depth"}
        ws.send(f'{{"op": "subscribe", "channel": "{TICKER}"}}')
        assert read_all(ws) == [{"op": "subscribe", "channel": TICKER}]
        http.post("/_emulator/clock/advance", json={"seconds": 120})
        assert "ticker" in {f.get("private") for f in read_all(ws)}


def test_bad_commands_get_a_remark_and_the_socket_stays_open(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    with open_socket(base) as ws:
        read_all(ws)
        for bad in ("not json", "[1, 2]", '{"op": "dance"}', '{"op": "subscribe", "channel": "nope"}', "{}"):
            ws.send(bad)
            (answer,) = read_all(ws)
            assert answer["op"] == "remark" and answer["success"] is False and answer["channel"] is None
            assert answer["message"]
        http.post("/_emulator/clock/advance", json={"seconds": 30})
        assert read_all(ws), "still subscribed and receiving"


def test_binary_and_oversized_frames_are_refused_cleanly(server: tuple[str, httpx.Client]) -> None:
    base, _ = server
    with open_socket(base) as ws:
        read_all(ws)
        ws.send(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
    with open_socket(base) as ws:
        read_all(ws)
        ws.send("x" * 100_000)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_own_channel_is_private(server: tuple[str, httpx.Client]) -> None:
    base, http = server
    login = http.post("/code/login.php", data=BOB)
    cookie = f"mtgox_session={login.cookies['mtgox_session']}"
    alice_channel = http.post("/_emulator/accounts", json={"name": "zed", "password": "z"}).json()  # unrelated user
    assert alice_channel["channel"]
    with (
        open_socket(base, "/mtgox?name=alice&pass=alice-pass") as alice,
        open_socket(base, additional_headers={"Cookie": cookie}) as bob,
        open_socket(base) as anonymous,
    ):
        alice_subscribes = read_all(alice)
        bob_subscribes = read_all(bob)
        assert len(alice_subscribes) == 4 and len(bob_subscribes) == 4
        alice_own = alice_subscribes[-1]["channel"]
        bob_own = bob_subscribes[-1]["channel"]
        assert alice_own != bob_own
        assert len(read_all(anonymous)) == 3

        placed = http.post("/code/buyBTC.php", data={**ALICE, "amount": "1", "price": "30"}).json()
        alice_frames = [f for f in read_all(alice) if f.get("channel") == alice_own]
        assert all(f["origin"] == "user" for f in alice_frames)
        updates = of_kind(alice_frames, "order_upd")
        assert updates[0]["oid"] == placed["oid"] and updates[0]["amount"] == 1 and updates[0]["type_str"] == "bid"
        assert any(u["amount"] < 0 for u in updates), "the crossing order filled"
        assert of_kind(alice_frames, "trade"), "alice sees her own trades on her channel"
        assert all(f.get("channel") != alice_own for f in read_all(bob) + read_all(anonymous))
        # nobody can subscribe to someone else's channel
        bob.send(f'{{"op": "subscribe", "channel": "{alice_own}"}}')
        assert json.loads(bob.recv(timeout=5))["op"] == "remark"  # the next frame, however long it takes


def test_a_slow_consumer_is_dropped_without_holding_up_others() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, ws_queue_limit=200))
    connections = app.state.connections
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url) as http:
        base = served.url
        host, port = base.removeprefix("http://").split(":")
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect((host, int(port)))
        slow.sendall(
            b"GET /mtgox HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert b"101" in slow.recv(12)  # the handshake; after this the slow client never reads again
        try:
            with open_socket(base) as fast:
                read_all(fast)
                assert len(connections.clients) == 2
                for _ in range(20):
                    http.post("/_emulator/clock/advance", json={"seconds": 1800}, timeout=60)
                    # stated bound: the fast client never waits 1 s between frames of a half-hour advance
                    frames = read_all(fast, quiet_for=1.0)
                    assert len(frames) > 1000, "the fast client keeps receiving while the slow one lags"
                    if len(connections.clients) == 1:
                        break
                assert len(connections.clients) == 1, "the slow consumer was disconnected"
                http.post("/_emulator/clock/advance", json={"seconds": 60})
                assert read_all(fast), "and the fast one is still served"
        finally:
            slow.close()


def test_clean_shutdown_closes_every_socket_with_1001() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    with contextlib.ExitStack() as stack:
        with RunningEmulator(app=app) as served:
            base = served.url
            sockets = [stack.enter_context(open_socket(base)) for _ in range(3)]
            for ws in sockets:
                read_all(ws)
        for ws in sockets:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_a_scenario_disconnect_step_drops_mtgox_sockets() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    story = "name: drop\ntimeline:\n  - at: 30\n    disconnect: mtgox\n"
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url) as http:
        base = served.url
        http.post("/_emulator/scenario", json={"yaml": story, "start": START_TEXT})
        with open_socket(base) as ws:
            read_all(ws)
            http.post("/_emulator/clock/advance", json={"seconds": 60})
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012

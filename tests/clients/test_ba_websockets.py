"""BitcoinAverage websockets (spec §5) over real sockets, on a manual clock.

One server for the module; every test starts from a reset world (2011-07-10, seed 7). Market time
only moves through POST /_emulator/clock/advance; the waits below are for delivery, not for the
market.
"""

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import websocket as websocket_client  # the third-party `websocket-client` package
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from emulator.apis.bitcoinaverage.websocket import feed_of
from emulator.app import create_app
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.apis.bitcoinaverage.conftest import KEYS, signature
from tests.conftest import START, START_TEXT

JSON_BODY = {"content-type": "application/json"}

STATUS = {"type": "status", "data": "OK"}
T0 = START // 1_000_000
V1 = ("websocket/ticker", "websocket/multiple/ticker", "websocket/exchanges", "websocket/multiple/exchanges")
V2 = ("websocket/v2/ticker", "websocket/v2/exchanges", "websocket/v2/orderbooks", "websocket/v2/trades")


class Server:
    def __init__(self, base: str, http: httpx.Client) -> None:
        self.base = base
        self.http = http

    def ticket(self, plan: str, family: str = "v1") -> str:
        path = "/websocket/v2/get_ticket" if family == "v2" else "/websocket/get_ticket"
        answer = self.http.get(path, headers={"x-ba-key": KEYS[plan][0]})
        assert answer.status_code == 200, answer.text
        ticket: str = answer.json()["ticket"]
        return ticket

    def url(self, channel: str, plan: str, ticket: str | None = None) -> str:
        ticket = ticket or self.ticket(plan, "v2" if "/v2/" in channel else "v1")
        return f"{self.base.replace('http://', 'ws://')}/{channel}?public_key={KEYS[plan][0]}&ticket={ticket}"

    def open(self, channel: str, plan: str = "enterprise", ticket: str | None = None) -> ClientConnection:
        # Entered at once: websockets wants connect() used as a context manager, and this one is read
        # before the caller's own `with` (which enters it again, a no-op, and closes it) or close().
        ws = connect(self.url(channel, plan, ticket), open_timeout=5).__enter__()
        assert json.loads(ws.recv(timeout=5)) == STATUS
        return ws

    def refused(self, url: str, **kwargs: Any) -> tuple[int, Any]:
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=5, **kwargs)
        body = bytes(refused.value.response.body or b"")
        return refused.value.response.status_code, json.loads(body) if body.startswith(b"{") else body.decode()

    def advance(self, seconds: float) -> None:
        assert self.http.post("/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200

    def rest(self, path: str) -> Any:
        answer = self.http.get(path, headers={"x-ba-key": KEYS["enterprise"][0]})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def running_server() -> Iterator[Server]:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url) as http:
        base = served.url
        yield Server(base, http)


@pytest.fixture
def server(running_server: Server) -> Server:
    assert running_server.http.post("/_emulator/reset", json={}).status_code == 200
    return running_server


def subscribe(ws: ClientConnection, operation: str = "subscribe", **options: Any) -> None:
    ws.send(json.dumps({"event": "message", "data": {"operation": operation, "options": options}}))


def frames(ws: ClientConnection, count: int) -> list[Any]:
    """The next `count` frames' `data` (each must be a message)."""
    out = []
    for _ in range(count):
        frame = json.loads(ws.recv(timeout=5))
        assert frame["event"] == "message", frame
        out.append(frame["data"])
    return out


def quiet(ws: ClientConnection, wait: float = 0.2) -> bool:
    """True if nothing more arrives (delivery of what was already played takes milliseconds)."""
    try:
        ws.recv(timeout=wait)
    except TimeoutError:
        return True
    return False


def closed_with(ws: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=5)
    rcvd = closed.value.rcvd
    return (rcvd.code, rcvd.reason) if rcvd else (None, None)


def bare(data: dict[str, Any]) -> dict[str, Any]:
    assert data.pop("success") is True and isinstance(data.pop("time"), str)
    return data


# -- accept, subscribe, frames equal REST --------------------------------------------------------


@pytest.mark.parametrize("channel", V1 + V2)
def test_status_at_once_then_nothing_until_subscribed(server: Server, channel: str) -> None:
    with server.open(channel) as ws:
        server.advance(5)
        assert quiet(ws)


def test_ticker_frames_equal_rest_at_the_same_virtual_time(server: Server) -> None:
    with server.open("websocket/ticker", "developer") as ws:
        subscribe(ws, market="local", currency="BTCUSD")
        (now,) = frames(ws, 1)
        assert now["time"] == "2011-07-10 00:00:00"
        assert bare(now) == server.rest("/indices/local/ticker/BTCUSD")
        server.advance(60)
        last = frames(ws, 20)[-1]
        assert last["time"] == "2011-07-10 00:01:00"
        assert bare(last) == server.rest("/indices/local/ticker/BTCUSD")
        assert quiet(ws)


def test_switch_replaces_the_single_ticker_and_global_needs_developer(server: Server) -> None:
    with server.open("websocket/ticker", "developer") as ws:
        subscribe(ws, market="local", currency="BTCUSD")
        subscribe(ws, symbol_set="global", currency_list=["ethEUR"])  # the npm spellings, any case
        first, switched = frames(ws, 2)
        assert first["last"] != switched["last"]
        server.advance(9)
        latest = frames(ws, 3)
        assert bare(latest[-1]) == server.rest("/indices/global/ticker/ETHEUR")
        assert quiet(ws)
    with server.open("websocket/ticker", "free") as ws:
        subscribe(ws, market="global", currency="BTCUSD")
        assert json.loads(ws.recv(timeout=5)) == {
            "event": "error",
            "data": {"message": "Forbidden -- Higher level API Keys required"},
        }


def test_multiple_ticker_adds_and_removes(server: Server) -> None:
    with server.open("websocket/multiple/ticker", "developer") as ws:
        subscribe(ws, market="local", currency="BTCUSD")
        subscribe(ws, symbol_set="global", currency_list="BTCEUR,ETHUSD")
        one, three = frames(ws, 2)
        assert one == {"local": {"BTCUSD": one["local"]["BTCUSD"]}, "global": {}}
        assert set(three["local"]) == {"BTCUSD"} and set(three["global"]) == {"BTCEUR", "ETHUSD"}
        server.advance(3)
        (tick,) = frames(ws, 1)
        assert tick["local"]["BTCUSD"] == server.rest("/indices/local/ticker/BTCUSD")
        assert tick["global"]["ETHUSD"] == server.rest("/indices/global/ticker/ETHUSD")
        subscribe(ws, "unsubscribe", market="global", currency="BTCEUR")
        server.advance(3)
        (after,) = frames(ws, 1)
        assert set(after["local"]) == {"BTCUSD"} and set(after["global"]) == {"ETHUSD"}
        subscribe(ws, "unsubscribe", market="local", currency="BTCUSD")
        subscribe(ws, "unsubscribe", market="global", currency="ETHUSD")
        server.advance(6)
        assert quiet(ws)  # nothing left, socket still open
        subscribe(ws, market="local", currency="LTCUSD")
        assert set(frames(ws, 1)[0]["local"]) == {"LTCUSD"}


def test_exchanges_single_and_multiple(server: Server) -> None:
    with (
        server.open("websocket/exchanges", "developer") as single,
        server.open("websocket/multiple/exchanges", "developer") as multiple,
    ):
        subscribe(single, exchange="bitstamp")
        subscribe(multiple, exchange="bitstamp")
        subscribe(multiple, exchange_list=["kraken"])
        assert frames(single, 1)[0]["name"] == "bitstamp"
        first, both = frames(multiple, 2)
        assert set(first) == {"success", "time", "bitstamp"} and set(both) == {"success", "time", "bitstamp", "kraken"}
        subscribe(single, exchange="Kraken")
        assert frames(single, 1)[0]["name"] == "kraken"
        server.advance(3)
        (one,) = frames(single, 1)
        (many,) = frames(multiple, 1)
        assert one["time"] == many["time"] == "2011-07-10 00:00:03"
        assert bare(one) == server.rest("/exchanges/kraken")
        assert bare(many) == {
            "bitstamp": server.rest("/exchanges/bitstamp"),
            "kraken": server.rest("/exchanges/kraken"),
        }
        subscribe(multiple, "unsubscribe", exchange="kraken")
        server.advance(3)
        assert set(frames(multiple, 1)[0]) == {"success", "time", "bitstamp"}


@pytest.mark.parametrize("channel", ["websocket/ticker", "websocket/exchanges"])
def test_unsubscribe_closes_a_single_channel(server: Server, channel: str) -> None:
    with server.open(channel, "developer") as ws:
        subscribe(ws, market="local", currency="BTCUSD", exchange="bitstamp")
        frames(ws, 1)
        subscribe(ws, "unsubscribe", market="local", currency="BTCUSD", exchange="bitstamp")
        assert closed_with(ws) == (1000, "unsubscribed")


def test_malformed_messages_get_errors_and_the_socket_stays_open(server: Server) -> None:
    with server.open("websocket/multiple/ticker", "developer") as ws:
        for text in (
            "not json",
            "[1, 2]",
            '{"event": "hello"}',
            '{"event": "message", "data": 3}',
            '{"event": "message", "data": {"operation": "dance"}}',
            *(
                json.dumps({"event": "message", "data": {"operation": "subscribe", "options": options}})
                for options in (
                    [],
                    {},
                    {"market": "moon", "currency": "BTCUSD"},
                    {"market": "local", "currency": "XYZABC"},
                    {"market": "local", "currency": 5},
                    {"market": "local", "currency": []},
                )
            ),
            '{"event": "message", "data": {"operation": "subscribe", "options": {"market": "local"}}}',
        ):
            ws.send(text)
            answer = json.loads(ws.recv(timeout=5))
            assert answer["event"] == "error" and isinstance(answer["data"]["message"], str), (text, answer)
        subscribe(ws, market="local", currency="BTCUSD")
        assert "BTCUSD" in frames(ws, 1)[0]["local"]


# -- v2 channels and plans -----------------------------------------------------------------------


def test_v2_refused_to_a_developer_key_and_served_to_an_enterprise_key(server: Server) -> None:
    developer = server.http.get("/websocket/v2/get_ticket", headers={"x-ba-key": KEYS["developer"][0]})
    assert developer.status_code == 403
    status, _ = server.refused(server.url("websocket/v2/ticker", "developer", server.ticket("developer")))
    assert status == 403  # plan below enterprise
    status, _ = server.refused(server.url("websocket/v2/ticker", "enterprise", server.ticket("enterprise", "v1")))
    assert status == 401  # a v1 ticket does not open a v2 channel
    with server.open("websocket/v2/ticker") as ticker, server.open("websocket/v2/exchanges") as exchanges:
        subscribe(ticker, symbol_set="local", currency_list=["BTCUSD", "ETHUSD"])
        subscribe(ticker, symbol_set="local", currency_list=["LTCUSD"])  # replaces
        subscribe(exchanges, exchange_list=["bitstamp", "gdax"])
        assert set(frames(ticker, 2)[1]["local"]) == {"LTCUSD"}
        assert set(frames(exchanges, 1)[0]) == {"success", "time", "bitstamp", "gdax"}
        server.advance(1)  # enterprise: every second
        (tick,) = frames(ticker, 1)
        assert tick == {"local": {"LTCUSD": server.rest("/indices/local/ticker/LTCUSD")}, "global": {}}
        (ex,) = frames(exchanges, 1)
        assert ex["gdax"] == server.rest("/exchanges/gdax")


@pytest.mark.parametrize(("plan", "every"), [("free", 10), ("developer", 3), ("business", 3), ("enterprise", 1)])
def test_update_interval_per_plan(server: Server, plan: str, every: int) -> None:
    server.advance(1.5)  # subscribe between two due times: frames stay on multiples of the interval
    with server.open("websocket/ticker", plan) as ws:
        subscribe(ws, market="local", currency="BTCUSD")
        assert frames(ws, 1)[0]["timestamp"] == T0 + 1
        server.advance(30)
        due = [T0 + k for k in range(2, 32) if k % every == 0]  # the clock went from T0 + 1.5 to T0 + 31.5
        assert [f["timestamp"] for f in frames(ws, len(due))] == due
        assert quiet(ws)


# -- tickets, handshakes and limits --------------------------------------------------------------


def test_tickets_are_single_use_bound_to_the_key_and_short_lived(server: Server) -> None:
    ticket = server.ticket("developer")
    base = server.base.replace("http://", "ws://")
    developer, business = KEYS["developer"][0], KEYS["business"][0]
    assert server.refused(f"{base}/websocket/ticker")[0] == 401
    assert server.refused(f"{base}/websocket/ticker?public_key={developer}")[0] == 401
    assert server.refused(f"{base}/websocket/ticker?public_key={developer}&ticket=nonsense")[0] == 401
    assert server.refused(f"{base}/websocket/ticker?public_key={business}&ticket={ticket}")[0] == 401
    assert server.refused(f"{base}/websocket/ticker?public_key=nobody&ticket={ticket}")[0] == 401
    # either order; a bogus Authentication header (as some clients send it) is ignored
    with connect(
        f"{base}/websocket/ticker?ticket={ticket}&public_key={developer}",
        additional_headers={"Authentication": "b'not-a-signature'"},
    ) as ws:
        assert json.loads(ws.recv(timeout=5)) == STATUS
    status, body = server.refused(server.url("websocket/ticker", "developer", ticket))
    assert status == 401 and body["success"] is False and "ticket" in body["error"].lower()
    late = server.ticket("developer")
    server.advance(61)
    assert server.refused(server.url("websocket/ticker", "developer", late))[0] == 401


def test_client_limit_per_key(server: Server) -> None:
    free = KEYS["free"][0]
    spare = server.ticket("free")
    with server.open("websocket/ticker", "free"):
        refused = server.http.get("/websocket/get_ticket", headers={"x-ba-key": free})
        assert refused.status_code == 429 and refused.text == f"Client limit reached for api key {free}"
        status, body = server.refused(server.url("websocket/ticker", "free", spare))
        assert status == 429 and body["error"] == f"Client limit reached for api key {free}"
        with server.open("websocket/ticker", "developer"):  # other keys have their own count
            pass
    deadline = time.monotonic() + 5  # the server counts the close once it has seen it
    while server.http.get("/websocket/get_ticket", headers={"x-ba-key": free}).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with server.open("websocket/ticker", "free", spare):  # the refused handshake did not spend it
        pass
    sockets = [server.open("websocket/exchanges", "developer") for _ in range(3)]
    assert server.http.get("/websocket/get_ticket", headers={"x-ba-key": KEYS["developer"][0]}).status_code == 429
    for ws in sockets:
        ws.close()


def test_free_keys_get_only_the_ticker_channel(server: Server) -> None:
    for channel in V1[1:]:
        assert server.refused(server.url(channel, "free"))[0] == 403


@pytest.mark.parametrize("path", ["websocket/nothing", "websocket/v2/nothing", "indices/local/ticker/BTCUSD"])
def test_unknown_websocket_paths_are_refused_with_404(server: Server, path: str) -> None:
    status, body = server.refused(server.url(path, "developer", "any-ticket"))
    assert (status, body) == (404, {"success": False, "error": "Not found"})
    with tenant(server, "ba-unknown") as other:
        assert other.refused(other.url(path, "developer", "any-ticket"))[0] == 404


# -- fan-out, resets, scenarios, snapshots -------------------------------------------------------


def masked(text: str) -> bytes:
    """A client's text frame (clients must mask), for a raw socket."""
    payload, mask = text.encode(), b"\x11\x22\x33\x44"
    size = len(payload)
    header = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_one_payload_many_subscribers_and_a_slow_consumer_is_dropped() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, ws_queue_limit=10))
    connections = app.state.connections
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url) as http:
        base = served.url
        server = Server(base, http)
        host, port = base.removeprefix("http://").split(":")
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect((host, int(port)))
        path = server.url("websocket/v2/exchanges", "enterprise").split(port, 1)[1]
        slow.sendall(
            f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".encode()
            + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert b"101" in slow.recv(12)
        names = [e["name"] for e in server.rest("/exchanges/all")]
        message = {"event": "message", "data": {"operation": "subscribe", "options": {"exchange_list": names}}}
        slow.sendall(masked(json.dumps(message)))  # about 40 kB a second from now on, never read
        try:
            with server.open("websocket/v2/exchanges") as a, server.open("websocket/v2/exchanges") as b:
                subscribe(a, exchange_list=names)
                subscribe(b, exchange_list=list(reversed(names)))  # the same set: the same channel key
                frames(a, 1)
                frames(b, 1)
                feed = feed_of(app.state.registry.get("default"))
                assert len(feed.channels.subscribers) == 1  # three sockets, one payload rendered and serialised
                for _ in range(5):
                    assert http.post("/_emulator/clock/advance", json={"seconds": 60}, timeout=60).status_code == 200
                    assert len(frames(a, 60)) == 60 and len(frames(b, 60)) == 60
                    if len(connections.clients) == 2:
                        break
                assert len(connections.clients) == 2, "the slow consumer was disconnected"
                server.advance(3)
                assert len(frames(a, 3)) == 3 and len(frames(b, 3)) == 3
        finally:
            slow.close()


def test_reset_and_scenario_disconnect_close_with_1012(server: Server) -> None:
    with server.open("websocket/ticker", "developer") as ws:
        subscribe(ws, market="local", currency="BTCUSD")
        frames(ws, 1)
        assert server.http.post("/_emulator/reset", json={}).status_code == 200
        assert closed_with(ws) == (1012, "the world was reset")
    with tenant(server, "ba-scenario") as other:  # a scenario stays with its world: not the shared one
        story = "name: drop\ntimeline:\n  - at: 5\n    disconnect: bitcoinaverage\n"
        assert other.http.post("/_emulator/scenario", json={"yaml": story}).status_code == 200
        with other.open("websocket/ticker", "free") as ws:
            subscribe(ws, market="local", currency="BTCUSD")
            frames(ws, 1)
            other.advance(5)
            code, reason = closed_with(ws)
            assert code == 1012 and reason and "bitcoinaverage" in reason


def test_frames_survive_a_snapshot_restore(server: Server) -> None:
    with server.open("websocket/ticker", "developer") as ws:
        subscribe(ws, market="local", currency="BTCUSD")
        frames(ws, 1)
        state = server.http.get("/_emulator/state").content
        assert server.http.post("/_emulator/state", content=state, headers=JSON_BODY).status_code == 200
        assert closed_with(ws)[0] == 1012
    with server.open("websocket/ticker", "developer") as ws:
        subscribe(ws, market="local", currency="BTCUSD")
        frames(ws, 1)
        server.advance(6)
        assert [f["timestamp"] for f in frames(ws, 2)] == [T0 + 3, T0 + 6]
        assert quiet(ws)


def test_websocket_fault_rules_match_the_channel_path(server: Server) -> None:
    rule = {"api": "bitcoinaverage", "channel": "websocket/ticker", "effect": "ws_gap", "count": 2}
    assert server.http.post("/_emulator/faults", json=rule).status_code in (200, 201)
    drop = {"api": "bitcoinaverage", "path": "/websocket/multiple/*", "effect": "ws_drop", "body": "gone"}
    assert server.http.post("/_emulator/faults", json=drop).status_code in (200, 201)
    with server.open("websocket/ticker", "developer") as ws, server.open("websocket/multiple/ticker") as multi:
        subscribe(ws, market="local", currency="BTCUSD")
        subscribe(multi, market="local", currency="BTCUSD")
        frames(ws, 1)  # the subscribe frame is the client's own, not a published one
        frames(multi, 1)
        server.advance(9)
        assert [f["time"] for f in frames(ws, 1)] == ["2011-07-10 00:00:09"]  # 3 s and 6 s were dropped
        assert closed_with(multi) == (1011, "gone")


@contextmanager
def tenant(server: Server, name: str) -> Iterator[Server]:
    with httpx.Client(base_url=f"{server.base}/_t/{name}") as http:
        yield Server(f"{server.base}/_t/{name}", http)


def test_tenants_have_their_own_feeds(server: Server) -> None:
    with (
        tenant(server, "ba-tenant") as other,
        other.open("websocket/ticker", "developer") as mine,
        server.open("websocket/ticker", "developer") as theirs,
    ):
        subscribe(mine, market="local", currency="BTCUSD")
        subscribe(theirs, market="local", currency="BTCUSD")
        frames(mine, 1)
        frames(theirs, 1)
        other.advance(3)
        assert len(frames(mine, 1)) == 1 and quiet(theirs)


# -- a third-party client, as the BitcoinAverage documentation shows -----------------------------


def test_documented_flow_with_websocket_client(server: Server) -> None:
    public_key, secret_key = KEYS["developer"]
    timestamp = int(time.time())
    payload = f"{timestamp}.{public_key}"
    hex_hash = hmac.new(secret_key.encode(), msg=payload.encode(), digestmod=hashlib.sha256).hexdigest()
    headers = {"X-Signature": f"{payload}.{hex_hash}"}
    assert headers["X-Signature"] == signature("developer", timestamp)
    ticket = httpx.get(f"{server.base}/websocket/get_ticket", headers=headers).json()["ticket"]
    url = f"{server.base.replace('http://', 'ws://')}/websocket/ticker?public_key={public_key}&ticket={ticket}"
    ws = websocket_client.create_connection(url, timeout=5)
    try:
        assert json.loads(ws.recv()) == STATUS
        subscribe_message = {
            "event": "message",
            "data": {"operation": "subscribe", "options": {"currency": "BTCUSD", "market": "local"}},
        }
        ws.send(json.dumps(subscribe_message))
        server.advance(6)
        received = [json.loads(ws.recv()) for _ in range(3)]
        assert [r["event"] for r in received] == ["message"] * 3
        assert [r["data"]["time"] for r in received] == [
            "2011-07-10 00:00:00",
            "2011-07-10 00:00:03",
            "2011-07-10 00:00:06",
        ]
        assert bare(received[-1]["data"]) == server.rest("/indices/local/ticker/BTCUSD")
    finally:
        ws.close()


# -- v2 order books and trades -------------------------------------------------------------------


def drain(ws: ClientConnection, wait: float = 0.3) -> list[Any]:
    """Every frame's `data` until nothing more arrives (delivery of what was played takes milliseconds)."""
    out: list[Any] = []
    while True:
        try:
            frame = json.loads(ws.recv(timeout=wait))
        except TimeoutError:
            return out
        assert frame["event"] == "message", frame
        out.append(frame["data"])


Levels = dict[str, dict[float, float]]


def levels(snapshot: dict[str, Any]) -> Levels:
    assert snapshot["type"] == "snapshot"
    return {side: {level["price"]: level["amount"] for level in snapshot[side]} for side in ("asks", "bids")}


def apply(book: Levels, update: dict[str, Any]) -> None:
    assert update["type"] == "update" and update["updates"]
    for change in update["updates"]:
        side = book["asks" if change["side"] == "ask" else "bids"]
        if change["amount"] == 0:
            assert change["price"] in side, change  # only a level that is there is deleted
            del side[change["price"]]
        else:
            side[change["price"]] = change["amount"]


def best_first(book: Levels) -> dict[str, list[tuple[float, float]]]:
    return {"asks": sorted(book["asks"].items()), "bids": sorted(book["bids"].items(), reverse=True)}


def snapshot_lists(snapshot: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    return {side: [(level["price"], level["amount"]) for level in snapshot[side]] for side in ("asks", "bids")}


def get_depth(server: Server) -> dict[str, list[tuple[float, float]]]:
    depth = server.http.get("/code/data/getDepth.php").json()
    return {"asks": [(p, v) for p, v in depth["asks"]], "bids": [(p, v) for p, v in reversed(depth["bids"])]}


def mtgox(server: Server, method: str, **params: str) -> Any:
    answer = server.http.post(f"/code/{method}", data={"name": "bob", "pass": "bob-pass", **params})
    assert answer.status_code == 200 and "error" not in answer.json(), answer.text
    return answer.json()


def test_order_book_snapshot_plus_updates_give_the_next_snapshot(server: Server) -> None:
    books: dict[tuple[str, str], Levels] = {}
    with server.open("websocket/v2/orderbooks") as ws, server.open("websocket/v2/orderbooks") as gox:
        subscribe(ws, exchange="bitstamp", currency_list=["BTCUSD", "btceur"])
        subscribe(gox, exchange="mtgox", currency_list=["BTCUSD"])
        for snapshot in [*frames(ws, 2), *frames(gox, 1)]:
            assert len(snapshot["asks"]) and len(snapshot["bids"])
            books[(snapshot["exchange"], snapshot["symbol"])] = levels(snapshot)
        assert set(books) == {("bitstamp", "BTCEUR"), ("bitstamp", "BTCUSD"), ("mtgox", "BTCUSD")}
        for _ in range(3):
            server.advance(7)
            updates = drain(ws) + drain(gox)
            assert len(updates) <= 7 * 3  # enterprise: at most one frame a second per book
            for update in updates:
                apply(books[(update["exchange"], update["symbol"])], update)
            with server.open("websocket/v2/orderbooks") as later, server.open("websocket/v2/orderbooks") as gox2:
                subscribe(later, exchange="bitstamp", currency_list="BTCEUR,BTCUSD")
                subscribe(gox2, exchange="mtgox", currency_list="BTCUSD")
                for snapshot in [*frames(later, 2), *frames(gox2, 1)]:
                    book = books[(snapshot["exchange"], snapshot["symbol"])]
                    assert best_first(book) == snapshot_lists(snapshot)
                    if snapshot["exchange"] == "bitstamp":  # best prices are the exchange's own quotes
                        quote = server.rest("/exchanges/bitstamp")["symbols"][snapshot["symbol"]]
                        assert (snapshot["bids"][0]["price"], snapshot["asks"][0]["price"]) == (
                            quote["bid"],
                            quote["ask"],
                        )
                    else:
                        assert snapshot_lists(snapshot) == get_depth(server)


def test_the_mtgox_book_equals_get_depth_after_bursts_of_orders(server: Server) -> None:
    with server.open("websocket/v2/orderbooks") as ws:
        subscribe(ws, exchange="mtgox", currency_list=["BTCUSD"])
        (snapshot,) = frames(ws, 1)
        assert snapshot_lists(snapshot) == get_depth(server)
        book = levels(snapshot)
        best_ask = snapshot["asks"][0]["price"]
        for burst in range(3):
            oids = [
                mtgox(server, "sellBTC.php", amount=f"0.{k + 1}", price=f"{best_ask + 0.01 * k + 0.00123:.5f}")["oid"]
                for k in range(5)
            ]
            mtgox(server, "buyBTC.php", amount="0.7", price=f"{best_ask * 0.9:.5f}")
            mtgox(server, "buyBTC.php", amount="1.5", price=f"{best_ask * 1.02:.5f}")  # takes asks
            mtgox(server, "cancelOrder.php", oid=oids[-1], type="1")
            server.advance(1 + burst)
            for update in drain(ws):
                apply(book, update)
            assert best_first(book) == get_depth(server)


def test_a_trade_placed_over_mtgox_http_arrives_on_the_trades_channel(server: Server) -> None:
    before = max(int(t["tid"]) for t in server.http.get("/code/data/getTrades.php").json())
    with server.open("websocket/v2/trades") as ws:
        subscribe(ws, exchange="mtgox", currency_list=["BTCUSD"])
        assert quiet(ws)  # no snapshot: trades from now on
        ask = server.http.get("/code/data/getDepth.php").json()["asks"][0][0]
        mtgox(server, "buyBTC.php", amount="2", price=f"{ask * 1.05:.5f}")
        placed = server.http.get(f"/code/data/getTrades.php?since={before}").json()
        assert placed and all(t["date"] == T0 for t in placed)  # it traded at once, on the manual clock
        server.advance(5)
        got = drain(ws)
    trades = server.http.get(f"/code/data/getTrades.php?since={before}").json()  # with the flow's since
    assert trades[: len(placed)] == placed
    assert got == [
        {
            "exchange": "mtgox",
            "symbol": "BTCUSD",
            "price": float(t["price"]) if "." in t["price"] else int(t["price"]),
            "amount": float(t["amount"]) if "." in t["amount"] else int(t["amount"]),
            "side": {"bid": "buy", "ask": "sell"}[t["trade_type"]],
            "time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t["date"])),
        }
        for t in trades
    ]


def test_npm_1_2_1_message_form_and_generated_trades_follow_the_exchange(server: Server) -> None:
    with server.open("websocket/v2/trades") as ws, server.open("websocket/v2/orderbooks") as books:
        for socket_ in (ws, books):  # 1.2.1: `exchange` and `symbols` beside `operation`, no `options`
            socket_.send(
                json.dumps(
                    {
                        "event": "message",
                        "data": {"operation": "subscribe", "exchange": "bitstamp", "symbols": ["BTCUSD"]},
                    }
                )
            )
        (snapshot,) = frames(books, 1)
        assert (snapshot["exchange"], snapshot["symbol"]) == ("bitstamp", "BTCUSD")
        seen = 0
        for second in range(1, 21):
            server.advance(1)
            trades = drain(ws, 0.15)
            quote = server.rest("/exchanges/bitstamp")["symbols"]["BTCUSD"]
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(T0 + second))
            assert all(t["time"] == stamp and t["exchange"] == "bitstamp" and t["symbol"] == "BTCUSD" for t in trades)
            assert all(t["side"] in ("buy", "sell") and t["amount"] > 0 for t in trades)
            if trades:  # a second's last trade is at the exchange's last price of that second
                assert trades[-1]["price"] == quote["last"]
                assert all(quote["bid"] <= t["price"] <= quote["ask"] for t in trades)
            seen += len(trades)
        assert seen > 3


def test_order_book_and_trade_frames_are_the_same_every_run(server: Server) -> None:
    def run() -> list[Any]:
        assert server.http.post("/_emulator/reset", json={}).status_code == 200
        with server.open("websocket/v2/orderbooks") as ws, server.open("websocket/v2/trades") as trades:
            subscribe(ws, exchange="kraken", currency_list=["ETHEUR", "BTCUSD"])
            subscribe(trades, exchange="kraken", currency_list=["ETHEUR", "BTCUSD"])
            server.advance(2.5)
            books, made = drain(ws), drain(trades)
            server.advance(6)
            # each socket's frames in order: a frame late on a loaded machine is in its socket's
            # next drain, which does not change the sequence compared
            return [books + drain(ws), made + drain(trades)]

    once = run()
    assert len(once[0]) + len(once[1]) > 5 and once == run()


def test_order_book_and_trade_subscriptions_are_checked(server: Server) -> None:
    localbitcoins = server.rest("/exchanges/localbitcoins")["symbols"]
    assert len(localbitcoins) > 20  # more than the enterprise plan's 20 symbols a subscription
    with server.open("websocket/v2/orderbooks") as ws:
        for options in (
            {"exchange": "nowhere", "currency_list": ["BTCUSD"]},
            {"exchange": "gemini", "currency_list": ["BTCEUR"]},
            {"exchange": ["gemini", "kraken"], "currency_list": ["BTCUSD"]},
            {"exchange": "gemini"},
            {"exchange": "localbitcoins", "currency_list": list(localbitcoins)},
        ):
            subscribe(ws, **options)
            answer = json.loads(ws.recv(timeout=5))
            assert answer["event"] == "error" and isinstance(answer["data"]["message"], str), (options, answer)
        subscribe(ws, exchange="localbitcoins", currency_list=list(localbitcoins)[:20])
        assert len(frames(ws, 20)) == 20
        subscribe(ws, "unsubscribe")
        server.advance(3)
        assert quiet(ws)


@pytest.mark.parametrize("channel", ["websocket/v2/orderbooks", "websocket/v2/trades"])
def test_order_books_and_trades_need_an_enterprise_key(server: Server, channel: str) -> None:
    status, body = server.refused(server.url(channel, "developer", server.ticket("developer")))
    assert (status, body) == (403, {"success": False, "error": "Forbidden -- Higher level API Keys required"})
    with server.open(channel) as ws:  # enterprise
        subscribe(ws, exchange="gdax", currency_list=["BTCUSD"])
        server.advance(20)
        assert drain(ws)

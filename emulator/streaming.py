"""Websocket fan-out shared by both APIs.

A message is serialised once per channel and the same text is queued for every subscriber. Each
client has a bounded queue and its own writer task, so publishing never waits for a socket: a client
whose queue fills up is closed with a reason instead of slowing the market or anybody else.

Fault hook: an API sets `Channels.faults` to what decides the fate of each published frame that has
subscribers (`emulator.faults.websocket.FrameFaults`, built on the world's fault rules); without
one, frames go out as they are.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

QUEUE_LIMIT = 2000
MAX_FRAME = 64 * 1024  # bytes a client may send in one frame: a larger one is closed with 1009
# What the server itself reads of one frame before it drops the connection: far above MAX_FRAME, so
# that a client sending too much meets the app's clean 1009 close rather than a reset (uvicorn's own
# limit of 16 MiB, or any limit near MAX_FRAME, breaks the socket while a large frame is being sent).
SERVER_FRAME_LIMIT = 32 * 1024 * 1024
SLOW_CONSUMER = (1008, "slow consumer: outgoing queue full")
GOING_AWAY = (1001, "server shutting down")
CLOSE_TIMEOUT = 1.0


def dumps(payload: Any) -> str:
    return orjson.dumps(payload).decode()


class Client:
    """The sending half of one websocket."""

    def __init__(self, websocket: WebSocket, limit: int = QUEUE_LIMIT) -> None:
        self.websocket = websocket
        self.limit = limit
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.closed = asyncio.Event()
        self.closing: tuple[int, str] | None = None
        self.channels: set[str] = set()

    def send(self, text: str) -> None:
        if self.closing is not None:
            return
        if len(self.queue) >= self.limit:
            self.close(*SLOW_CONSUMER)
            return
        self.queue.append(text)
        self.wake.set()

    def send_json(self, payload: Any) -> None:
        self.send(dumps(payload))

    def close(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            self.queue.clear()
            self.wake.set()
            self.closed.set()

    async def write(self) -> None:
        """Send queued frames until the client is asked to close."""
        queue = self.queue
        while True:
            await self.wake.wait()
            self.wake.clear()
            while queue:
                if self.closing is not None:
                    return
                await self.websocket.send_text(queue.popleft())
            if self.closing is not None:
                return


class FrameFaults(Protocol):
    """What happens to a frame published on a channel: sent to `members` as it is, or not."""

    def deliver(self, channel: str, text: str, members: list["Client"]) -> None: ...


class Channels:
    """Subscribers per channel; publish serialises once and queues the same text for everyone."""

    def __init__(self) -> None:
        self.subscribers: dict[str, dict[Client, None]] = {}
        self.faults: FrameFaults | None = None

    def join(self, client: Client, channel: str) -> None:
        self.subscribers.setdefault(channel, {})[client] = None
        client.channels.add(channel)

    def leave(self, client: Client, channel: str) -> None:
        members = self.subscribers.get(channel)
        if members is not None:
            members.pop(client, None)
            if not members:
                del self.subscribers[channel]
        client.channels.discard(channel)

    def leave_all(self, client: Client) -> None:
        for channel in list(client.channels):
            self.leave(client, channel)

    def listening(self, channel: str) -> bool:
        return channel in self.subscribers

    def publish(self, channel: str, payload: Any) -> None:
        members = self.subscribers.get(channel)
        if members:
            text = dumps(payload)
            if self.faults is not None:
                self.faults.deliver(channel, text, list(members))
                return
            for client in list(members):
                client.send(text)

    def clients(self) -> set[Client]:
        return {client for members in self.subscribers.values() for client in members}


def send_all(text: str, clients: list[Client]) -> None:
    for client in clients:
        client.send(text)


class Connections:
    """Every open websocket of the app, so that shutdown can close them all with 1001."""

    def __init__(self) -> None:
        self.clients: set[Client] = set()

    def close_all(self, code: int, reason: str) -> None:
        for client in list(self.clients):
            client.close(code, reason)


async def serve_client(
    websocket: WebSocket,
    client: Client,
    connections: Connections,
    on_text: Callable[[str], None],
) -> None:
    """Run one accepted websocket: a reader handing text frames to `on_text`, the client's writer,
    and a clean close with the client's reason when either ends. Binary frames are refused with
    1003 and oversized ones with 1009."""
    connections.clients.add(client)

    async def read() -> None:
        while client.closing is None:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                client.close(1000, "")
                return
            text = message.get("text")
            if text is None:
                client.close(1003, "binary frames are not accepted; send JSON text")
            elif len(text) > MAX_FRAME:
                client.close(1009, f"frame larger than {MAX_FRAME} bytes")
            else:
                on_text(text)

    reader = asyncio.create_task(read())
    writer = asyncio.create_task(client.write())
    closed = asyncio.create_task(client.closed.wait())  # a writer stuck on a full socket still stops
    try:
        await asyncio.wait({reader, writer, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, writer, closed):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError):
                await task
        connections.clients.discard(client)
        code, reason = client.closing or (1000, "")
        if code != 1000 or reason:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(code, reason), CLOSE_TIMEOUT)

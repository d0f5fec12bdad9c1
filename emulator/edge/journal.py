"""The request journal: what each tenant's clients asked and what they got, for tests to assert on.

The request pipeline (emulator.edge.pipeline, the same for the middleware way and the fast lane)
serves every API request as an `Exchange`, outside the fault effects so that it records what the
client saw: one entry per request in `world.attachments["journal"]`, a `Journal` keeping the last
10,000.
Choices where the brief is silent:
- Only the emulated APIs are recorded (the paths of emulator.surfaces); control routes under
  `/_emulator`, docs and unknown paths are not, so reading the journal never changes it.
- The journal is runtime state: it survives `POST /_emulator/reset` and is not part of snapshots.
- Identity is read from the request, never verified, by the API's surface (`Surface.identify`):
  MtGox `Rest-Key` (the key's user when the key is known, else the key), `name` from the query or an
  urlencoded body, or the login cookie's session; BitcoinAverage the public key of `X-Signature` or
  `x-ba-key`. `auth` says which.
- Websocket handshakes are entries with method `WEBSOCKET`, status 101 when accepted, else the
  denial's status or 403 (what uvicorn answers to a socket closed before accept); they are recorded
  when the handshake is decided, with its duration.
- A `reset` fault has status null and `error: "connection reset"`.
- `time` is market time in seconds (float) when the request arrived; `wall` is unix seconds.
- Secrets never reach it: `query` keeps every field's name but a secret's value is `***` (passwords,
  secrets, signatures, tickets, sessions); headers (Rest-Sign, X-Signature, cookies) are not kept,
  only the identity read from them.
"""

import asyncio
import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote_plus

from starlette.types import Message, Receive, Scope, Send

from emulator.faults.http import InjectedReset
from emulator.market.clock import MICROS
from emulator.market.world import World
from emulator.surfaces import Surface

LIMIT = 10_000
BODY_PEEK = 64 * 1024


@dataclass(slots=True)
class Entry:
    seq: int
    api: str
    method: str
    path: str
    query: str
    status: int | None
    time_us: int
    wall: float
    duration_ms: float
    auth: str | None
    identity: str | None
    fault: str | None
    error: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "api": self.api,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "time": self.time_us / MICROS,
            "wall": self.wall,
            "duration_ms": self.duration_ms,
            "auth": self.auth,
            "identity": self.identity,
            "fault": self.fault,
            "error": self.error,
        }


class Journal:
    def __init__(self, limit: int = LIMIT) -> None:
        self.entries: deque[Entry] = deque(maxlen=limit)
        self.seq = 0

    def record(self, entry: Entry) -> None:
        self.seq += 1
        entry.seq = self.seq
        self.entries.append(entry)

    def clear(self) -> int:
        count = len(self.entries)
        self.entries.clear()
        return count

    def select(
        self,
        api: str | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        since: int | None = None,
        fault: bool | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries matching every given filter, oldest first; `limit` keeps the most recent."""
        method = method.upper() if method else None
        chosen: Iterable[Entry] = self.entries
        out = [
            e
            for e in chosen
            if (api is None or e.api == api)
            and (method is None or e.method == method)
            and (path is None or fnmatchcase(e.path, path))
            and (status is None or e.status == status)
            and (since is None or e.time_us >= since)
            and (fault is None or (e.fault is not None) == fault)
        ]
        return out[-limit:] if limit else out


def journal_of(world: World) -> Journal:
    journal = world.attachments.get("journal")
    if not isinstance(journal, Journal):
        journal = world.attachments["journal"] = Journal()
    return journal


SECRET_FIELDS = frozenset(("pass", "password", "secret", "secret_key", "sign", "signature", "ticket", "session"))
SECRET_FIELD = re.compile(r"(?:^|(?<=[&;]))([^=&;]*)=([^&;]*)")


def masked_query(query: str) -> str:
    """The query string with every secret's value (passwords, secrets, signatures, tickets,
    sessions) as `***`: the name stays, so a test still sees that it was sent."""
    if "=" not in query:
        return query

    def mask(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"{name}=***" if unquote_plus(name).lower() in SECRET_FIELDS else match.group(0)

    return SECRET_FIELD.sub(mask, query)


def note(
    world: World,
    scope: Scope,
    surface: Surface,
    status: int | None,
    market: int,
    wall: float,
    started: float,
    body: bytes = b"",
    error: str | None = None,
) -> None:
    """Record one request in its world's journal (`started` is its perf_counter at arrival)."""
    try:
        auth, identity = surface.identify(scope, world, body)
    except Exception:
        auth, identity = None, None
    journal_of(world).record(
        Entry(
            0,
            surface.name,
            "WEBSOCKET" if scope["type"] == "websocket" else scope.get("method", "GET"),
            scope["path"],
            masked_query(scope.get("query_string", b"").decode("latin-1")),
            status,
            market,
            wall,
            round((time.perf_counter() - started) * 1000, 3),
            auth,
            identity,
            scope.get("state", {}).get("fault"),
            error,
        )
    )


class Exchange:
    """One API request on its way through the pipeline (emulator.edge.pipeline), as the journal
    sees it: its `receive` keeps the first BODY_PEEK bytes of the body (for an identity sent in a
    form), its `send` notes the status; `done` or `failed` records the entry, once. A websocket
    handshake is recorded when it is decided."""

    __slots__ = ("body", "downstream", "recorded", "scope", "start", "status", "surface", "upstream", "world")

    def __init__(self, world: World, surface: Surface, scope: Scope, receive: Receive, send: Send) -> None:
        self.world = world
        self.surface = surface
        self.scope = scope
        self.upstream = receive
        self.downstream = send
        self.status: int | None = None
        self.body = bytearray()
        self.start = (time.perf_counter(), time.time(), world.clock.now())
        self.recorded = False

    def record(self, error: str | None = None) -> None:
        if not self.recorded:
            self.recorded = True
            started, wall, market = self.start
            note(self.world, self.scope, self.surface, self.status, market, wall, started, bytes(self.body), error)

    async def receive(self) -> Message:
        message = await self.upstream()
        body = self.body
        if message["type"] == "http.request" and len(body) < BODY_PEEK:
            body.extend(message.get("body", b"")[: BODY_PEEK - len(body)])
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
        elif kind == "websocket.accept":
            self.status = 101
            self.record()
        elif kind == "websocket.close" and self.status is None:
            self.status = 403
            self.record()
        elif kind == "websocket.http.response.start":
            self.status = message["status"]
            self.record()
        await self.downstream(message)

    def done(self) -> None:
        if self.scope["type"] == "websocket" and self.status is None:
            self.status = 403
        self.record()

    def failed(self, exc: BaseException) -> None:
        """Record a request that ended in `exc` (which goes on up)."""
        if isinstance(exc, InjectedReset):
            self.status = None
            self.record("connection reset")
        elif isinstance(exc, asyncio.CancelledError):  # the client went away mid-request
            self.record("cancelled")
        else:
            if self.scope["type"] == "websocket" and self.status is None:
                self.status = 500
            self.record("server error" if self.status is None or self.status >= 500 else None)

"""Fault effects for HTTP: what the world's fault rules do to an API request (`gate`).

The request pipeline (emulator.edge.pipeline) calls `gate` for every request of an emulated API (the
paths of emulator.surfaces, tenant prefix already stripped); anything else (`/_emulator` above all)
is never faulted. Rules and their matching live in `emulator.faults.rules`; this module only renders
the effects.

Effects, as a client sees them (choices where the brief is silent):
- `status`: the rule's status (default 503) with its `body`, or without one the API's own error
  (its surface's `error`): MtGox `{"error": "<reason phrase>"}`, BitcoinAverage `{"success": false,
  "error": "<reason phrase>"}`. A string body is sent verbatim (as JSON when it parses as JSON, else text/plain).
- `rate_limit`: a storm. BitcoinAverage: 429 `{"success": false, "error": "Rate limit exceeded ..."}`;
  MtGox: HTTP 200 `{"error": "Too many requests ..."}` (its errors are always HTTP 200). Both carry
  `Retry-After`: the seconds left in the rule's window, or 60 when it has none.
- `latency`: waits `latency_ms` of real time, then serves normally.
- `reset`: starts a 200 answer announcing a longer body, sends two bytes and aborts. Over a socket
  the server closes the connection (a client sees a broken read); in-process clients (TestClient,
  httpx.ASGITransport) see `InjectedReset`, a ConnectionResetError. Uvicorn's log line for it is
  filtered out: the journal records the hit.
- `mysql_error`: HTTP 200, text/plain `MySQL error, please retry later` (spec §1.6).
- `stale`: GET answers of paths covered by a stale rule are cached per world timeline (last good 200,
  keyed by path and query, 256 at most; a reset or restore forgets them); a hit serves the cached
  answer while it is at most `max_age` seconds of market time old, and otherwise serves a fresh one
  and caches it. Non-GET requests are never served stale.
HTTP rules also apply to websocket handshakes (as method GET, e.g. `{"path": "/mtgox", "effect":
"status"}` refuses reconnects during an outage): `latency` delays the handshake, and `status`,
`rate_limit`, `mysql_error` and `reset` refuse it, with the effect's HTTP answer when the server
supports denial responses (uvicorn does), else with a close before accept (403). `stale` does not
apply to sockets.
A rule that breaks while being applied is logged and the request served normally, never a 500.
"""

import asyncio
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from http import HTTPStatus
from typing import Any

import orjson
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.faults.rules import FaultRule, faults_of, has_http_faults
from emulator.market.clock import MICROS
from emulator.market.memo import Memo
from emulator.market.world import World
from emulator.responses import JSON
from emulator.surfaces import Surface

log = logging.getLogger(__name__)

MYSQL_ERROR = "MySQL error, please retry later"
CACHE_LIMIT = 256
CACHE_BODY_LIMIT = 1024 * 1024
CACHE = "fault-cache"


class InjectedReset(ConnectionResetError):
    """Raised after a partial answer to make the server drop the connection (the `reset` effect)."""


class _QuietResets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, InjectedReset)


def quiet_server_log() -> None:
    """Keep uvicorn from logging the resets it is asked to make (the journal records them)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietResets) for f in logger.filters):
        logger.addFilter(_QuietResets())


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def body_response(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, str):
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            return PlainTextResponse(body, status_code=status, headers=headers)
        return Response(body, status_code=status, headers=headers, media_type="application/json")
    return JSON(body, status_code=status, headers=headers)


def effect_response(rule: FaultRule, surface: Surface, now: int) -> Response | None:
    """The answer a `status`, `rate_limit` or `mysql_error` rule gives instead of the route's."""
    if rule.effect == "mysql_error":
        return PlainTextResponse(MYSQL_ERROR, status_code=200)
    if rule.effect == "status":
        status = rule.status or 503
        if rule.body is not None:
            return body_response(rule.body, status)
        return surface.error(status, reason(status), None)
    if rule.effect == "rate_limit":
        wait = rule.retry_after(now)
        headers = {"Retry-After": str(wait)}
        default, message = surface.rate_limit
        status = rule.status or default
        if rule.body is not None:
            return body_response(rule.body, status, headers)
        return surface.error(status, message.format(wait=wait), headers)
    return None


@dataclass
class Cached:
    time: int
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _cache(world: World) -> dict[Hashable, Cached]:
    """The last good answers of the world's timeline (a reset or restore starts a new one), oldest first."""
    memo = world.attachments.get(CACHE)
    if not isinstance(memo, Memo):
        memo = world.attachments[CACHE] = Memo(CACHE_LIMIT)
    return memo.values(world.epoch)


async def gate(world: World, surface: Surface, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Serve an API request with `app`, or as the world's HTTP fault rules say (see the module
    docstring); sets `scope["state"]["fault"]` on a hit."""
    if not has_http_faults(world):
        await app(scope, receive, send)
        return
    path: str = scope["path"]
    book = faults_of(world)
    rule: FaultRule | None = None
    response: Response | None = None
    websocket = scope["type"] == "websocket"
    try:
        now = world.sync()
        rule = book.match_http(surface.name, path, "GET" if websocket else scope["method"], now)
        if rule is not None:
            scope.setdefault("state", {})["fault"] = rule.id
            response = effect_response(rule, surface, now)
        stale = (
            not websocket
            and scope["method"] == "GET"
            and any(fnmatchcase(path, g) for g in book.stale_paths(surface.name))
        )
    except Exception:
        log.exception("fault rule failed; serving the request normally")
        rule, response, stale = None, None, False
    if websocket and rule is not None and rule.effect != "latency":
        await _refuse(response, scope, receive, send)
    elif response is not None:
        await response(scope, receive, send)
    elif rule is not None and rule.effect == "reset":
        await _reset(send)
    elif rule is not None and rule.effect == "latency":
        await asyncio.sleep(rule.latency_ms / 1000)
        await app(scope, receive, send)
    elif stale:
        await _stale(rule, world, scope, receive, send, app)
    else:
        await app(scope, receive, send)


async def _refuse(response: Response | None, scope: Scope, receive: Receive, send: Send) -> None:
    """Refuse a websocket handshake: the rule's HTTP answer if the server can send one, else 403."""
    if response is not None and "websocket.http.response" in scope.get("extensions", {}):
        await response(scope, receive, send)
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": "fault injected"})


async def _reset(send: Send) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"', "more_body": True})
    raise InjectedReset("fault injected: connection reset")


async def _stale(
    rule: FaultRule | None, world: World, scope: Scope, receive: Receive, send: Send, app: ASGIApp
) -> None:
    """Serve from the cache on a stale hit with a young enough entry, else fresh (and cache it)."""
    cache = _cache(world)
    key = (scope["path"], scope.get("query_string", b""))
    now = world.now
    if rule is not None and rule.effect == "stale":
        cached = cache.get(key)
        if cached is not None and now - cached.time <= rule.max_age * MICROS:
            await send({"type": "http.response.start", "status": cached.status, "headers": cached.headers})
            await send({"type": "http.response.body", "body": cached.body})
            return
    start: Message = {}
    parts: list[bytes] = []
    complete = False

    async def capture(message: Message) -> None:
        nonlocal start, complete
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
            complete = not message.get("more_body", False)
        await send(message)

    await app(scope, receive, capture)
    if complete and start.get("status") == 200 and sum(map(len, parts)) <= CACHE_BODY_LIMIT:
        cache.pop(key, None)  # to the end: the oldest entries go first
        cache[key] = Cached(now, 200, list(start.get("headers", [])), b"".join(parts))
        while len(cache) > CACHE_LIMIT:
            del cache[next(iter(cache))]

"""Response examples and schemas for the OpenAPI document, taken from real renderings.

On the first request for the document, each API part (emulator.openapi) calls its operations once,
in process, on a fresh world of its own (a tenant that is dropped right after, so no client's world
is touched, and one API's calls never change another's examples): the answer becomes the
operation's example (long lists and maps cut to their first few items), and a schema is drawn from
it (the shape: objects, arrays and value types, nothing stricter, since values change with the
market). A part may name another shape its answers can take (MtGox answers errors with HTTP 200,
so its schema is either that shape or `{"error": ...}`). The answers come from the app itself,
through its whole middleware stack, so an example is exactly what a client gets.
"""

import asyncio
import re
import urllib.parse
from collections.abc import MutableMapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI

from emulator.openapi import ApiPart, Call

TENANT = "openapi-examples"  # + "-" and the part's tag: the world one part's examples are asked of
SHOWN = 3  # items of a list (or entries of a map) an example keeps
MAP_SIZE = 12  # an object with more keys than a record of these APIs has is a map (symbol -> ticker, ...)
CODE = re.compile(r"^[A-Z0-9]{3,12}$")  # BTCUSD, USD, BTC: the keys of maps by symbol or currency
HOST = b"127.0.0.1"


def is_map(value: dict[str, Any]) -> bool:
    """A map keyed by symbol, currency or exchange (which keys depends on the query), not a record."""
    return len(value) > MAP_SIZE or (bool(value) and all(CODE.match(key) for key in value))


def shape(value: Any) -> dict[str, Any]:
    """A JSON schema of the value's shape: a record's keys are required, a map's are not; leaves may
    also be null (a market without trades yet)."""
    if isinstance(value, dict):
        if is_map(value):
            return {"type": "object", "additionalProperties": {"type": _type(next(iter(value.values())))}}
        properties = {key: shape(item) for key, item in value.items()}
        return {"type": "object", "properties": properties, "required": sorted(properties)}
    if isinstance(value, list):
        kinds = set()
        seen: set[object] = set()
        for item in value:  # a long list of flat records has few shapes: each is worked out once
            signature = _flat_signature(item)
            if signature is not None:
                if signature in seen:
                    continue
                seen.add(signature)
            kinds.add(orjson.dumps(shape(item)))
        return {"type": "array", "items": shape(value[0])} if len(kinds) == 1 else {"type": "array"}
    return {"type": [_type(value), "null"]} if value is not None else {}


def _flat_signature(value: Any) -> object:
    """All that a scalar's or a flat record's shape depends on (its keys and its values' types), or
    None for a value that nests lists or objects."""
    if isinstance(value, list):
        return None
    if isinstance(value, dict):
        types = tuple(map(type, value.values()))
        return None if dict in types or list in types else (tuple(value), types)
    return type(value)


def _type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "null"


def cut(value: Any) -> Any:
    """The value with long lists and maps cut to their first SHOWN items (at every depth)."""
    if isinstance(value, list):
        return [cut(item) for item in value[:SHOWN]]
    if isinstance(value, dict) and is_map(value):
        return {key: cut(item) for key, item in list(value.items())[:SHOWN]}
    if isinstance(value, dict):
        return {key: cut(item) for key, item in value.items()}
    return value


async def call(
    app: FastAPI,
    tenant: str,
    method: str,
    path: str,
    query: str = "",
    form: dict[str, str] | None = None,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> tuple[int, Any]:
    """One request through the whole app, in process: its status and decoded JSON answer, or its text."""
    body = urllib.parse.urlencode(form).encode() if form else b""
    headers = [(b"host", HOST), (b"x-emulator-tenant", tenant.encode()), *extra_headers]
    if form:
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    chunks: list[bytes] = []
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    content = b"".join(chunks)
    try:
        return status[0], orjson.loads(content)
    except orjson.JSONDecodeError:
        return status[0], content.decode("utf-8", "replace")


def _caller(app: FastAPI, tenant: str) -> Call:
    """`call` on this app, as this tenant: what a part's examples ask through."""

    async def ask(
        method: str,
        path: str,
        query: str = "",
        form: dict[str, str] | None = None,
        extra_headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> tuple[int, Any]:
        return await call(app, tenant, method, path, query, form, extra_headers)

    return ask


def _document(operation: dict[str, Any], answer: Any, other_answer: dict[str, Any] | None) -> None:
    response = operation["responses"]["200"]
    if isinstance(answer, str):  # a CSV answer
        response["content"] = {"text/csv": {"schema": {"type": "string"}, "example": answer[:400]}}
        return
    example = cut(answer)
    schema = shape(answer)
    content = response.setdefault("content", {}).setdefault("application/json", {})
    content["schema"] = {"anyOf": [schema, other_answer]} if other_answer is not None else schema
    content["example"] = example


async def add_examples(app: FastAPI, schema: dict[str, Any], parts: Sequence[ApiPart]) -> None:
    """Fill the examples and schemas of `schema` (the app's document) in place, part by part."""
    registry = app.state.registry
    for part in parts:
        if part.examples is None:
            continue
        tenant = f"{TENANT}-{part.tag}"
        try:
            answers = await part.examples(_caller(app, tenant))
        finally:
            world = registry.worlds.pop(tenant, None)  # its world, keys and journal: gone
            if world is not None:
                world.close()
        for path, answer in answers.items():
            for operation in schema["paths"][path].values():
                _document(operation, answer, part.other_answer)


class Examples:
    """Adds the examples once per app; concurrent first requests wait for the one doing it."""

    def __init__(self, parts: Sequence[ApiPart]) -> None:
        self.parts = parts
        self.done = False
        self.lock = asyncio.Lock()

    async def ensure(self, app: FastAPI) -> None:
        if self.done:
            return
        async with self.lock:
            if not self.done:
                await add_examples(app, app.openapi(), self.parts)
                self.done = True

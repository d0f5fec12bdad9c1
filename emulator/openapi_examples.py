"""Response examples and schemas for the OpenAPI document, taken from real renderings.

On the first request for the document, every MtGox method and BitcoinAverage route is called once,
in process, on a fresh world of its own (a tenant that is dropped right after, so no client's world
is touched): the answer becomes the operation's example (long lists and maps cut to their first
few items), and a schema is drawn from it (the shape: objects, arrays and value types, nothing
stricter, since values change with the market). MtGox answers errors with HTTP 200, so its schema is
either that shape or `{"error": ...}`. The answers come from the app itself, through its whole
middleware stack, so an example is exactly what a client gets.
"""

import asyncio
import re
import urllib.parse
from collections.abc import MutableMapping
from typing import Any

import orjson
from fastapi import FastAPI

from emulator.apis.bitcoinaverage.catalog import catalog

TENANT = "openapi-examples"
SHOWN = 3  # items of a list (or entries of a map) an example keeps
MAP_SIZE = 12  # an object with more keys than a record of these APIs has is a map (symbol -> ticker, ...)
CODE = re.compile(r"^[A-Z0-9]{3,12}$")  # BTCUSD, USD, BTC: the keys of maps by symbol or currency
HOST = b"127.0.0.1"
ALICE = {"name": "alice", "pass": "alice-pass"}
BA_KEY = (b"x-ba-key", b"EnterpriseDemoPublicKey0000000000000000000")
# Query strings some BitcoinAverage routes need (or that keep their examples small).
AVERAGE_QUERIES = {
    "/indices/ticker/custom/include/{symbol}": "exchanges=bitstamp,kraken",
    "/indices/ticker/custom/exclude/{symbol}": "exchanges=bitstamp",
    "/indices/{market}/ticker/all": "crypto=BTC&fiat=USD,EUR",
    "/indices/{market}/ticker/short": "crypto=BTC&fiat=USD,EUR",
    "/indices/{market}/ticker/changes/all": "crypto=BTC&fiat=USD,EUR",
    "/indices/{market}/history/{symbol}": "period=daily",
    "/exchanges/all": "crypto=BTC&fiat=USD",
    "/exchanges/ticker/all": "crypto=BTC&fiat=USD",
    "/convert/{market}": "from=BTC&to=USD&amount=2",
}
# Form fields of the MtGox methods, in an order that makes each answer a real one (an order to cancel).
MTGOX_FORMS: dict[str, dict[str, str]] = {
    "buyBTC.php": {"amount": "1", "price": "10"},
    "sellBTC.php": {"amount": "1", "price": "30"},
    "withdraw.php": {"group1": "BTC", "btca": "1HZwkjkeaoZfTSaJxDw6aKkxp45agDiEzN", "amount": "0.5"},
}
MTGOX_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


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
        kinds = {orjson.dumps(shape(item)) for item in value}
        return {"type": "array", "items": shape(value[0])} if len(kinds) == 1 else {"type": "array"}
    return {"type": [_type(value), "null"]} if value is not None else {}


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


async def call(app: FastAPI, method: str, path: str, query: str = "", form: dict[str, str] | None = None) -> Any:
    """One request through the whole app, in process; the decoded JSON answer, or its text."""
    body = urllib.parse.urlencode(form).encode() if form else b""
    headers = [(b"host", HOST), (b"x-emulator-tenant", TENANT.encode()), BA_KEY]
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


def _filled(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "path":
            value = parameter.get("example")
            if value is None and parameter["name"] == "tx_hash":
                value = next(iter(sorted(catalog().transactions)))
            path = path.replace("{" + parameter["name"] + "}", str(value))
    return path


def _document(operation: dict[str, Any], answer: Any, either_error: bool) -> None:
    response = operation["responses"]["200"]
    if isinstance(answer, str):  # a CSV answer
        response["content"] = {"text/csv": {"schema": {"type": "string"}, "example": answer[:400]}}
        return
    example = cut(answer)
    schema = shape(answer)
    content = response.setdefault("content", {}).setdefault("application/json", {})
    content["schema"] = {"anyOf": [schema, MTGOX_ERROR]} if either_error else schema
    content["example"] = example


async def add_examples(app: FastAPI, schema: dict[str, Any], mtgox_prefixes: tuple[str, ...]) -> None:
    """Fill the examples and schemas of `schema` (the app's document) in place."""
    registry = app.state.registry
    try:
        answers: dict[str, Any] = {}
        for path, operations in schema["paths"].items():
            get = operations.get("get")
            if get is None or "bitcoinaverage" not in get.get("tags", ()):
                continue
            status, answer = await call(app, "GET", _filled(path, get), AVERAGE_QUERIES.get(path, ""))
            if status == 200:
                _document(get, answer, either_error=False)
        prefix = mtgox_prefixes[0]
        for path in schema["paths"]:
            if not path.startswith(prefix):
                continue
            name = path.removeprefix(prefix)
            if name not in answers:
                form = {**ALICE, **MTGOX_FORMS.get(name, {})}
                if name == "cancelOrder.php":
                    placed = answers.get("buyBTC.php", {})
                    form.update(oid=str(placed.get("oid", "")), type="2")
                answers[name] = (await call(app, "POST", path, form=form))[1]
        for path, operations in schema["paths"].items():
            for other in mtgox_prefixes:
                if path.startswith(other) and path.removeprefix(other) in answers:
                    for operation in operations.values():
                        _document(operation, answers[path.removeprefix(other)], either_error=True)
    finally:
        registry.worlds.pop(TENANT, None)  # its world, keys and journal: gone


class Examples:
    """Adds the examples once per app; concurrent first requests wait for the one doing it."""

    def __init__(self, mtgox_prefixes: tuple[str, ...]) -> None:
        self.mtgox_prefixes = mtgox_prefixes
        self.done = False
        self.lock = asyncio.Lock()

    async def ensure(self, app: FastAPI) -> None:
        if self.done:
            return
        async with self.lock:
            if not self.done:
                await add_examples(app, app.openapi(), self.mtgox_prefixes)
                self.done = True

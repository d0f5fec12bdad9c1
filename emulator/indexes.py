"""What the base URLs `serve` prints answer: an index of each API, in that API's own style.

- `/code/` and `/api/0/`: the MtGox methods under that prefix, as MtGox answered everything (HTTP 200,
  a JSON object), each with its summary, whether it needs credentials, and its parameters.
- `/indices/`: every BitcoinAverage route (REST and websocket), as BitcoinAverage answered
  (`"success": true` beside the data).
- `/_emulator/`: the control routes this server has (fewer when the control API is switched off).

Built from the same operations the APIs document themselves with (their OpenAPI parts) and from
the app's routes, so an index never lists a method that is not there.
"""

from typing import Any

from fastapi import APIRouter, Request
from starlette.routing import BaseRoute

from emulator.apis.bitcoinaverage import routes as bitcoinaverage
from emulator.apis.mtgox.surface import SURFACE as MTGOX
from emulator.openapi import Operation
from emulator.responses import JSON
from emulator.routing import LoopRoute

router = APIRouter(include_in_schema=False, route_class=LoopRoute)
CONTROL = "/_emulator/"


def mtgox_index(prefix: str) -> dict[str, Any]:
    operations: dict[str, list[Operation]] = {}  # path -> its operations (GET and POST)
    for operation in MTGOX.openapi.operations():  # the part mtgox.routes gave its surface
        if operation.path.startswith(prefix):
            operations.setdefault(operation.path, []).append(operation)
    methods = []
    for path, verbs in operations.items():
        operation = verbs[0]
        methods.append(
            {
                "method": path.removeprefix(prefix),
                "url": path,
                "verbs": sorted(verb.verb.upper() for verb in verbs),
                "auth": any(p.name == "Rest-Key" for p in operation.parameters),
                "summary": operation.summary,
                "params": {p.name: p.description or "" for p in operation.parameters if p.where != "header"},
            }
        )
    return {"api": "MtGox (2011)", "prefix": prefix, "methods": methods, "websocket": "/mtgox", "docs": "/docs"}


def _websockets(routes: list[BaseRoute]) -> list[str]:
    return sorted(path for r in routes if "websocket" in type(r).__name__.lower() and (path := getattr(r, "path", "")))


def bitcoinaverage_index(request: Request) -> dict[str, Any]:
    routes = [
        {"path": path, "methods": ["GET"], "summary": route.summary}
        for path, route in sorted(bitcoinaverage.ROUTES.items())
    ]
    return {
        "success": True,
        "api": "BitcoinAverage v2",
        "routes": routes,
        "websockets": _websockets(bitcoinaverage.router.routes),
        "docs": "/docs",
    }


def control_index(request: Request) -> dict[str, Any]:
    """The control routes in the app's OpenAPI document: those this server has, with their summaries."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    routes = [
        {
            "method": verb.upper(),
            "path": path,
            "summary": (operation.get("description") or operation["summary"]).split("\n")[0],
        }
        for path, verbs in paths.items()
        if path.startswith(CONTROL)
        for verb, operation in verbs.items()
    ]
    return {"api": "btc-market-emulator control", "routes": routes, "dashboard": CONTROL + "ui", "docs": "/docs"}


@router.api_route("/code/", methods=["GET", "POST"])  # every MtGox method takes either
def code_index() -> JSON:
    return JSON(mtgox_index("/code/"))


@router.api_route("/api/0/", methods=["GET", "POST"])
def api0_index() -> JSON:
    return JSON(mtgox_index("/api/0/"))


@router.get("/indices/")
def indices_index(request: Request) -> JSON:
    return JSON(bitcoinaverage_index(request))


@router.get(CONTROL)
def control(request: Request) -> JSON:
    return JSON(control_index(request))

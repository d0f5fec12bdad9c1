"""The dashboard: one page at `/` and `/_emulator/ui` showing the market and steering it.

Plain HTML, CSS and JavaScript in `static/` (no build step, no chart library: the charts are drawn on
<canvas>). The page talks to the emulator like any client does: the MtGox websocket for trades, depth
and ticker, the BitcoinAverage REST routes (polled), and the control API. It picks its tenant from a
`/_t/<tenant>/` prefix in its own address (or `?tenant=`) and sends every request with that prefix.

`GET /_emulator/connections` (read-only, behind the control API's token, off with the control API)
counts the open websocket clients: the tenant's, and all of them.
"""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import FileResponse, Response

from emulator.control.auth import require_admin
from emulator.edge.tenancy import tenant_of
from emulator.responses import JSON
from emulator.routing import LoopRoute
from emulator.streaming import Client, Connections

STATIC = Path(__file__).resolve().parent / "static"
MEDIA_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
NO_CACHE = {"Cache-Control": "no-cache"}
DASHBOARD_MARK = "_dashboard=1"  # the page adds it to its own API requests so that its journal view can skip them

router = APIRouter(include_in_schema=False, route_class=LoopRoute)


def _page() -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=NO_CACHE)


@router.get("/")
def root() -> Response:
    return _page()


@router.get("/_emulator/ui")
def dashboard() -> Response:
    return _page()


@router.get("/_emulator/ui/static/{name}")
def static(name: str) -> Response:
    path = STATIC / name
    media_type = MEDIA_TYPES.get(path.suffix)
    if "/" in name or "\\" in name or name.startswith(".") or media_type is None or not path.is_file():
        raise HTTPException(404, "no such dashboard file")
    return FileResponse(path, media_type=media_type, headers=NO_CACHE)


def _client_view(client: Client) -> dict[str, Any]:
    websocket = client.websocket
    peer = websocket.client
    return {
        "path": websocket.scope.get("path", ""),
        "peer": f"{peer.host}:{peer.port}" if peer else None,
        "channels": len(client.channels),
        "queued": len(client.queue),
        "dashboard": DASHBOARD_MARK in websocket.scope.get("query_string", b"").decode("latin-1"),
    }


@router.get("/_emulator/connections", dependencies=[Depends(require_admin)])
def connections(request: Request) -> JSON:
    """This tenant's open websocket clients (path, peer, channels, queued frames): nothing of others'."""
    if not request.app.state.settings.admin:
        return JSON({"error": "the control API is switched off"}, status_code=404)
    connections: Connections = request.app.state.connections
    clients = list(connections.clients)
    tenant = tenant_of(request)
    mine = [c for c in clients if tenant_of(c.websocket) == tenant]
    return JSON(
        {
            "tenant": tenant,
            "count": len(mine),
            "clients": sorted((_client_view(c) for c in mine), key=lambda v: (v["path"], v["peer"] or "")),
        }
    )

"""The request pipeline: the one way a request is served, whether it came through the middleware
stack or the fast lane (emulator.edge.fastlane).

For an emulated API's request (its path is one of emulator.surfaces'), `serve_api` records it in the
world's journal (emulator.edge.journal), applies the world's HTTP fault rules (emulator.faults.http)
and answers an exception no route expected in the API's own style (emulator.edge.boundary), in that
order, around whatever serves the request: the router on the middleware way, the hot endpoint
itself in the fast lane. The two ways cannot differ in any of that, only in how they got there.
A world without fault rules skips the fault layer, which would only pass the request on, and has
its boundary in `serve_api` itself: the polled reads go through as few coroutines as can be.

`Edge` is the middleware way's one middleware: it picks the tenant (`/_t/<tenant>/` or
`X-Emulator-Tenant`), then serves an API request through `serve_api`, guards control requests
(Origin, content type) and adds the page headers (emulator.edge.guards).
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.edge.boundary import guard, guarded, internal_error
from emulator.edge.guards import control_problem, is_control, is_page, refuse, with_page_headers
from emulator.edge.journal import Exchange
from emulator.edge.tenancy import TenantError, find_world, select_tenant
from emulator.faults.http import InjectedReset, gate, quiet_server_log
from emulator.faults.rules import has_http_faults
from emulator.market.world import World
from emulator.surfaces import Surface, surface_of


async def serve_api(world: World, surface: Surface, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Serve a request of `surface`'s API in `world` with `app`: journaled, faulted, guarded."""
    exchange = Exchange(world, surface, scope, receive, send)
    http = scope["type"] == "http"
    try:
        if has_http_faults(world):
            inner = guard(surface, app) if http else app
            await gate(world, surface, scope, exchange.receive, exchange.send, inner)
        elif http:  # no rules: `gate` would only pass the request on, and the boundary is this try
            try:
                await app(scope, exchange.receive, exchange.send)
            except InjectedReset:
                raise
            except Exception:
                if exchange.status is not None:  # half an answer is out: only dropping the connection tells
                    raise
                await internal_error(surface, scope)(scope, receive, exchange.send)
        else:
            await app(scope, exchange.receive, exchange.send)
    except BaseException as exc:
        exchange.failed(exc)
        raise
    exchange.done()


class Edge:
    """Every HTTP and websocket request of the middleware way (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        quiet_server_log()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        scope = select_tenant(scope)
        path: str = scope["path"]
        surface = surface_of(path)
        if surface is not None:
            try:
                world = find_world(scope)
            except TenantError:  # the route meets it again and answers it (create_app's handler)
                world = None
            if world is not None:
                await serve_api(world, surface, scope, receive, send, self.app)
                return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        if is_page(path):  # the dashboard is a page of the control API: both apply
            send = with_page_headers(send)
        if is_control(path):
            problem = control_problem(scope)
            if problem is not None:
                await refuse(scope, receive, send, *problem)
                return
        await guarded(surface, scope, receive, send, self.app)

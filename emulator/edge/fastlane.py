"""The fast lane: the reads clients poll go from uvicorn straight to their endpoint.

Those answers are cached bytes, so what a request costs is the way to them: Starlette's middleware
stack and FastAPI's router and exception layers cost several times the endpoint itself. A GET that
matches a hot route (each surface's `hot` paths), for a tenant named by the header (or none) whose
world exists and has no HTTP fault rules, is served here through the same pipeline as the normal
way (emulator.edge.pipeline.serve_api: journal, fault rules, error boundary) and the same endpoint.
Everything else (a `/_t/` prefix, a tenant's first request, a world with fault rules, other
methods) takes the normal way. Both ways answer the same bytes and journal the same entries
(tests/edge/test_both_ways.py).
"""

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.edge.pipeline import serve_api
from emulator.edge.tenancy import WorldRegistry, enter, tenant_in_headers
from emulator.faults.rules import has_http_faults
from emulator.surfaces import Surface, surface_of

Endpoint = Callable[[Request], Awaitable[Response]]
MATCHED_PATHS = 4096  # distinct hot paths remembered (one per market and symbol in practice)


def as_app(endpoint: Endpoint) -> ASGIApp:
    """An endpoint as an ASGI app, as Starlette's router would call it."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive))
        await response(scope, receive, send)

    return app


class FastLane:
    def __init__(self, routes: Sequence[Route], registry: WorldRegistry | None = None) -> None:
        self.registry = registry  # the app's (app.state.registry, which costs a failed lookup to read)
        self.exact: dict[str, tuple[ASGIApp, Surface]] = {}  # path -> (endpoint, its API)
        self.patterns: list[tuple[Route, ASGIApp, Surface]] = []
        self.matched: dict[str, tuple[ASGIApp, Surface, dict[str, object]]] = {}  # path -> a pattern's match
        for route in routes:
            surface = surface_of(route.path)
            if surface is None or route.path not in surface.hot:
                raise ValueError(f"{route.path} is no hot route of an API's surface")
            if route.param_convertors:
                self.patterns.append((route, as_app(route.endpoint), surface))
            else:
                self.exact[route.path] = (as_app(route.endpoint), surface)

    def match(self, scope: Scope) -> tuple[ASGIApp, Surface] | None:
        """The endpoint of a hot GET and its API (setting its path parameters in the scope), else None."""
        path: str = scope["path"]
        found = self.exact.get(path)
        if found is not None:
            return found
        seen = self.matched.get(path)
        if seen is not None:  # the routes never change, so a path matches as it did before
            scope["path_params"] = dict(seen[2])
            return seen[0], seen[1]
        for route, app, surface in self.patterns:
            match, child = route.matches(scope)
            if match is Match.FULL:
                if len(self.matched) >= MATCHED_PATHS:
                    self.matched.clear()
                self.matched[path] = (app, surface, dict(child["path_params"]))
                scope.update(child)
                return app, surface
        return None

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a hot read and return True, or return False (nothing sent) for the normal way."""
        if scope["method"] != "GET" or self.registry is None:
            return False
        found = self.match(scope)
        if found is None:
            return False
        tenant = tenant_in_headers(scope)
        world = self.registry.existing(tenant)
        if world is None or has_http_faults(world):
            return False
        endpoint, surface = found
        scope["app"] = app
        enter(scope, tenant, world)
        await serve_api(world, surface, scope, receive, send, endpoint)
        return True

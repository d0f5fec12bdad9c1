"""The fast lane: the reads clients poll go from uvicorn straight to their endpoint.

Those answers are cached bytes, so what a request costs is the way to them: Starlette's middleware
stack, the tenancy, journal and fault middlewares, FastAPI's router and its exception layers cost
several times the endpoint itself. A GET that matches a hot route, for a tenant named by the header
(or none) whose world exists and has no HTTP fault rules, is served here: the app does what those
layers would (tenant, journal entry, the API's own error on a failure) and calls the same endpoint.
Everything else (a `/_t/` prefix, a tenant's first request, a world with fault rules, other
methods) takes the normal way. Both ways answer the same bytes (tests/apis/test_hot_routes.py).
"""

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.control.faults import api_of, error_response
from emulator.control.journal import note
from emulator.market.faults import has_http_faults
from emulator.tenancy import WorldRegistry, tenant_in_headers

log = logging.getLogger("emulator")

Endpoint = Callable[[Request], Awaitable[Response]]
MATCHED_PATHS = 4096  # distinct hot paths remembered (one per market and symbol in practice)


class FastLane:
    def __init__(self, routes: Sequence[Route], registry: WorldRegistry | None = None) -> None:
        self.registry = registry  # the app's (app.state.registry, which costs a failed lookup to read)
        self.exact: dict[str, tuple[Endpoint, str]] = {}  # path -> (endpoint, its API)
        self.patterns: list[Route] = []
        self.matched: dict[str, tuple[Endpoint, str, dict[str, object]]] = {}  # path -> a pattern's match
        for route in routes:
            if route.param_convertors:
                self.patterns.append(route)
            else:
                self.exact[route.path] = (route.endpoint, api_of(route.path) or "mtgox")

    def match(self, scope: Scope) -> tuple[Endpoint, str] | None:
        """The endpoint of a hot GET and its API (setting its path parameters in the scope), else None."""
        path: str = scope["path"]
        found = self.exact.get(path)
        if found is not None:
            return found
        seen = self.matched.get(path)
        if seen is not None:  # the routes never change, so a path matches as it did before
            scope["path_params"] = dict(seen[2])
            return seen[0], seen[1]
        for route in self.patterns:
            match, child = route.matches(scope)
            if match is Match.FULL:
                if len(self.matched) >= MATCHED_PATHS:
                    self.matched.clear()
                api = api_of(route.path) or "mtgox"
                self.matched[path] = (route.endpoint, api, dict(child["path_params"]))
                scope.update(child)
                return route.endpoint, api
        return None

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a hot read and return True, or return False (nothing sent) for the normal way."""
        if scope["method"] != "GET":
            return False
        found = self.match(scope)
        if found is None:
            return False
        if self.registry is None:
            return False
        tenant = tenant_in_headers(scope)
        world = self.registry.worlds.get(tenant)
        if world is None:
            return False
        self.registry.used[tenant] = time.monotonic()  # as registry.get would: the tenant is not idle
        if has_http_faults(world):
            return False
        endpoint, api = found
        scope["app"] = app
        state = scope.setdefault("state", {})
        state["tenant"] = tenant
        state["world"] = world  # found already: tenancy.world_of takes it from here
        started, wall, market = time.perf_counter(), time.time(), world.clock.now()
        try:
            response = await endpoint(Request(scope, receive))
        except Exception:  # a bug must still answer in the API's own style, never with a traceback
            log.exception("hot read failed")
            response = error_response(api, 500, "Internal Server Error")
        await response(scope, receive, send)
        note(world, scope, api, response.status_code, market, wall, started)
        return True

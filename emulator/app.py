"""create_app(settings) composes the emulator: worlds per tenant, the APIs, the control plane."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from emulator import __version__, openapi, statefile
from emulator.apis.bitcoinaverage import routes as bitcoinaverage
from emulator.apis.mtgox import routes as mtgox
from emulator.control import routes as control
from emulator.control import state_routes, tape_routes
from emulator.dashboard import router as dashboard
from emulator.docs import router as docs
from emulator.edge import journal_routes
from emulator.edge.fastlane import FastLane
from emulator.edge.guards import host_problem, refuse
from emulator.edge.pipeline import Edge
from emulator.edge.tenancy import TenantError, TooManyTenants, WorldRegistry, tenant_of
from emulator.faults import routes as fault_routes
from emulator.indexes import router as indexes
from emulator.market.tape import TapeSource, scenario_tape
from emulator.market.tape import check as check_tape
from emulator.market.world import World, parse_instant
from emulator.openapi_examples import Examples
from emulator.responses import JSON
from emulator.settings import Settings
from emulator.streaming import Connections
from emulator.surfaces import registered


class EmulatorApp(FastAPI):
    """FastAPI with a fast lane in front for the polled reads (see emulator.edge.fastlane)."""

    fast_lane = FastLane(())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = host_problem(scope)  # before the fast lane too: DNS rebinding (emulator.edge.guards)
            if problem is not None:
                await refuse(scope, receive, send, 421, problem)
                return
            if scope["type"] == "http" and await self.fast_lane.serve(self, scope, receive, send):
                return
        await super().__call__(scope, receive, send)


class WorldFactory:
    """Builds a tenant's world from the settings (seed, start, clock mode and speed)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, tenant: str) -> World:
        s = self.settings
        start = parse_instant(s.start) if s.start else None
        story = None
        if s.scenario:
            from emulator.market.scenario import load  # only when a scenario is used: start-up

            story = load(s.scenario, [s.scenarios_dir] if s.scenarios_dir else [])
        tape = TapeSource.file(s.tape, s.tape_skip_bad) if s.tape else None
        return World(seed=s.seed, start=start, mode=s.clock, speed=s.speed, flow=s.flow, scenario=story, tape=tape)


async def _keep_worlds_moving(registry: WorldRegistry, connections: Connections, every: float) -> None:
    """Realtime worlds play their timers (order flow, scenario steps) as their clocks move; about
    once a second, tenants idle for longer than EMULATOR_TENANT_TTL are dropped."""
    loop_time = asyncio.get_running_loop().time
    next_sweep = loop_time() + 1.0
    while True:
        await asyncio.sleep(every)
        for world in list(registry.worlds.values()):
            if world.clock.mode == "realtime":
                await world.play()
        if loop_time() >= next_sweep:
            next_sweep = loop_time() + 1.0
            registry.drop_idle(tenant_of(client.websocket) for client in list(connections.clients))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    story = None
    if settings.scenario:
        from emulator.market.scenario import load

        story = load(settings.scenario, [settings.scenarios_dir] if settings.scenarios_dir else [])  # fail at start-up
    tape = TapeSource.file(settings.tape, settings.tape_skip_bad) if settings.tape else None
    if tape is None and story is not None:
        tape = scenario_tape(story, story.folder)
    if tape is not None:  # a malformed line near the start stops the start: TapeError, FILE:LINE: ...
        start = settings.start or (story.start if story is not None else None)
        check_tape(tape, parse_instant(start) if start else None)
    registry = WorldRegistry(WorldFactory(settings), settings.max_tenants, settings.tenant_ttl)
    connections = Connections()
    if settings.state:  # every saved world, or a StateFileError before anything is served
        registry.adopt(statefile.load(Path(settings.state), registry.factory))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry.get("default")
        mover = asyncio.create_task(_keep_worlds_moving(registry, connections, settings.tick_seconds))
        try:
            yield
        finally:
            mover.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await mover
            try:
                if settings.state:  # a graceful shutdown keeps the worlds for the next start
                    statefile.save(Path(settings.state), registry.worlds)
            finally:
                registry.close()  # their files; an app started again opens them again where they were

    app = EmulatorApp(
        title="btc-market-emulator",
        version=__version__,
        description="MtGox (2011) and BitcoinAverage v2 APIs over one simulated, deterministic market.",
        lifespan=lifespan,
        default_response_class=JSON,
        docs_url=None,  # emulator.docs serves /docs and /redoc from installed bundles, not a CDN,
        redoc_url=None,
        openapi_url=None,  # and /openapi.json with examples from real answers (emulator.openapi_examples)
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.connections = connections
    app.add_middleware(Edge)  # tenant, journal, faults, error boundary, control guard, page headers

    @app.exception_handler(TenantError)
    async def tenant_error(request: Request, exc: TenantError) -> JSON:
        return JSON({"error": str(exc)}, status_code=429 if isinstance(exc, TooManyTenants) else 400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSON:
        return JSON({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSON:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSON({"error": "invalid request", "details": problems}, status_code=422)

    app.include_router(indexes)  # before the APIs, whose catch-all routes would answer these URLs 404
    app.include_router(control.router)
    app.include_router(mtgox.router)
    app.include_router(bitcoinaverage.router)
    app.include_router(dashboard)
    app.include_router(docs)
    if settings.admin:
        app.include_router(control.guarded)
        app.include_router(fault_routes.router)
        app.include_router(journal_routes.router)
        app.include_router(state_routes.router)
        app.include_router(tape_routes.router)
    app.fast_lane = FastLane([*mtgox.hot_routes(), *bitcoinaverage.hot_routes()], registry)
    parts = [surface.openapi for surface in registered()]  # each given by the API's routes module
    openapi.install(app, parts)  # /openapi.json: FastAPI's document and the APIs' parts
    app.state.openapi_examples = Examples(parts)  # added on the first request for it
    return app

"""Which world a request talks to: the one place that maps a request to its tenant.

A path prefix `/_t/<tenant>/` (for clients whose base URL is all they let you change, websockets
included) or an `X-Emulator-Tenant` header picks the tenant; neither means `default`.
"""

import re
from collections.abc import Callable

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.market.world import World

DEFAULT = "default"
TENANT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PREFIX = re.compile(r"^/_t/([^/]*)(/.*)?$")
HEADER = b"x-emulator-tenant"


class TenantError(Exception):
    pass


class TooManyTenants(TenantError):
    pass


class WorldRegistry:
    """One world per tenant, made on first use, at most `limit` of them."""

    def __init__(self, factory: Callable[[str], World], limit: int) -> None:
        self.factory = factory
        self.limit = limit
        self.worlds: dict[str, World] = {}

    def get(self, tenant: str) -> World:
        world = self.worlds.get(tenant)
        if world is None:
            if not TENANT_NAME.match(tenant):
                raise TenantError(f"invalid tenant name {tenant!r}: use 1-64 letters, digits, '.', '_' or '-'")
            if len(self.worlds) >= self.limit:
                raise TooManyTenants(f"tenant limit of {self.limit} reached; delete one or raise EMULATOR_MAX_TENANTS")
            world = self.worlds[tenant] = self.factory(tenant)
            world.tenant = tenant
        return world


def tenant_in_headers(scope: Scope) -> str:
    """The tenant the `X-Emulator-Tenant` header names (the last one wins), else `default`."""
    tenant = DEFAULT
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            tenant = value.decode("latin-1")
    return tenant


class TenantMiddleware:
    """Strips `/_t/<tenant>` from the path and records the tenant in the scope's state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            tenant = tenant_in_headers(scope)
            match = PREFIX.match(scope["path"])
            if match:
                tenant = match.group(1)
                path = match.group(2) or "/"
                scope = dict(scope, path=path, raw_path=path.encode())
            scope.setdefault("state", {})["tenant"] = tenant
        await self.app(scope, receive, send)


def tenant_of(connection: HTTPConnection) -> str:
    tenant: str = connection.scope.get("state", {}).get("tenant", DEFAULT)
    return tenant


def world_of(connection: HTTPConnection) -> World:
    """The request's world, synced to its clock: what every route starts from (the fast lane,
    emulator.fastlane, leaves the world it found in the scope's state)."""
    world: World | None = connection.scope.get("state", {}).get("world")
    if world is None:
        registry: WorldRegistry = connection.app.state.registry
        world = registry.get(tenant_of(connection))
    world.sync()
    return world

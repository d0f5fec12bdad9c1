"""Which world a request talks to: the one place that maps a request to its tenant.

A path prefix `/_t/<tenant>/` (for clients whose base URL is all they let you change, websockets
included) or an `X-Emulator-Tenant` header picks the tenant; neither means `default`.
"""

import re
import time
from collections.abc import Callable, Iterable

from starlette.requests import HTTPConnection
from starlette.types import Scope

from emulator.market.world import World

DEFAULT = "default"
TENANT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PREFIX = re.compile(r"^/_t/([^/]*)(/.*)?$")
HEADER = b"x-emulator-tenant"


class TenantError(Exception):
    pass


class TooManyTenants(TenantError):
    pass


DELETE_HINT = (
    "delete one with DELETE /_emulator/tenant (under /_t/<tenant>/ or with X-Emulator-Tenant), "
    "let idle ones expire (EMULATOR_TENANT_TTL) or raise EMULATOR_MAX_TENANTS"
)


class WorldRegistry:
    """One world per tenant, made on first use, at most `limit` of them.

    A tenant nobody has used for `ttl` seconds of wall-clock time (no request, no open websocket)
    is dropped by `drop_idle`, its memory freed; `default` stays. A world is cheap until its first
    market read (its day of history is made then): well under 2 MB."""

    def __init__(self, factory: Callable[[str], World], limit: int, ttl: float = 600.0) -> None:
        self.factory = factory
        self.limit = limit
        self.ttl = ttl
        self.worlds: dict[str, World] = {}
        self.created: dict[str, float] = {}  # unix seconds
        self.used: dict[str, float] = {}  # time.monotonic() of the last request

    def get(self, tenant: str) -> World:
        world = self.worlds.get(tenant)
        if world is None:
            if not TENANT_NAME.match(tenant):
                raise TenantError(f"invalid tenant name {tenant[:64]!r}: use 1-64 letters, digits, '.', '_' or '-'")
            if len(self.worlds) >= self.limit:
                raise TooManyTenants(f"tenant limit of {self.limit} reached; {DELETE_HINT}")
            world = self.worlds[tenant] = self.factory(tenant)
            world.tenant = tenant
            self.created[tenant] = time.time()
        self.used[tenant] = time.monotonic()
        return world

    def existing(self, tenant: str) -> World | None:
        """The tenant's world if it has one (none is made), marked as used."""
        world = self.worlds.get(tenant)
        if world is not None:
            self.used[tenant] = time.monotonic()
        return world

    def adopt(self, worlds: dict[str, World]) -> None:
        """Take in worlds made elsewhere (a state file's), named and timed as if made here."""
        for tenant, world in worlds.items():
            world.tenant = tenant  # what its sessions are bound to
            self.worlds[tenant] = world
            self.created[tenant] = time.time()
            self.used[tenant] = time.monotonic()

    def drop(self, tenant: str) -> bool:
        """Forget a tenant's world, closing its websockets and its tape's file; False when there was none.

        Closing is safe though a request or a socket may still hold the world for a moment (the
        tenant's next request gets a new one): a closed world works as before (World.close). Reset
        and restore change a world in place (the same object, the same bus for its sockets) and
        close the tape they replace themselves."""
        world = self.worlds.pop(tenant, None)
        self.created.pop(tenant, None)
        self.used.pop(tenant, None)
        if world is None:
            return False
        world.bus.publish("disconnect", "all")  # every feed of the world closes its sockets
        world.close()
        return True

    def close(self) -> None:
        """Close every world (their tapes' files), keeping them: at shutdown, after they are saved."""
        for world in self.worlds.values():
            world.close()

    def drop_idle(self, busy: Iterable[str] = ()) -> list[str]:
        """Drop the tenants idle for longer than the ttl (but `default` and those in `busy`)."""
        keep = {DEFAULT, *busy}
        cutoff = time.monotonic() - self.ttl
        idle = [t for t, used in self.used.items() if used < cutoff and t not in keep]
        for tenant in idle:
            self.drop(tenant)
        return idle

    def describe(self) -> list[dict[str, object]]:
        now = time.monotonic()
        return [
            {
                "name": name,
                "created": self.created.get(name),
                "last_used": round(time.time() - (now - self.used.get(name, now)), 3),
                "memory_estimate": memory_estimate(world),
            }
            for name, world in sorted(self.worlds.items())
        ]


def memory_estimate(world: World) -> int:
    """Bytes a world holds, roughly (its trades, orders and journal, measured with tracemalloc):
    for telling a heavy tenant from a light one, not an exact count."""
    trades = len(world.trades_if_made())
    journal = world.attachments.get("journal")
    entries = len(getattr(journal, "entries", ()))
    return 600_000 + 230 * trades + 400 * len(world.engine.orders) + 350 * entries


def tenant_in_headers(scope: Scope) -> str:
    """The tenant the `X-Emulator-Tenant` header names (the last one wins), else `default`."""
    tenant = DEFAULT
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            tenant = value.decode("latin-1")
    return tenant


def select_tenant(scope: Scope) -> Scope:
    """The scope with its tenant in its state, and the `/_t/<tenant>` prefix stripped from its path."""
    tenant = tenant_in_headers(scope)
    match = PREFIX.match(scope["path"])
    if match:
        tenant = match.group(1)
        path = match.group(2) or "/"
        scope = dict(scope, path=path, raw_path=path.encode())
    scope.setdefault("state", {})["tenant"] = tenant
    return scope


def enter(scope: Scope, tenant: str, world: World) -> None:
    """Note the request's tenant and world in its scope: `world_of` takes the world from there."""
    state = scope.setdefault("state", {})
    state["tenant"] = tenant
    state["world"] = world


def find_world(scope: Scope) -> World:
    """The scope's world: the one found for it already, else its tenant's (made on first use, noted
    in the scope); TenantError for a tenant the registry refuses."""
    state = scope.setdefault("state", {})
    world: World | None = state.get("world")
    if world is None:
        registry: WorldRegistry = scope["app"].state.registry
        world = state["world"] = registry.get(state.get("tenant", DEFAULT))
    return world


def tenant_of(connection: HTTPConnection) -> str:
    tenant: str = connection.scope.get("state", {}).get("tenant", DEFAULT)
    return tenant


def world_of(connection: HTTPConnection) -> World:
    """The request's world, synced to its clock: what every route starts from."""
    world = find_world(connection.scope)
    world.sync()
    return world

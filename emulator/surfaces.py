"""What each emulated API is, as the edge of the app sees it: registered by the API itself.

Each API package declares its `Surface` in its own `surface.py`; tenancy, the journal, the fault
effects, the error boundary and the fast lane (emulator.edge) read this registry and keep no copy
of an API's paths, error body or credentials. A surface registers under one of the names of
emulator.api_names, and `registered()` insists that every name has one.

An API's OpenAPI part is given later than its surface, by the API's routes module (`describe`):
the part reads the routes (the METHODS table, the documented GET routes) and the routes read the
surface (prefixes, error), so the part cannot be known when the surface is made. The app reads the
parts from here (`Surface.openapi`) when it is built, after every routes module is imported.
"""

from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import Scope

from emulator.api_names import API_NAMES
from emulator.market.world import World
from emulator.openapi import ApiPart

ErrorBuilder = Callable[[int, str, dict[str, str] | None], Response]  # (status, message, headers) -> answer
Identify = Callable[[Scope, World, bytes], tuple[str | None, str | None]]  # -> (auth kind, identity)


@dataclass(frozen=True, slots=True)
class Surface:
    name: str
    # A prefix ending in "/" starts the API's paths; one without is a whole first segment: "/indices"
    # is `/indices` and `/indices/...`, never `/indicesX`.
    prefixes: tuple[str, ...]
    error: ErrorBuilder  # the API's own error answer
    internal_error: tuple[int, str]  # what an exception no route expected answers: (status, message)
    rate_limit: tuple[int, str]  # a rate-limit storm's default status and message ({wait}: seconds left)
    identify: Identify  # who a request says it is, for the journal (read, never verified)
    paths: tuple[str, ...] = ()  # exact paths of its own (MtGox's websocket)
    hot: tuple[str, ...] = ()  # route paths of the polled reads the fast lane serves

    def owns(self, path: str) -> bool:
        if path in self.paths:
            return True
        for prefix in self.prefixes:
            if path.startswith(prefix) and (prefix[-1] == "/" or len(path) == len(prefix) or path[len(prefix)] == "/"):
                return True
        return False

    @property
    def openapi(self) -> ApiPart:
        """Its part of /openapi.json, as its routes module described it (see `describe`)."""
        part = PARTS.get(self.name)
        if part is None:
            raise LookupError(f"the {self.name} API's routes gave no OpenAPI part: is its routes module imported?")
        return part


SURFACES: dict[str, Surface] = {}
PARTS: dict[str, ApiPart] = {}  # API name -> its OpenAPI part, given by its routes module


def register(surface: Surface) -> Surface:
    if surface.name not in API_NAMES:
        raise ValueError(f"a surface named {surface.name!r}: the APIs are {', '.join(API_NAMES)} (emulator.api_names)")
    SURFACES[surface.name] = surface
    return surface


def describe(surface: Surface, part: ApiPart) -> ApiPart:
    """Give a registered surface its OpenAPI part (late: see the module's docstring)."""
    if SURFACES.get(surface.name) is not surface:
        raise ValueError(f"the {surface.name} surface is not the registered one")
    PARTS[surface.name] = part
    return part


def registered() -> tuple[Surface, ...]:
    """Every API's surface, in the order of emulator.api_names; an API without one is an error."""
    missing = [name for name in API_NAMES if name not in SURFACES]
    if missing:
        raise LookupError(f"no surface registered for {', '.join(missing)}: is its package imported?")
    return tuple(SURFACES[name] for name in API_NAMES)


def surface_of(path: str) -> Surface | None:
    """The API a path (tenant prefix stripped) belongs to, or None (control routes, docs, unknown)."""
    for surface in SURFACES.values():
        if surface.owns(path):
            return surface
    return None

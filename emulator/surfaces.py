"""What each emulated API is, as the edge of the app sees it: registered by the API itself.

Each API package declares its `Surface` in its own `surface.py`; tenancy, the journal, the fault
effects, the error boundary and the fast lane (emulator.edge) read this registry and keep no copy
of an API's paths, error body or credentials.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from emulator.market.world import World

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
    openapi: Callable[[], dict[str, Any]] | None = None  # its part of /openapi.json, when it gives one

    def owns(self, path: str) -> bool:
        if path in self.paths:
            return True
        for prefix in self.prefixes:
            if path.startswith(prefix) and (prefix[-1] == "/" or len(path) == len(prefix) or path[len(prefix)] == "/"):
                return True
        return False


SURFACES: dict[str, Surface] = {}


def register(surface: Surface) -> Surface:
    SURFACES[surface.name] = surface
    return surface


def surface_of(path: str) -> Surface | None:
    """The API a path (tenant prefix stripped) belongs to, or None (control routes, docs, unknown)."""
    for surface in SURFACES.values():
        if surface.owns(path):
            return surface
    return None

"""The pipeline every BitcoinAverage REST route runs (spec §2): find the caller's world, read the
query string, authenticate (401), admit by rate limit (429) and plan (403), then the route's own
body, whose ApiError (400, 404, ...) is answered in the API's error style like the others."""

from collections.abc import Callable
from typing import Any

from fastapi import Request
from starlette.responses import Response

from emulator.apis.bitcoinaverage.auth import ApiError, Caller, admit, authenticate, credentials
from emulator.apis.bitcoinaverage.catalog import Catalog
from emulator.apis.bitcoinaverage.models import AverageModel, get_model
from emulator.apis.bitcoinaverage.params import parse_query
from emulator.apis.bitcoinaverage.surface import error
from emulator.apis.bitcoinaverage.view import View
from emulator.edge.tenancy import world_of
from emulator.market.clock import MICROS
from emulator.market.world import World
from emulator.responses import JSON


class Context:
    """What a route's body works with: the request, its world and model, its query and its caller."""

    def __init__(self, request: Request, world: World, model: AverageModel, params: dict[str, str]) -> None:
        self.request = request
        self.world = world
        self.model = model
        self.params = params
        self.caller: Caller | None = None
        self._view: View | None = None

    @property
    def catalog(self) -> Catalog:
        return self.model.catalog_for(self.world)

    @property
    def view(self) -> View:
        if self._view is None:
            self._view = self.model.view(self.world)
        return self._view

    @property
    def now(self) -> int:
        return self.world.now // MICROS


def serve(
    request: Request, endpoint: str | Callable[[dict[str, str]], str], body: Callable[[Context], Any]
) -> Response:
    """Authenticate, admit (rate limit, plan) for `endpoint` (plans.json's name of the route, or a
    function of the query that gives it), then run the route's body; ApiError -> the API's error."""
    try:
        world = world_of(request)
        model = get_model(world)
        scope = request.scope
        query = scope.get("query_string", b"")
        ctx = Context(request, world, model, parse_query(query) if query else {})
        peer = scope.get("client")
        ctx.caller = authenticate(*credentials(scope["headers"]), peer[0] if peer else "unknown", world, model)
        admit(ctx.caller, endpoint if isinstance(endpoint, str) else endpoint(ctx.params), world, model)
        result = body(ctx)
    except ApiError as exc:
        return error(exc.status, exc.message, exc.headers)
    return result if isinstance(result, Response) else JSON(result)

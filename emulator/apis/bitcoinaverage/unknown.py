"""Unknown BitcoinAverage routes: a catch-all per prefix answers the API's 404 body, or a 405 with
`Allow` when the path is known but asked with another method. There is no app-wide 404 handler:
the MtGox API answers unknown methods its own way."""

from fastapi import APIRouter, Request
from starlette.routing import Route

from emulator.apis.bitcoinaverage.surface import error
from emulator.responses import JSON

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def add_unknown_routes(router: APIRouter, prefixes: tuple[str, ...]) -> None:
    """The catch-alls, after every route of `router` (which they are matched after)."""

    async def not_found(request: Request) -> JSON:
        allowed = sorted(
            {
                method
                for route in router.routes
                if isinstance(route, Route)
                and route.endpoint is not not_found
                and route.path_regex.match(request.url.path)
                for method in route.methods or ()
            }
        )
        if allowed:
            return error(405, "Method not allowed", headers={"Allow": ", ".join(allowed)})
        return error(404, "Not found")

    for prefix in prefixes:
        for path in (f"/{prefix}", f"/{prefix}/{{rest:path}}"):
            router.add_route(path, not_found, methods=METHODS, include_in_schema=False)

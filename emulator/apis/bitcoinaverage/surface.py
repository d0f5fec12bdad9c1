"""The BitcoinAverage API as the edge of the app sees it (emulator.surfaces): its paths, its error
answer, who a request says it is, and the read clients poll."""

from starlette.types import Scope

from emulator.apis.bitcoinaverage.auth import public_key_of
from emulator.edge.boundary import INTERNAL
from emulator.market.world import World
from emulator.responses import JSON
from emulator.surfaces import Surface, register

PREFIXES = ("constants", "indices", "exchanges", "weighting", "convert", "blockchain", "websocket")  # first segments
RATE_LIMITED = "Rate limit exceeded: retry in {wait} seconds"
HOT_TICKER = "/indices/{market}/ticker/{symbol}"  # upper-case symbols only (routes.hot_routes narrows its match)
CREDENTIAL_HEADERS = frozenset((b"x-signature", b"x-ba-key"))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSON:
    """BitcoinAverage's error: `{"success": false, "error": "..."}` with the status."""
    return JSON({"success": False, "error": message}, status_code=status, headers=headers)


def identify(scope: Scope, world: World, body: bytes) -> tuple[str | None, str | None]:
    """The public key of `X-Signature` (as sent, not checked), else the `x-ba-key` header's."""
    headers = {name: value.decode("latin-1") for name, value in scope.get("headers", ()) if name in CREDENTIAL_HEADERS}
    signed = headers.get(b"x-signature")
    if signed:
        return "x-signature", public_key_of(signed)
    key = headers.get(b"x-ba-key")
    return ("x-ba-key", key.strip()) if key else (None, None)


SURFACE = register(
    Surface(
        name="bitcoinaverage",
        prefixes=tuple(f"/{segment}" for segment in PREFIXES),
        error=error,
        internal_error=(500, INTERNAL),  # the emulator's own words, as for the control API
        rate_limit=(429, RATE_LIMITED),
        identify=identify,
        hot=(HOT_TICKER,),
    )
)

"""The MtGox API as the edge of the app sees it (emulator.surfaces): its paths, its error answer,
who a request says it is, and the reads clients poll."""

from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from starlette.types import Scope

from emulator.apis.mtgox.models import MtGoxModel
from emulator.market.world import World
from emulator.responses import JSON
from emulator.surfaces import Surface, register

PREFIXES = ("/code/", "/api/0/")
WEBSOCKET = "/mtgox"
SESSION_COOKIE = "mtgox_session"
INTERNAL_ERROR = "Internal error, please retry later."
RATE_LIMITED = "Too many requests, please retry later."
HOT = ("data/ticker.php", "data/getDepth.php", "data/getTrades.php")  # under each prefix
HOT_PATHS = (*(prefix + name for prefix in PREFIXES for name in HOT), "/code/ticker.php")  # and the old alias
CREDENTIAL_HEADERS = frozenset((b"rest-key", b"content-type", b"cookie"))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSON:
    """MtGox's error: `{"error": "..."}` (HTTP 200 for its own errors, whatever the status given)."""
    return JSON({"error": message}, status_code=status, headers=headers)


def identify(scope: Scope, world: World, body: bytes) -> tuple[str | None, str | None]:
    """`Rest-Key` (the key's user when the key is known, else the key), `name` from the query or an
    urlencoded body, or the login cookie's session (its user, when the session is good)."""
    headers = {name: value.decode("latin-1") for name, value in scope.get("headers", ()) if name in CREDENTIAL_HEADERS}
    key = headers.get(b"rest-key")
    if key:
        record = world.directory.mtgox_keys.get(key.strip())
        return "rest-key", record.user if record is not None else key.strip()
    query: bytes = scope.get("query_string", b"")
    params = dict(parse_qsl(query.decode("latin-1"))) if b"name" in query else {}
    if body and headers.get(b"content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode("utf-8", "replace")))
    if params.get("name"):
        return "name", params["name"]
    cookie = headers.get(b"cookie")
    if cookie and SESSION_COOKIE in cookie:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie)
        except Exception:
            return "cookie", None
        token = jar[SESSION_COOKIE].value if SESSION_COOKIE in jar else None
        model = world.models.get("mtgox")  # not made here: a world without it has no sessions
        return "cookie", model.session_user(token) if isinstance(model, MtGoxModel) and token else None
    return None, None


SURFACE = register(
    Surface(
        name="mtgox",
        prefixes=PREFIXES,
        paths=(WEBSOCKET,),
        error=error,
        internal_error=(200, INTERNAL_ERROR),
        rate_limit=(200, RATE_LIMITED),
        identify=identify,
        hot=HOT_PATHS,
    )
)

"""Who is calling: Rest-Key/Rest-Sign headers, `name`/`pass` fields, or the login session cookie.

Rest-Sign is base64(HMAC-SHA512(base64decode(secret), raw body)); the body's `nonce` must grow with
every call on a key. A failed check changes nothing, the nonce included. The signature covers the body
alone, so a Rest-Key request with a query string is refused (MtGox's clients sent everything in the
POST body): otherwise a signed empty body would carry any order in its URL, and a signed body without
a nonce could be replayed with fresh `?nonce=` values.
"""

import base64
import binascii
import hashlib
import hmac

from starlette.requests import HTTPConnection

from emulator.apis.mtgox.models import MtGoxModel
from emulator.apis.mtgox.params import BadRequest
from emulator.apis.mtgox.surface import SESSION_COOKIE
from emulator.engine.units import is_digits
from emulator.market.world import World

NOT_LOGGED_IN = "Not logged in."
SIGNED_QUERY = "Invalid request: with Rest-Key, send every parameter and the nonce in the signed body, not the URL."


def check_password(world: World, name: str | None, password: str | None) -> str | None:
    user = world.directory.user(name or "")
    if user is None or password is None or not hmac.compare_digest(user.password.encode(), password.encode()):
        return None
    return user.name


def authenticate(
    connection: HTTPConnection, world: World, model: MtGoxModel, params: dict[str, str], body: bytes
) -> str:
    """The user name the request acts for, or BadRequest with MtGox's message."""
    key = connection.headers.get("rest-key")
    if key is not None:
        if connection.scope.get("query_string"):  # Rest-Sign covers the body only: nothing else may act
            raise BadRequest(SIGNED_QUERY)
        return _check_signature(world, key, connection.headers.get("rest-sign", ""), params, body)
    if "name" in params:
        user = check_password(world, params.get("name"), params.get("pass"))
        if user is None:
            raise BadRequest(NOT_LOGGED_IN)
        return user
    user = model.session_user(connection.cookies.get(SESSION_COOKIE))
    if user is None:
        raise BadRequest(NOT_LOGGED_IN)
    return user


def _check_signature(world: World, key: str, sign: str, params: dict[str, str], body: bytes) -> str:
    record = world.directory.mtgox_keys.get(key)
    if record is None:
        raise BadRequest("Unknown API key.")
    try:
        secret = base64.b64decode(record.secret)
        sent = base64.b64decode(sign, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("Invalid signature: Rest-Sign must be base64.") from exc
    expected = hmac.new(secret, body, hashlib.sha512).digest()
    if not hmac.compare_digest(sent, expected):
        raise BadRequest("Invalid signature.")
    nonce_text = params.get("nonce", "")
    if not is_digits(nonce_text, 30):
        raise BadRequest("Invalid nonce: send an integer nonce in the body.")
    nonce = int(nonce_text)
    if nonce <= record.last_nonce:
        raise BadRequest(f"Invalid nonce: must be greater than {record.last_nonce}.")
    record.last_nonce = nonce
    return record.user

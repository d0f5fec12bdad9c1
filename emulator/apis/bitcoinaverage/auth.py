"""Who is calling, what their plan lets them do, and how often (spec §2).

- `X-Signature: <timestamp>.<public_key>.<hex digest>` (header names are case-insensitive), split at
  the first and the last dot; digest = HMAC-SHA256(secret_key, "<timestamp>.<public_key>"), compared
  in constant time, hex case-insensitive. The timestamp must be integer seconds within
  `signature_window_seconds` (15) of the wall clock or of the world's clock. The `Authentication`
  header some clients add is never looked at.
- `x-ba-key: <public_key>` identifies a key without a signature while the model's `key_header`
  setting (plans.json) is on; when it is off such a request gets 401.
- No key: the `anonymous` plan, rate-limited per client address.
- Checks run in this order: 401 (bad signature or key), 429 (rate limit, counting only allowed
  requests), 403 (plan below the endpoint's level), then the route's own 400/404. An anonymous
  caller below an endpoint's level also gets 403 with the spec's message.
"""

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from emulator.apis.bitcoinaverage.models import AverageModel
from emulator.market.clock import MICROS

if TYPE_CHECKING:
    from emulator.market.world import World

TIMESTAMP = re.compile(r"[0-9]{1,20}")
HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
DECIMAL_PREFIX = re.compile(r"[0-9]+\.")
FORBIDDEN = "Forbidden -- Higher level API Keys required"


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Caller(NamedTuple):
    plan: str
    public_key: str | None
    identity: str  # what rate limits count against


def signature(secret_key: str, timestamp: str, public_key: str) -> str:
    payload = f"{timestamp}.{public_key}".encode()
    return hmac.new(secret_key.encode(), payload, hashlib.sha256).hexdigest()


def credentials(raw_headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """The first X-Signature and x-ba-key header values, from an ASGI scope's (lower-case) headers."""
    signed = key = None
    for name, value in raw_headers:
        if name == b"x-signature":
            if signed is None:
                signed = value.decode("latin-1")
        elif name == b"x-ba-key" and key is None:
            key = value.decode("latin-1")
    return signed, key


def split_signature(signed: str) -> tuple[str, str, str] | None:
    """`<timestamp>.<public_key>.<digest>` in its three parts (split at the first and the last dot),
    or None when it has not two dots with something before the first."""
    first, last = signed.find("."), signed.rfind(".")
    if first <= 0 or last == first:
        return None
    return signed[:first], signed[first + 1 : last], signed[last + 1 :]


def public_key_of(signed: str) -> str | None:
    """The public key an X-Signature names (not checked)."""
    parts = split_signature(signed)
    return parts[1] if parts is not None else None


def authenticate(signed: str | None, public: str | None, client: str, world: "World", model: AverageModel) -> Caller:
    """The caller of a request with these `credentials`, from `client` (its address)."""
    keys = world.directory.average_keys
    if signed is not None:
        parts = split_signature(signed.strip())
        if parts is None:
            raise ApiError(401, "Invalid X-Signature header: expected <timestamp>.<public_key>.<digest>")
        stamp, public_key, digest = parts
        if not TIMESTAMP.fullmatch(stamp):
            raise ApiError(401, "Invalid timestamp in X-Signature: expected unix seconds")
        key = keys.get(public_key)
        if key is None:
            if DECIMAL_PREFIX.match(public_key) and public_key.split(".", 1)[1] in keys:
                raise ApiError(401, "Timestamp in X-Signature must be an integer: strip the decimal part")
            raise ApiError(401, "Unknown public key")
        expected = signature(key.secret_key, stamp, public_key)
        given = digest.lower() if HEX_DIGEST.fullmatch(digest) else ""
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise ApiError(401, "Invalid signature")
        seconds = int(stamp)
        window = model.catalog.plans.signature_window_seconds * MICROS
        moment = seconds * MICROS
        if abs(moment - world.wall()) > window and abs(moment - world.now) > window:
            raise ApiError(401, "Timestamp in X-Signature is more than 15 seconds from the server's time")
        return Caller(key.plan, public_key, f"key:{public_key}")
    if public is not None:
        if not model.key_header:
            raise ApiError(401, "Signed requests required: send an X-Signature header")
        key = keys.get(public.strip())
        if key is None:
            raise ApiError(401, "Unknown public key")
        return Caller(key.plan, key.public_key, f"key:{key.public_key}")
    return Caller("anonymous", None, f"address:{client}")


def admit(caller: Caller, endpoint: str, world: "World", model: AverageModel) -> None:
    """Rate limit, then the plan matrix; raises ApiError(429 or 403)."""
    plans = model.catalog.plans
    wait = model.hit(caller.identity, plans.rate_limits.get(caller.plan), world.now)
    if wait is not None:
        limit = plans.rate_limits.get(caller.plan)
        raise ApiError(
            429,
            f"Rate limit exceeded: {limit} requests per {plans.window_seconds} seconds for the {caller.plan} plan",
            {"Retry-After": str(wait)},
        )
    if not plans.allows(caller.plan, endpoint):
        raise ApiError(403, FORBIDDEN)

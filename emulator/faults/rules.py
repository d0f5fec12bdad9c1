"""Fault rules: which requests and websocket frames go wrong, and how. Pure state, no HTTP.

A `FaultBook` lives in `world.models["faults"]` (see `faults_of`), so rules are saved with world
snapshots and cleared by a reset. The control API (`POST /_emulator/faults`) and scenario code both
call `faults_of(world).add(spec)` with the same JSON shape:

    {"api": "mtgox" | "bitcoinaverage" | "any", "path": "/code/data/*", "method": "GET",
     "channel": "depth", "effect": "status", "status": 503, "body": {...}, "latency_ms": 200,
     "probability": 0.5, "count": 3, "start_in": 10, "duration": 30, "max_age": 10}

Only `effect` is required. Choices where the brief is silent:
- `path` and `channel` are fnmatch globs (case-sensitive); the path is the API path without the
  tenant prefix and without the query string. `method` is compared case-insensitively.
- Websocket rules (`ws_*` effects) match on the channel (MtGox: the channel UUID or its name
  `trade`/`ticker`/`depth`; BitcoinAverage: the channel path, e.g. `websocket/ticker`) and, when a
  `path` other than `*` is given, on the socket's path. `method` is for HTTP rules only and `channel`
  for websocket rules only.
- `status` is the HTTP status for `status` (default 503) and `rate_limit` (default 429 for
  BitcoinAverage, 200 for MtGox, whose errors are always HTTP 200), and the close code for `ws_drop`
  (default 1011). `body` is the answer for `status`/`rate_limit` (a string is sent as text/plain,
  anything else as JSON) and the close reason for `ws_drop`.
- `max_age` (seconds of market time, default 10) is for `stale`: a cached answer is served while it
  is at most that old, then refreshed.
- `ws_reorder` holds a frame until the next one on its channel, or at most `latency_ms` (default 1000)
  of real time.
- Each rule draws from its own RNG seeded from the world's seed and the rule's id, so the same seed
  and the same traffic give the same hits whatever other rules do. A draw happens only for a rule
  that otherwise matches, is in its window, has hits left and a probability below 1.
- Rules are tried in the order they were added; the first that hits wins. A hit consumes one of
  `count`. The window is [now + start_in, now + start_in + duration) in market time, fixed when the
  rule is added.
"""

import builtins
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from emulator.api_names import API_NAMES
from emulator.engine.units import MICROS
from emulator.market.models import register_model

if TYPE_CHECKING:
    from emulator.market.world import World

APIS = (*API_NAMES, "any")
HTTP_EFFECTS = ("status", "latency", "reset", "mysql_error", "stale", "rate_limit")
WS_EFFECTS = ("ws_drop", "ws_delay", "ws_duplicate", "ws_reorder", "ws_gap")
EFFECTS = HTTP_EFFECTS + WS_EFFECTS
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
FIELDS = (
    "api",
    "path",
    "method",
    "channel",
    "effect",
    "status",
    "body",
    "latency_ms",
    "probability",
    "count",
    "start_in",
    "duration",
    "max_age",
)
MAX_LATENCY_MS = 600_000
MAX_RULES = 1000
MAX_BODY = 64 * 1024
RESERVED_CLOSE_CODES = (1004, 1005, 1006, 1015)
STATUS_FOR = ("status", "rate_limit", "ws_drop")
BODY_FOR = ("status", "rate_limit", "ws_drop")
LATENCY_FOR = ("latency", "ws_delay", "ws_reorder")


@dataclass
class FaultRule:
    id: str
    effect: str
    api: str = "any"
    path: str = "*"
    method: str | None = None
    channel: str | None = None
    status: int | None = None
    body: Any = None
    latency_ms: int = 0
    probability: float = 1.0
    count: int | None = None  # hits left; None: unlimited
    start: int | None = None  # market µs, inclusive
    end: int | None = None  # market µs, exclusive
    max_age: float = 10.0
    hits: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    @property
    def websocket(self) -> bool:
        return self.effect in WS_EFFECTS

    def live(self, now: int) -> bool:
        """In its window with hits left (the probability is not drawn here)."""
        if self.count is not None and self.count <= 0:
            return False
        if self.start is not None and now < self.start:
            return False
        return self.end is None or now < self.end

    def _draw(self) -> bool:
        if self.probability >= 1.0:
            return True
        if self.probability <= 0.0:
            return False
        return self.rng.random() < self.probability

    def _hit(self) -> None:
        self.hits += 1
        if self.count is not None:
            self.count -= 1

    def view(self, now: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "api": self.api,
            "path": self.path,
            "method": self.method,
            "channel": self.channel,
            "effect": self.effect,
            "status": self.status,
            "body": self.body,
            "latency_ms": self.latency_ms,
            "probability": self.probability,
            "count": self.count,
            "start": None if self.start is None else self.start / MICROS,
            "end": None if self.end is None else self.end / MICROS,
            "hits": self.hits,
        }
        if self.effect == "stale":
            out["max_age"] = self.max_age
        if now is not None:
            out["active"] = self.live(now)
        return out

    def retry_after(self, now: int) -> int:
        """Seconds a rate-limit storm still lasts (60 when it has no end)."""
        if self.end is None:
            return 60
        return max(1, -(-(self.end - now) // MICROS))


def _number(spec: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _integer(spec: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _text(spec: Mapping[str, Any], name: str, limit: int = 1000) -> str | None:
    value = spec.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return value


def _body_size(body: Any) -> int:
    try:
        return len(body) if isinstance(body, str) else len(json.dumps(body))
    except (TypeError, ValueError) as exc:
        raise ValueError("body must be a string or JSON") from exc


class FaultBook:
    """A world's fault rules (see the module docstring for the rule shape and matching)."""

    def __init__(self, world: "World") -> None:
        self.world = world
        self.rules: list[FaultRule] = []
        self.next_id = 1
        self.has_http = False
        self.has_ws = False

    # -- editing ---------------------------------------------------------------------------

    def add(self, spec: Mapping[str, Any]) -> FaultRule:
        """Validate `spec` and add the rule; ValueError with a clear message when it is wrong."""
        rule = self.build(spec, f"f{self.next_id}", self.world.now)
        if len(self.rules) >= MAX_RULES:
            raise ValueError(f"too many fault rules (limit {MAX_RULES}); delete some first")
        self.next_id += 1
        self.rules.append(rule)
        self._index()
        return rule

    def build(self, spec: Mapping[str, Any], rule_id: str, now: int) -> FaultRule:
        if not isinstance(spec, Mapping):
            raise ValueError("a fault rule is a JSON object")
        unknown = sorted(str(k) for k in spec if k not in FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; expected some of {', '.join(FIELDS)}")
        effect = spec.get("effect")
        if effect not in EFFECTS:
            raise ValueError(f"effect must be one of {', '.join(EFFECTS)}, got {effect!r}")
        api = spec.get("api") or "any"
        if api not in APIS:
            raise ValueError(f"api must be one of {', '.join(APIS)}, got {api!r}")
        path = _text(spec, "path") or "*"
        if not path.startswith(("/", "*")):
            raise ValueError(f"path must be a glob starting with '/' or '*', e.g. /indices/*, got {path!r}")
        method = _text(spec, "method", 16)
        channel = _text(spec, "channel", 256)
        websocket = effect in WS_EFFECTS
        if method is not None:
            if websocket:
                raise ValueError("method applies to HTTP effects only; websocket rules match on channel")
            method = method.upper()
            if method not in METHODS:
                raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if channel is not None and not websocket:
            raise ValueError("channel applies to websocket effects (ws_*) only")
        status = _integer(spec, "status", 100, 4999)
        if status is not None:
            if effect not in STATUS_FOR:
                raise ValueError(f"status applies to effects {', '.join(STATUS_FOR)} only")
            if effect == "ws_drop" and (status < 1000 or status in RESERVED_CLOSE_CODES):
                raise ValueError("status of ws_drop is a websocket close code: 1000-4999, not 1004-1006 or 1015")
            if effect != "ws_drop" and not 200 <= status <= 599:
                raise ValueError(f"status must be an HTTP status between 200 and 599, got {status}")
        body = spec.get("body")
        if body is not None:
            if effect not in BODY_FOR:
                raise ValueError(f"body applies to effects {', '.join(BODY_FOR)} only")
            if _body_size(body) > MAX_BODY:
                raise ValueError(f"body is larger than {MAX_BODY} bytes")
            if effect == "ws_drop" and (not isinstance(body, str) or len(body.encode()) > 123):
                raise ValueError("body of ws_drop is the close reason: a string of at most 123 bytes")
        latency = _integer(spec, "latency_ms", 0, MAX_LATENCY_MS)
        if latency is not None and effect not in LATENCY_FOR:
            raise ValueError(f"latency_ms applies to effects {', '.join(LATENCY_FOR)} only")
        if effect in ("latency", "ws_delay") and not latency:
            raise ValueError(f"effect {effect} needs latency_ms > 0")
        if effect == "ws_reorder" and latency is None:
            latency = 1000
        probability = _number(spec, "probability", 0.0, 1.0)
        count = _integer(spec, "count", 1, 10**9)
        start_in = _number(spec, "start_in", 0, 10 * 365 * 86_400) or 0.0
        duration = _number(spec, "duration", 0, 10 * 365 * 86_400)
        if duration is not None and duration <= 0:
            raise ValueError("duration must be positive (seconds of market time)")
        max_age = _number(spec, "max_age", 0, 86_400)
        if max_age is not None and effect != "stale":
            raise ValueError("max_age applies to the stale effect only")
        start = now + round(start_in * MICROS)
        end = None if duration is None else start + round(duration * MICROS)
        return FaultRule(
            id=rule_id,
            effect=effect,
            api=api,
            path=path,
            method=method,
            channel=channel,
            status=status,
            body=body,
            latency_ms=latency or 0,
            probability=1.0 if probability is None else probability,
            count=count,
            start=start,
            end=end,
            max_age=10.0 if max_age is None else max_age,
            rng=random.Random(f"faults:{self.world.seed}:{rule_id}"),
        )

    def remove(self, rule_id: str) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        self._index()
        return len(self.rules) != before

    def clear(self) -> None:
        self.rules = []
        self._index()

    def get(self, rule_id: str) -> FaultRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def _index(self) -> None:
        self.has_http = any(not r.websocket for r in self.rules)
        self.has_ws = any(r.websocket for r in self.rules)

    # -- matching --------------------------------------------------------------------------

    def match_http(self, api: str, path: str, method: str, now: int) -> FaultRule | None:
        """The first live HTTP rule for this request that hits (consuming one of its count)."""
        if not self.has_http:
            return None
        method = method.upper()
        for rule in self.rules:
            if rule.websocket or not rule.live(now):
                continue
            if rule.api != "any" and rule.api != api:
                continue
            if rule.method is not None and rule.method != method:
                continue
            if rule.path != "*" and not fnmatchcase(path, rule.path):
                continue
            if rule._draw():
                rule._hit()
                return rule
        return None

    def match_ws(
        self, api: str, channel: str, now: int, *, aliases: Iterable[str] = (), path: str | None = None
    ) -> FaultRule | None:
        """The first live websocket rule for a frame on `channel` (or one of its `aliases`) that hits."""
        if not self.has_ws:
            return None
        for rule in self.rules:
            if not rule.websocket or not rule.live(now):
                continue
            if rule.api != "any" and rule.api != api:
                continue
            if rule.path != "*" and (path is None or not fnmatchcase(path, rule.path)):
                continue
            pattern = rule.channel
            if pattern is not None and not any(fnmatchcase(name, pattern) for name in (channel, *aliases)):
                continue
            if rule._draw():
                rule._hit()
                return rule
        return None

    def stale_paths(self, api: str) -> list[str]:
        """Path globs of stale rules for `api`, live or not: the answers worth caching."""
        return [r.path for r in self.rules if r.effect == "stale" and r.api in ("any", api)]

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        if not self.rules and self.next_id == 1:
            return {}  # a book never used leaves no trace in the world's snapshot
        rules = []
        for rule in self.rules:
            version, internal, gauss = rule.rng.getstate()
            view = rule.view()
            view.update(start=rule.start, end=rule.end, max_age=rule.max_age, rng=[version, list(internal), gauss])
            rules.append(view)
        return {"rules": rules, "next_id": self.next_id}

    def restore(self, state: dict[str, Any]) -> None:
        self.rules = []
        self.next_id = state.get("next_id", 1)
        for saved in state.get("rules", []):
            rng = random.Random()
            version, internal, gauss = saved["rng"]
            rng.setstate((version, tuple(internal), gauss))
            fields = {k: saved[k] for k in FaultRule.__dataclass_fields__ if k in saved and k != "rng"}
            self.rules.append(FaultRule(**fields, rng=rng))
        self._index()

    def list(self) -> builtins.list[FaultRule]:
        """The rules, in the order they are tried."""
        return builtins.list(self.rules)


def faults_of(world: "World") -> FaultBook:
    """The world's fault book, made on first use."""
    book = world.model("faults")
    assert isinstance(book, FaultBook)
    return book


def has_http_faults(world: "World") -> bool:
    """Whether the world has HTTP fault rules (without making its fault book)."""
    book = world.models.get("faults")
    return isinstance(book, FaultBook) and book.has_http


register_model("faults", FaultBook)

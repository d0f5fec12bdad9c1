"""Scenario files: a seeded market with a timeline of steps, validated with clear errors.

A scenario is YAML (see scenarios/*.yaml, each documented at its top):

    name: flash-crash-2011-06-19
    description: ...
    seed: 19                         # optional; the world's seed when absent
    start: "2011-06-19T00:00:00Z"    # optional market start
    market: {price: "17.5", flow: true, levels: 450, interval: 1.0, volatility: 0.0002}
    timeline:
      - at: 10m                      # market time after the start: 90, 30s, 10m, 1h30m
        price: {target: "0.01", over: 5m, shape: linear}    # move the fair price (linear|exponential|step)
      - at: 11m
        flow: false                  # stop (or start) the random order flow
      - at: 12m
        burst: {side: sell, count: 20, amount: "5", from: "10", to: "5"}   # orders spread over a price range
      - at: 13m
        trade: {price: "0.01", amount: "100"}     # one trade at that price (maker and taker placed together)
      - at: 14m
        order: {user: alice, side: buy, amount: "1", price: "0.5"}          # an order as any user
      - at: 15m
        fault: {api: bitcoinaverage, path: "/indices/*", effect: status, status: 503, duration: 30}
      - at: 16m
        clear_faults: true
      - at: 17m
        key: {public_key: "...", plan: enterprise}   # change (or create) a BitcoinAverage key's plan
      - at: 18m
        disconnect: mtgox            # drop websockets: mtgox, bitcoinaverage or all
      - at: 19m
        exchange: {name: bitstamp, status: inactive}  # active, inactive, or ignored (with reason)
    tape: crash-sample.csv           # optional: a trade tape (emulator.market.tape) played through
                                     # the engine; a file next to the scenario, else a shipped one

Errors name the file, the line and the field.
"""

import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from emulator.api_names import ApiName
from emulator.market.accounts import KEY_PLANS
from emulator.market.clock import checked_instant
from emulator.paths import data_dir

if TYPE_CHECKING:
    import yaml

DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")


def parse_duration(value: Any) -> float:
    """Seconds from 90, "90", "30s", "10m", "1h", "1h30m"."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like 30s, 10m, 1h30m")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = DURATION.match(str(value))
        if not match or not any(match.groups()):
            raise ValueError("not a duration (use seconds or text like 30s, 10m, 1h30m)")
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if not 0 <= seconds <= 366 * 86_400:
        raise ValueError("a duration lies between 0 and a year")
    return seconds


def parse_decimal(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError("expected a decimal number")
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValueError("not a decimal number") from exc
    if not number.is_finite() or number <= 0:
        raise ValueError("must be a positive number")
    return str(value)


Duration = Annotated[float, BeforeValidator(parse_duration)]
Amount = Annotated[str, BeforeValidator(parse_decimal)]
if TYPE_CHECKING:
    KeyPlan = str
else:  # the plans of plans.json, validated (and worded in errors) as a Literal of them would be
    KeyPlan = Literal[KEY_PLANS]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built when first used: start-up


class MarketSpec(Strict):
    price: Amount | None = None
    flow: bool = True
    levels: int = Field(450, ge=0, le=5000)
    interval: float = Field(1.0, gt=0, le=3600)
    volatility: float = Field(0.0002, ge=0, le=0.1)


class PriceMove(Strict):
    target: Amount
    over: Duration = 0.0
    shape: Literal["linear", "exponential", "step"] = "linear"


class Burst(Strict):
    side: Literal["buy", "sell"]
    count: int = Field(..., ge=1, le=10_000)
    amount: Amount
    from_: Amount = Field(..., alias="from")
    to: Amount
    user: str | None = None


class TradeStep(Strict):
    price: Amount
    amount: Amount


class OrderStep(Strict):
    user: str | None = None
    side: Literal["buy", "sell"]
    amount: Amount
    price: Amount | None = None


class KeyStep(Strict):
    public_key: str | None = None
    plan: KeyPlan


class ExchangeStep(Strict):
    name: str
    status: Literal["active", "inactive", "ignored"]
    reason: str | None = None


class Step(Strict):
    at: Duration
    price: PriceMove | None = None
    flow: bool | None = None
    burst: Burst | None = None
    trade: TradeStep | None = None
    order: OrderStep | None = None
    fault: dict[str, Any] | None = None
    clear_faults: bool | None = None
    key: KeyStep | None = None
    disconnect: Literal[ApiName, "all"] | None = None
    exchange: ExchangeStep | None = None

    @model_validator(mode="after")
    def one_action(self) -> "Step":
        actions = [name for name in self.model_fields_set if name != "at"]
        if len(actions) != 1:
            raise ValueError(f"a step has `at` and exactly one action; found {sorted(actions) or 'none'}")
        return self

    @property
    def action(self) -> str:
        return next(name for name in self.model_fields_set if name != "at")


class Scenario(Strict):
    name: str
    description: str = ""
    seed: int | None = Field(None, ge=0, le=2**63)
    start: Annotated[str | None, AfterValidator(checked_instant)] = None
    market: MarketSpec = Field(default_factory=MarketSpec)
    timeline: list[Step] = Field(default_factory=list)
    tape: str | None = Field(None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # a file name, no folders
    _folder: Path | None = PrivateAttr(None)  # where the scenario file is (its tape is looked for there)

    @property
    def folder(self) -> Path | None:
        return self._folder


class ScenarioError(ValueError):
    pass


def _line_of(node: "yaml.Node | None", loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def parse(text: str, source: str = "<scenario>", quote: bool = True) -> Scenario:
    """The scenario in `text`, or ScenarioError naming `source`, line and field. With quote=False
    (a file read for an HTTP client) an error never repeats the file's own words, unknown keys
    included."""
    import yaml  # here, not at the top: a server without a scenario starts without it

    try:
        data = yaml.safe_load(text)
        tree = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ScenarioError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or 'unreadable'}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}:1: a scenario is a mapping with at least `name`")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            field = ".".join(str(p) if quote or isinstance(p, int) or p in FIELDS else "(unknown field)" for p in loc)
            problems.append(f"{source}:{_line_of(tree, loc)}: {field or '(top)'}: {error['msg']}")
        raise ScenarioError("\n".join(problems)) from exc


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")  # no separator, no dot: never a path


def load(name_or_path: str, folders: Sequence[str | Path] = ()) -> Scenario:
    """For the operator (`serve --scenario`, `replay`, `validate-scenario`): a file path, or a name."""
    path = Path(name_or_path)
    if path.is_file():
        story = parse(path.read_text(), str(path))
        story._folder = path.parent
        return story
    return named(name_or_path, folders)


def named(name: str, folders: Sequence[str | Path] = ()) -> Scenario:
    """A scenario by name, among the shipped ones and the operator's `folders` (`--scenarios-dir`)
    only: what a client of the control API may ask for. A name is never a path, and errors name the
    file, line and field, never its content."""
    name = name.removesuffix(".yaml")
    if NAME.fullmatch(name):
        for folder in (data_dir("scenarios"), *map(Path, folders)):
            path = folder / f"{name}.yaml"
            if path.is_file():
                story = parse(path.read_text(), path.name, quote=False)
                story._folder = path.parent  # a tape it names lies beside it
                return story
    allowed = ", ".join(available_names(folders))
    raise ScenarioError(f"no scenario {name[:64]!r}: scenarios are asked for by name, one of {allowed}")


def available_names(folders: Sequence[str | Path] = ()) -> list[str]:
    """The names `named` takes: the shipped scenarios and those of the operator's folders."""
    found = set(shipped_names())
    for folder in map(Path, folders):
        if folder.is_dir():
            found.update(p.stem for p in folder.glob("*.yaml") if NAME.fullmatch(p.stem))
    return sorted(found)


def shipped_names() -> list[str]:
    return sorted(p.stem for p in data_dir("scenarios").glob("*.yaml"))


def _field_names() -> frozenset[str]:
    """Every field and alias of the schema: what an error may name (anything else is the file's)."""
    names: set[str] = set()
    for model in (v for v in globals().values() if isinstance(v, type) and issubclass(v, BaseModel)):
        for name, info in model.model_fields.items():
            names.update(n for n in (name, info.alias) if n)
    return frozenset(names)


FIELDS = _field_names()

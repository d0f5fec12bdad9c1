"""Routes under /_emulator. Thin: parse, call the world, render."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import orjson
from fastapi import HTTPException, Request
from pydantic import AfterValidator, BaseModel, Field

from emulator.api_names import ApiName
from emulator.control.auth import control_router
from emulator.edge.tenancy import DEFAULT, WorldRegistry, tenant_of, world_of
from emulator.engine import ASK, BID
from emulator.engine.units import BTC_SCALE, parse_units, price_scale, to_decimal_string
from emulator.market.accounts import KEY_PLANS
from emulator.market.clock import MICROS, checked_instant
from emulator.market.identities import person_name
from emulator.market.tape import TapeError, scenario_tape
from emulator.market.tape import check as check_tape
from emulator.market.world import FEE_PERCENT, World, parse_instant, unit_scale
from emulator.responses import JSON

if TYPE_CHECKING:
    from emulator.market.scenario import Scenario

router = control_router(guarded=False)
guarded = control_router()

Instant = Annotated[str | None, AfterValidator(checked_instant)]
MAX_ADVANCE_SECONDS = 31 * 86_400
MAX_BTC = 21_000_000 * BTC_SCALE
MAX_PRICE = 10_000_000 * 10**5


class ResetBody(BaseModel):
    seed: int | None = Field(None, ge=0, le=2**63)
    start: Instant = Field(None, description="ISO 8601 instant or unix seconds")
    scenario: str | None = None
    flow: bool | None = Field(None, description="false: no agents' book and no random order flow")


class ClockBody(BaseModel):
    mode: Literal["realtime", "manual"] | None = None
    speed: float | None = Field(None, gt=0, le=1_000_000)


class AdvanceBody(BaseModel):
    seconds: float = Field(..., ge=0, le=MAX_ADVANCE_SECONDS)


def clock_view(world: World) -> dict[str, Any]:
    now = world.now
    return {
        "mode": world.clock.mode,
        "speed": world.clock.speed,
        "now": datetime.fromtimestamp(now / MICROS, UTC).isoformat().replace("+00:00", "Z"),
        "timestamp": now / MICROS,
        "timestamp_us": now,
    }


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request) -> JSON:
    registry = request.app.state.registry
    if "default" not in registry.worlds:
        return JSON({"ready": False}, status_code=503)
    world = registry.worlds["default"]
    return JSON({"ready": True, "seed": world.seed, "version": world.version})


@guarded.post("/reset")
def reset(request: Request, body: ResetBody | None = None) -> dict[str, Any]:
    body = body or ResetBody()
    world = world_of(request)
    start = parse_instant(body.start) if body.start else None
    story = _scenario(request, body.scenario, None, body.start) if body.scenario else None
    world.reset(seed=body.seed, start=start, flow=body.flow, scenario=story)
    return {"tenant": tenant_of(request), "seed": world.seed, "flow": world.flow.enabled, "clock": clock_view(world)}


@guarded.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    return clock_view(world_of(request))


@guarded.post("/clock")
def set_clock(body: ClockBody, request: Request) -> dict[str, Any]:
    world = world_of(request)
    world.clock.configure(mode=body.mode, speed=body.speed)
    return clock_view(world)


@guarded.post("/clock/advance")
async def advance(body: AdvanceBody, request: Request) -> dict[str, Any]:
    """Play `seconds` of market time now; websocket clients receive it as it is played."""
    world = world_of(request)
    world.clock.advance(int(body.seconds * MICROS))
    await world.play()
    return clock_view(world)


MAX_BALANCE = {"BTC": MAX_BTC, "USD": 10**12 * price_scale("USD")}  # 21M BTC; a trillion dollars


def _checked_balances(balances: dict[str, str]) -> dict[str, str]:
    """Known currencies, each a decimal string from 0 to its bound (a validator: ValueError in words)."""
    for currency, text in balances.items():
        if currency not in MAX_BALANCE:
            raise ValueError(f"unknown currency {currency[:16]!r}: use {' or '.join(MAX_BALANCE)}")
        bound = MAX_BALANCE[currency]
        units = parse_units(text, unit_scale(currency))  # ValueError for anything but a finite decimal
        if not 0 <= units <= bound:
            raise ValueError(f"{currency} balance must be from 0 to {to_decimal_string(bound, unit_scale(currency))}")
    return balances


def _checked_fee(fee: str | None) -> str | None:
    """A percentage from 0 up to (not including) 100 (a validator: ValueError in words)."""
    if fee is not None and not 0 <= parse_units(fee, FEE_PERCENT) < 100 * FEE_PERCENT:
        raise ValueError("fee is a percentage from 0 up to (not including) 100")
    return fee


class AccountBody(BaseModel):
    name: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$", description="absent: a generated name"
    )
    password: str = Field(..., min_length=1, max_length=256)
    balances: Annotated[dict[str, str], AfterValidator(_checked_balances)] = Field(
        default_factory=dict, description='decimal strings from 0, e.g. {"BTC": "10"}'
    )
    fee: Annotated[str | None, AfterValidator(_checked_fee)] = Field(
        None, description="trade fee in percent, from 0 up to 100 (default 0.65)"
    )


class KeyBody(BaseModel):
    api: ApiName
    account: str | None = Field(None, description="mtgox: the user the key acts for")
    plan: str | None = Field(None, description=f"bitcoinaverage: {', '.join(KEY_PLANS[:-1])} or {KEY_PLANS[-1]}")
    activation: bool = Field(False, description="mtgox: a one-time activation key for activate.php instead of a key")


@guarded.post("/accounts", status_code=201)
def create_account(body: AccountBody, request: Request) -> JSON:
    world = world_of(request)
    name = body.name
    if name is None:
        name = person_name(world.rng)  # seeded from the world, so the same calls give the same names
        while world.name_taken(name):
            name = person_name(world.rng)
    elif world.name_taken(name):
        return JSON({"error": f"account {name!r} exists"}, status_code=409)
    world.add_user(name, body.password, body.balances, body.fee)
    return JSON(account_view(world, name), status_code=201)


def account_view(world: World, name: str) -> dict[str, Any]:
    user = world.directory.user(name)
    assert user is not None
    account = world.engine.ledger.accounts[user.name]
    return {
        "name": user.name,
        "channel": user.channel,
        "fee": format(user.fee_ppm / 10_000, "g"),
        "balances": {c: to_decimal_string(v, unit_scale(c)) for c, v in account.balance.items()},
    }


@guarded.post("/keys", status_code=201)
def create_key(body: KeyBody, request: Request) -> JSON:
    world = world_of(request)
    if body.api == "mtgox":
        user = world.directory.user(body.account or "")
        if user is None:
            return JSON({"error": "mtgox keys need an existing account"}, status_code=400)
        if body.activation:
            activation = world.directory.add_mtgox_activation(user)
            return JSON({"api": "mtgox", "account": user.name, "activation_key": activation}, status_code=201)
        key = world.directory.add_mtgox_key(user, world.rng)
        return JSON({"api": "mtgox", "account": user.name, "key": key.key, "secret": key.secret}, status_code=201)
    if body.activation:
        return JSON({"error": "activation keys are MtGox's (api: mtgox)"}, status_code=400)
    try:
        average = world.directory.add_average_key(body.plan or "developer", world.rng)
    except ValueError as exc:
        return JSON({"error": str(exc)}, status_code=400)
    return JSON(
        {
            "api": "bitcoinaverage",
            "plan": average.plan,
            "public_key": average.public_key,
            "secret_key": average.secret_key,
        },
        status_code=201,
    )


# -- scenarios ---------------------------------------------------------------------------------


class ScenarioBody(BaseModel):
    name: str | None = Field(
        None, max_length=128, description="a shipped or --scenarios-dir scenario (GET /_emulator/scenarios)"
    )
    yaml: str | None = Field(None, description="an inline scenario document", max_length=1_000_000)
    seed: int | None = Field(None, ge=0, le=2**63)
    start: Instant = None


def _scenario(request: Request, name: str | None, text: str | None, start: str | None = None) -> "Scenario":
    """A scenario sent as text, or named: shipped or in the operator's --scenarios-dir, never a path;
    a tape it names must be there and sound."""
    from emulator.market.scenario import ScenarioError, named, parse  # when used: start-up

    try:
        story = parse(text, "<inline>") if text is not None else named(name or "", scenario_folders(request))
        tape = scenario_tape(story, story.folder)
        if tape is not None:
            given = start or story.start
            check_tape(tape, parse_instant(given) if given else None)
        return story
    except (ScenarioError, TapeError) as exc:
        raise HTTPException(400, str(exc)) from exc


def scenario_folders(request: Request) -> list[str]:
    folder: str | None = request.app.state.settings.scenarios_dir
    return [folder] if folder else []


def scenario_view(world: World) -> dict[str, Any]:
    story = world.scenario
    pending = sorted(due for due, _, name in world.timers if name.startswith("scenario:"))
    return {
        "name": story.name if story else None,
        "description": story.description if story else None,
        "seed": world.seed,
        "steps": len(story.timeline) if story else 0,
        "done": world.scenario_done,
        "pending": len(pending),
        "next_at": pending[0] / MICROS if pending else None,
        "flow": world.flow.enabled,
        "clock": clock_view(world),
    }


@guarded.get("/scenarios")
def list_scenarios(request: Request) -> dict[str, Any]:
    from emulator.market.scenario import ScenarioError, available_names, named

    folders = scenario_folders(request)
    listed: list[dict[str, str | None]] = []
    for name in available_names(folders):
        try:
            listed.append({"name": name, "description": named(name, folders).description})
        except ScenarioError:
            listed.append({"name": name, "description": None, "error": "does not validate"})
    return {"scenarios": listed}


@guarded.post("/scenario")
def start_scenario(body: ScenarioBody, request: Request) -> dict[str, Any]:
    """Load a scenario and start it: the world resets to the scenario's seed, start and market."""
    if (body.name is None) == (body.yaml is None):
        raise HTTPException(400, "give exactly one of `name` or `yaml`")
    story = _scenario(request, body.name, body.yaml, body.start)
    world = world_of(request)
    world.reset(seed=body.seed, start=parse_instant(body.start) if body.start else None, scenario=story)
    return scenario_view(world)


@guarded.get("/scenario")
def scenario_status(request: Request) -> dict[str, Any]:
    return scenario_view(world_of(request))


@guarded.delete("/scenario")
def stop_scenario(request: Request) -> dict[str, Any]:
    """Stop the scenario's remaining steps; the market carries on as it is."""
    world = world_of(request)
    world.stop_scenario()
    return scenario_view(world)


# -- orders and state --------------------------------------------------------------------------


class OrderBody(BaseModel):
    account: str
    side: Literal["buy", "sell"]
    amount: str = Field(..., description="BTC, decimal")
    price: str | None = Field(None, description="USD, decimal; absent: a market order")


@guarded.post("/orders", status_code=201)
def place_order(body: OrderBody, request: Request) -> JSON:
    """Place an order as any user (to build a book in a test); MtGox rules apply (status 2 and all)."""
    world = world_of(request)
    user = world.directory.user(body.account)
    if user is None:
        return JSON({"error": f"unknown account {body.account!r}"}, status_code=404)
    try:
        amount = parse_units(body.amount, BTC_SCALE)
        price = parse_units(body.price, price_scale("USD")) if body.price is not None else None
    except ValueError as exc:
        return JSON({"error": str(exc)}, status_code=400)
    if amount <= 0 or amount > MAX_BTC or (price is not None and not 0 < price <= MAX_PRICE):
        return JSON({"error": "amount and price must be positive and sane"}, status_code=400)
    result = world.place(user.name, BID if body.side == "buy" else ASK, amount, price)
    orders = [
        {
            "oid": o.oid,
            "side": "buy" if o.side == BID else "sell",
            "amount": to_decimal_string(o.amount, BTC_SCALE),
            "price": to_decimal_string(o.price, price_scale(o.currency)) if o.price else None,
            "status": int(o.status),
        }
        for o in world.engine.open_orders(user.name)
    ]
    return JSON(
        {
            "oid": result.oid,
            "waiting_oid": result.waiting_oid,
            "filled": to_decimal_string(result.filled, BTC_SCALE),
            "open_orders": orders,
        },
        status_code=201,
    )


@guarded.get("/state")
def get_state(request: Request) -> JSON:
    """The whole world as JSON: POST it back to /_emulator/state to restore it byte for byte."""
    return JSON(world_of(request).snapshot())


@guarded.post("/state")
async def put_state(request: Request) -> dict[str, Any]:
    world = world_of(request)
    try:
        state = orjson.loads(await request.body())
        saved = world.snapshot()
        try:
            world.restore(state)
        except Exception:
            world.restore(saved)  # a broken snapshot must not leave a broken world behind
            raise
    except Exception as exc:
        raise HTTPException(400, f"not a snapshot from GET /_emulator/state: {snapshot_problem(exc)}") from exc
    return {"restored": True, "version": world.version, "clock": clock_view(world)}


def snapshot_problem(exc: Exception) -> str:
    """What was wrong with a snapshot, in words (never a Python repr)."""
    if isinstance(exc, orjson.JSONDecodeError):
        return "the body is not JSON"
    if isinstance(exc, KeyError):
        return f"the field {str(exc.args[0])[:64]!r} is missing"
    if isinstance(exc, ValueError) and str(exc):
        return str(exc)[:200]
    return "a field has the wrong shape or type"


# -- tenants -----------------------------------------------------------------------------------


@guarded.get("/tenants")
def list_tenants(request: Request) -> dict[str, Any]:
    """Every tenant: name, created and last used (unix seconds), a rough memory estimate in bytes.
    The control API is the operator's: it sees all tenants (an API client sees only its own world)."""
    registry: WorldRegistry = request.app.state.registry
    return {"tenants": registry.describe(), "limit": registry.limit, "ttl_seconds": registry.ttl}


@guarded.delete("/tenant")
def delete_tenant(request: Request) -> JSON:
    """Drop the tenant named by the path prefix or the header: its world, memory and websockets."""
    tenant = tenant_of(request)
    if tenant == DEFAULT:
        return JSON({"error": "the default tenant stays: POST /_emulator/reset starts it afresh"}, status_code=409)
    if not request.app.state.registry.drop(tenant):
        return JSON({"error": f"no tenant {tenant[:64]!r}"}, status_code=404)
    return JSON({"deleted": tenant})


# -- blockchain transactions -------------------------------------------------------------------


class TransactionBody(BaseModel):
    hash: str = Field(..., pattern=r"^[0-9a-fA-F]{64}$", description="64 hex digits")
    time: Annotated[str, AfterValidator(checked_instant)] = Field(
        ..., description="when it was made: ISO 8601 instant or unix seconds"
    )


@guarded.post("/transactions", status_code=201)
def add_transaction(body: TransactionBody, request: Request) -> dict[str, Any]:
    """Make a transaction known to BitcoinAverage's `blockchain/tx_price`."""
    world = world_of(request)
    when = parse_instant(body.time) // MICROS
    world.transactions[body.hash.lower()] = when
    world.changed()
    return {"hash": body.hash.lower(), "time": when}

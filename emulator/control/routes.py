"""Routes under /_emulator. Thin: parse, call the world, render."""

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from emulator.control.auth import require_admin
from emulator.engine.units import to_decimal_string
from emulator.market.clock import MICROS
from emulator.market.world import CURRENCIES, World, parse_instant, unit_scale
from emulator.responses import JSON
from emulator.tenancy import tenant_of, world_of

router = APIRouter(prefix="/_emulator", tags=["control"], default_response_class=JSON)
guarded = APIRouter(
    prefix="/_emulator", tags=["control"], default_response_class=JSON, dependencies=[Depends(require_admin)]
)

MAX_ADVANCE_SECONDS = 31 * 86_400


class ResetBody(BaseModel):
    seed: int | None = None
    start: str | None = Field(None, description="ISO 8601 instant or unix seconds")
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
    world.reset(seed=body.seed, start=start, flow=body.flow)
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


class AccountBody(BaseModel):
    name: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(..., min_length=1, max_length=256)
    balances: dict[str, str] = Field(default_factory=dict, description='decimal strings, e.g. {"BTC": "10"}')
    fee: str | None = Field(None, description="trade fee in percent, default 0.65")


class KeyBody(BaseModel):
    api: Literal["mtgox", "bitcoinaverage"]
    account: str | None = Field(None, description="mtgox: the user the key acts for")
    plan: str | None = Field(None, description="bitcoinaverage: free, developer, business or enterprise")


@guarded.post("/accounts", status_code=201)
def create_account(body: AccountBody, request: Request) -> JSON:
    world = world_of(request)
    if world.directory.user(body.name) is not None:
        return JSON({"error": f"account {body.name!r} exists"}, status_code=409)
    for currency in body.balances:
        if currency not in ("BTC", *CURRENCIES):
            return JSON({"error": f"unknown currency {currency!r}"}, status_code=400)
    try:
        world.add_user(body.name, body.password, body.balances, body.fee)
    except (ValueError, ArithmeticError) as exc:
        return JSON({"error": f"bad balances or fee: {exc}"}, status_code=400)
    return JSON(account_view(world, body.name), status_code=201)


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
        key = world.directory.add_mtgox_key(user, world.rng)
        return JSON({"api": "mtgox", "account": user.name, "key": key.key, "secret": key.secret}, status_code=201)
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

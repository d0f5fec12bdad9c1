"""Routes under /_emulator. Thin: parse, call the world, render."""

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from emulator.control.auth import require_admin
from emulator.market.clock import MICROS
from emulator.market.world import World, parse_instant
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
    world.reset(seed=body.seed, start=start)
    return {"tenant": tenant_of(request), "seed": world.seed, "clock": clock_view(world)}


@guarded.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    return clock_view(world_of(request))


@guarded.post("/clock")
def set_clock(body: ClockBody, request: Request) -> dict[str, Any]:
    world = world_of(request)
    world.clock.configure(mode=body.mode, speed=body.speed)
    return clock_view(world)


@guarded.post("/clock/advance")
def advance(body: AdvanceBody, request: Request) -> dict[str, Any]:
    world = world_of(request)
    world.advance(body.seconds)
    return clock_view(world)

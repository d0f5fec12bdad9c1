"""/_emulator/tape: the historical tape a tenant's world plays (emulator.market.tape).

- `GET /_emulator/tape`: the tape playing (null when none), its position (byte offset and line of
  the next trade, and its time), trades played, lines skipped, an `error` when a malformed line met
  while playing stopped it, and the clock.
- `POST /_emulator/tape` `{"csv": "<the tape's text>", "start": ..., "seed": ..., "skip_bad": false}`:
  this tenant's world starts again on that tape (text only, at most MAX_TEXT bytes, checked whole;
  never a path), at its first trade unless `start` is given; resets go back there.
- `DELETE /_emulator/tape`: the tenant's world starts again without a posted tape.
- `GET /_emulator/tape/trades.csv?since=<tid>`: the world's trades (those its trade log keeps) in
  the tape's own format, `unix_time,price,amount,side`: what a tape played in comes back out as.
"""

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from emulator.control.auth import control_router
from emulator.control.routes import Instant, clock_view
from emulator.edge.tenancy import world_of
from emulator.engine import BID
from emulator.engine.units import BTC_SCALE, FIAT_SCALE, to_decimal_string
from emulator.market.tape import MAX_TEXT, TapeError, TapeSource, check, first_trade, seconds_text
from emulator.market.world import World, parse_instant

router = control_router()


class TapeBody(BaseModel):
    csv: str = Field(..., max_length=MAX_TEXT, description="the tape: unix_time,price,amount[,side] lines")
    start: Instant = Field(None, description="enter the tape here (default: its first trade)")
    seed: int | None = Field(None, ge=0, le=2**63)
    skip_bad: bool = Field(False, description="skip and count malformed lines instead of refusing the tape")


def tape_view(world: World) -> dict[str, Any]:
    if world.tape is None:
        return {"tape": None, "playing": False, "played": 0, "skipped": 0, "clock": clock_view(world)}
    return {**world.tape.view(), "clock": clock_view(world)}


@router.get("/tape")
def tape_status(request: Request) -> dict[str, Any]:
    return tape_view(world_of(request))


@router.post("/tape")
def post_tape(body: TapeBody, request: Request) -> dict[str, Any]:
    """Start this tenant's world again on a tape brought as text."""
    try:
        source = TapeSource.posted(body.csv, body.skip_bad)
        start = parse_instant(body.start) if body.start else first_trade(source).time
        check(source, start)
    except TapeError as exc:
        raise HTTPException(400, str(exc)) from exc
    world = world_of(request)
    world.tape_source = source
    world.configured_start = start  # a reset goes back to the tape's start
    world.reset(seed=body.seed, start=start)
    return tape_view(world)


@router.delete("/tape")
def delete_tape(request: Request) -> dict[str, Any]:
    """Start this tenant's world again without the posted tape."""
    world = world_of(request)
    if world.tape_source is not None and world.tape_source.text is not None:
        settings = request.app.state.settings
        world.tape_source = TapeSource.file(settings.tape, settings.tape_skip_bad) if settings.tape else None
        world.configured_start = parse_instant(settings.start) if settings.start else None
        world.reset()
    return tape_view(world)


@router.get("/tape/trades.csv")
def trades_csv(request: Request, since: int = -1) -> Response:
    """The world's trades as a tape (the kept log: the day before the start and what followed)."""
    world = world_of(request)
    rows = [
        f"{seconds_text(t.date)},{to_decimal_string(t.price, FIAT_SCALE)},{to_decimal_string(t.amount, BTC_SCALE)},"
        f"{'buy' if t.taker_side == BID else 'sell'}\n"
        for t in world.trades.since(since, len(world.trades))
    ]
    return Response("".join(rows), media_type="text/csv")

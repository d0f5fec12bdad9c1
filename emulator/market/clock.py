"""The world's only source of "now", in integer microseconds of market time.

`realtime` runs at wall-clock pace times `speed`; `manual` moves only when told to, which is what
lets a test play ten minutes of market in milliseconds and get the same bytes every run.
"""

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from emulator.engine.units import MICROS as MICROS  # defined once, in the engine; re-exported: callers look here

Mode = Literal["realtime", "manual"]
MODES: tuple[Mode, ...] = ("realtime", "manual")
EARLIEST = 1_230_940_800 * MICROS  # 2009-01-03, the genesis block
LATEST = 4_102_444_800 * MICROS  # 2100-01-01
MAX_UNIX_SECONDS = LATEST // MICROS
UNIX_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)  # str.isdigit() would take "²" and "٣"


def parse_instant(text: str) -> int:
    """`2011-07-10T00:00:00Z` (or any ISO 8601 instant, or unix seconds) to microseconds.

    Raises ValueError for anything else, and for instants outside 2009-01-03 .. 2100-01-01."""
    text = text.strip()
    if len(text) > 64:
        raise ValueError("not an instant")
    if UNIX_SECONDS.fullmatch(text):
        when = int(Decimal(text) * MICROS)
        if not EARLIEST <= when <= LATEST:
            raise ValueError("outside 2009-01-03 .. 2100-01-01")
        return when
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    when = int(moment.timestamp()) * MICROS + moment.microsecond
    if not EARLIEST <= when <= LATEST:
        raise ValueError("outside 2009-01-03 .. 2100-01-01")
    return when


def checked_instant(text: str | None) -> str | None:
    """A validator: the text unchanged if parse_instant takes it (ValueError with a clear message if not)."""
    if text is None:
        return None
    try:
        parse_instant(text)
    except (ValueError, ArithmeticError, OverflowError) as exc:
        raise ValueError(f"give an ISO 8601 instant like 2011-07-10T00:00:00Z, or unix seconds ({exc})") from exc
    return text


def wall_micros() -> int:
    return time.time_ns() // 1000


class Clock:
    def __init__(
        self,
        start: int,
        mode: Mode = "realtime",
        speed: float = 1.0,
        wall: Callable[[], int] = wall_micros,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown clock mode {mode!r}")
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.wall = wall
        self.mode: Mode = mode
        self.speed = speed
        self._anchor_market = start
        self._anchor_wall = wall()

    def now(self) -> int:
        if self.mode == "manual":
            return self._anchor_market
        elapsed = self.wall() - self._anchor_wall
        return self._anchor_market + int(elapsed * self.speed)

    def configure(self, mode: Mode | None = None, speed: float | None = None) -> None:
        """Switch mode or speed without a jump in market time."""
        if mode is not None and mode not in MODES:
            raise ValueError(f"unknown clock mode {mode!r}")
        if speed is not None and not speed > 0:
            raise ValueError("speed must be positive")
        self._rebase()
        if mode is not None:
            self.mode = mode
        if speed is not None:
            self.speed = speed

    def advance(self, micros: int) -> int:
        """Move market time forward (in either mode) and return the new now."""
        if micros < 0:
            raise ValueError("time only moves forward")
        self._rebase()
        self._anchor_market += micros
        return self._anchor_market

    def _rebase(self) -> None:
        self._anchor_market = self.now()
        self._anchor_wall = self.wall()

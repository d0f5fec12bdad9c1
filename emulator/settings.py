"""One Settings object, from command-line flags and EMULATOR_* environment variables.

A plain pydantic model that fills what the caller left out from `EMULATOR_<FIELD>` (any case), the
way pydantic-settings' BaseSettings would: that package and its sources cost about as much start-up
time as everything else here beyond FastAPI, for the dozen scalar fields below.
"""

import os
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from emulator.market.clock import checked_instant

PREFIX = "EMULATOR_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    seed: int | None = Field(None, ge=0, le=2**63)  # None: the scenario's seed, else DEFAULT_SEED
    speed: float = Field(1.0, gt=0, le=1_000_000)
    clock: Literal["realtime", "manual"] = "realtime"
    start: Annotated[str | None, AfterValidator(checked_instant)] = (
        None  # ISO instant or unix seconds; default: the wall clock at start-up
    )
    scenario: str | None = None  # a name, or a file (the operator's own machine: any path)
    scenarios_dir: str | None = None  # a folder of the operator's scenarios, which clients may name too
    state: str | None = None  # a file the worlds are loaded from at start and saved to (emulator.statefile)
    tape: str | None = None  # a trade tape (bitcoincharts CSV) to play; the clock starts at its first trade
    tape_skip_bad: bool = False  # skip (and count) a tape's malformed lines instead of refusing to start
    flow: bool = True  # false: a quiet market (history, but no agents' book or order flow)
    admin: bool = True  # serve the control API under /_emulator
    admin_token: str | None = None  # when set, the control API wants `Authorization: Bearer <token>`
    max_tenants: int = Field(64, ge=1)
    tenant_ttl: float = Field(600.0, gt=0, le=10**9)  # wall seconds after which an unused tenant is dropped
    ws_compression: bool = False  # permessage-deflate costs a zlib flush per frame per client
    ws_queue_limit: int = Field(2000, ge=10)  # frames queued per websocket before it is dropped as slow
    tick_seconds: float = Field(0.05, gt=0)  # how often realtime worlds catch up with their clock

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, given: Any) -> Any:
        """Given values win; an EMULATOR_<FIELD> variable fills a field that was not given."""
        if not isinstance(given, dict):
            return given
        found = {
            key[len(PREFIX) :].lower(): value for key, value in os.environ.items() if key.upper().startswith(PREFIX)
        }
        return {**{name: found[name] for name in cls.model_fields if name in found}, **given}

"""One Settings object, from command-line flags and EMULATOR_* environment variables."""

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from emulator.market.clock import checked_instant


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMULATOR_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    seed: int = 1
    speed: float = Field(1.0, gt=0, le=1_000_000)
    clock: Literal["realtime", "manual"] = "realtime"
    start: Annotated[str | None, AfterValidator(checked_instant)] = (
        None  # ISO instant or unix seconds; default: the wall clock at start-up
    )
    scenario: str | None = None
    flow: bool = True  # false: a quiet market (history, but no agents' book or order flow)
    admin: bool = True  # serve the control API under /_emulator
    admin_token: str | None = None  # when set, the control API wants `Authorization: Bearer <token>`
    max_tenants: int = Field(64, ge=1)
    ws_compression: bool = False  # permessage-deflate costs a zlib flush per frame per client
    ws_queue_limit: int = Field(2000, ge=10)  # frames queued per websocket before it is dropped as slow
    tick_seconds: float = Field(0.05, gt=0)  # how often realtime worlds catch up with their clock

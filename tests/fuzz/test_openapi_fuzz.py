"""Schemathesis against the app's own OpenAPI document: every operation (MtGox, BitcoinAverage, control).

Checks per generated request: no 5xx, a response that matches the documented schema, and errors in
the API's own style (a JSON object with an `error`, or BitcoinAverage's plain-text rate-limit answer).

Two bounds keep the run short and the one shared world usable; neither hides an input class:
- `POST /_emulator/clock/advance` plays at most an hour of market time per case (31 days, the
  documented maximum, takes minutes to play; the bound itself is tested in tests/control);
- after each case the world's clock is put back on manual at its current instant, so a case that
  switched it to realtime at 1,000,000x does not make every later request play days of market.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from emulator.app import create_app
from emulator.market.clock import Clock
from emulator.market.world import World
from emulator.settings import Settings
from tests.conftest import START_TEXT

APP = create_app(Settings(clock="manual", start=START_TEXT, seed=7))
quick = schemathesis.openapi.from_asgi("/openapi.json", APP)
quick.config.phases.coverage.enabled = False  # its boundary cases run in test_openapi_fuzz_long.py
MAX_ADVANCE = 3600
PLAIN_TEXT_ERRORS = {429}  # BitcoinAverage's "Client limit reached for api key ..." is plain text


def api_error_style(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """A 4xx answer is a JSON object with an `error` string (the shape both APIs and control use)."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if content_type.startswith("text/plain") and response.status_code in PLAIN_TEXT_ERRORS:
        return None
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), (
        f"{response.status_code} is not in the API's error style: {response.text[:300]}"
    )
    return None


def _bound(case: schemathesis.Case) -> None:
    if case.path.endswith("/clock/advance") and isinstance(case.body, dict):
        seconds = case.body.get("seconds")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > MAX_ADVANCE:
            case.body["seconds"] = MAX_ADVANCE


def _manual_clock() -> None:
    for world in APP.state.registry.worlds.values():
        assert isinstance(world, World)
        if world.clock.mode != "manual":
            world.clock = Clock(world.now, "manual", 1.0, world.wall)


# A quick run by default (every operation, one generated case each, no coverage phase: the README's
# test command stays short); the long run (test_openapi_fuzz_long.py, run by .ci/run) tries many more
# inputs per operation and every phase.
QUICK = 1
SETTINGS = settings(
    max_examples=QUICK,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
CHECKS = [not_a_server_error, response_schema_conformance, api_error_style]
RESET = {"method": "POST", "path": "/_emulator/reset"}


def _run(case: schemathesis.Case) -> None:
    _bound(case)
    try:
        case.call_and_validate(checks=CHECKS)
    finally:
        _manual_clock()


@quick.exclude(**RESET).parametrize()
@SETTINGS
def test_every_operation(case: schemathesis.Case) -> None:
    _run(case)


@quick.include(**RESET).parametrize()
@SETTINGS
def test_reset(case: schemathesis.Case) -> None:
    _run(case)


def test_the_document_covers_every_api() -> None:
    paths = set(APP.openapi()["paths"])
    for expected in ("/code/data/ticker.php", "/indices/{market}/ticker/{symbol}", "/_emulator/clock/advance"):
        assert expected in paths


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

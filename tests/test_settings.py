"""Settings: what `serve` takes as flags, also as EMULATOR_* environment variables."""

import gc

import pytest
from pydantic import ValidationError

from emulator.cli import main
from emulator.settings import Settings


def test_environment_fills_what_was_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMULATOR_SEED", "42")
    monkeypatch.setenv("emulator_clock", "manual")  # any case, as pydantic-settings read them
    monkeypatch.setenv("EMULATOR_FLOW", "false")
    monkeypatch.setenv("EMULATOR_SOAK", "full")  # not a setting: ignored
    settings = Settings(seed=7)
    assert settings.seed == 7, "a given value wins over the environment"
    assert settings.clock == "manual" and settings.flow is False
    assert Settings().seed == 42


def test_a_bad_environment_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMULATOR_SPEED", "-3")
    with pytest.raises(ValidationError):
        Settings()


def test_serve_names_the_bad_setting_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EMULATOR_MAX_TENANTS", "0")
    assert main(["serve", "--start", "yesterday"]) == 2
    err = capsys.readouterr().err
    assert "start (--start or EMULATOR_START)" in err and "ISO 8601" in err
    assert "max_tenants (EMULATOR_MAX_TENANTS)" in err
    assert "Traceback" not in err
    assert gc.isenabled(), "a refused start leaves the collector as it found it"

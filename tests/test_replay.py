"""`replay` writes the same bytes for the same scenario and seed, and other bytes for another seed."""

import json
from pathlib import Path

import pytest

from emulator.cli import main
from tests.market.test_scenarios import SHIPPED


def replay(tmp_path: Path, scenario: str, seed: int | None, name: str) -> bytes:
    out = tmp_path / name
    args = ["replay", scenario, "--until", "40s", "--out", str(out)]
    assert main(args + (["--seed", str(seed)] if seed is not None else [])) == 0
    return out.read_bytes()


QUICK = ("steady", "flash-crash-2011-06-19")  # by default; every other shipped scenario under `long`


@pytest.mark.parametrize(
    "scenario", [pytest.param(name, marks=() if name in QUICK else pytest.mark.long) for name in SHIPPED]
)
def test_replay_is_byte_identical_and_seed_sensitive(tmp_path: Path, scenario: str) -> None:
    first = replay(tmp_path, scenario, None, "a.jsonl")
    assert first == replay(tmp_path, scenario, None, "b.jsonl")
    assert first != replay(tmp_path, scenario, 424242, "c.jsonl")
    lines = [json.loads(line) for line in first.decode().splitlines()]
    kinds = {(line["api"], line["channel"]) for line in lines}
    assert ("mtgox", "trade") in kinds or scenario == "thin-book"
    assert {("mtgox", "depth"), ("mtgox", "ticker"), ("bitcoinaverage", "websocket/ticker:local")} <= kinds
    times = [line["t"] for line in lines]
    assert times == sorted(times)


def test_validate_scenario_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntimeline:\n  - at: later\n    flow: false\n")
    assert main(["validate-scenario", str(bad)]) == 1
    assert f"{bad}:3: timeline.0.at" in capsys.readouterr().err
    assert main(["validate-scenario", "steady", "flash-crash-2011-06-19"]) == 0


def test_replay_rejects_unknown_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "nonesuch"]) == 2
    assert "no scenario 'nonesuch'" in capsys.readouterr().err

"""The container files: the health checks wait for /_emulator/ready (a seeded world, not merely a live
process), and the build context leaves out the virtual environments CI and developers make."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from emulator.testing import RunningEmulator

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_healthcheck() -> list[str]:
    text = ROOT.joinpath("Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", text, re.MULTILINE)
    assert match, "the image has a HEALTHCHECK in exec form"
    command: list[str] = json.loads(match.group(1))
    return command


def compose_healthcheck() -> list[str]:
    compose = yaml.safe_load(ROOT.joinpath("docker-compose.example.yml").read_text())
    test: list[str] = compose["services"]["emulator"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert compose["services"]["client"]["depends_on"]["emulator"]["condition"] == "service_healthy"
    return test[1:]


def test_both_health_checks_pass_against_a_ready_emulator(emulator_server: RunningEmulator) -> None:
    for command in (dockerfile_healthcheck(), compose_healthcheck()):
        assert command[0] == "python"
        assert "/_emulator/ready" in command[-1], command
        local = [sys.executable, *(part.replace(":8000/", f":{emulator_server.port}/") for part in command[1:])]
        assert subprocess.run(local, capture_output=True, timeout=30).returncode == 0, shlex.join(local)


def test_the_build_context_leaves_out_virtual_environments() -> None:
    ignored = ROOT.joinpath(".dockerignore").read_text().split()
    assert {".ci-venv", ".venv", ".git"} <= {entry.rstrip("/") for entry in ignored}

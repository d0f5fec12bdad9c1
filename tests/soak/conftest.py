"""Load and soak tests: bounded, loopback only. Each runs at a quick size by default and at the full
size under the `long` marker (deselected by default; `pytest -m long`, which .ci/run runs too).
Their servers come from the one harness, `emulator.testing` (RunningEmulator, EmulatorProcess)."""

import pytest


@pytest.fixture(params=[pytest.param("quick"), pytest.param("full", marks=pytest.mark.long)])
def soak_size(request: pytest.FixtureRequest) -> str:
    """`quick` (a check that the path works, in seconds) or `full` (the issue's sizes, minutes)."""
    return str(request.param)


def size(which: str, quick: float, full: float) -> float:
    return full if which == "full" else quick


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")

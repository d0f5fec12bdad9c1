"""The command line as a user meets it: ordinary mistakes are one line and exit status 2, and Ctrl-C
at any moment of `serve` (start-up included) ends it gracefully and quietly with exit status 0."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator import __version__
from emulator.testing import EmulatorProcess

COMMAND = [sys.executable, "-m", "emulator"]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["serve", "--scenario", "nosuch"], {}, ["--scenario", "nosuch", "steady"]),
        (["serve"], {"EMULATOR_SCENARIO": "nosuch"}, ["EMULATOR_SCENARIO", "nosuch", "flash-crash-2011-06-19"]),
        (["serve", "--log-level", "loud"], {}, ["--log-level", "loud", "warning"]),
        (["serve", "--host", "999.1.1.1"], {}, ["999.1.1.1", "--host", "127.0.0.1"]),
        (["serve", "--port", "70000"], {}, ["--port", "65535"]),
        (["serve", "--clock", "sideways"], {}, ["--clock", "manual"]),
        (["replay", "steady", "--out", "/nonexistent/dir/x.jsonl"], {}, ["--out", "/nonexistent/dir", "create it"]),
        (["replay", "nosuch"], {}, ["nosuch", "steady"]),
        (["replay", "steady", "--until", "forever"], {}, ["--until", "forever"]),
    ],
)
def test_ordinary_mistakes_are_one_line_naming_the_setting(
    args: list[str], env: dict[str, str], words: list[str]
) -> None:
    one_line_error(run(*args, env=env), *words)


def test_a_broken_scenario_file_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ntimeline:\n  - at: soon\n    flow: maybe\n")
    line = one_line_error(run("serve", "--scenario", str(broken)), "--scenario", f"{broken}:3", "timeline.0.at")
    assert f"{broken}:4" in line, "every problem, each with its line, on the one line"


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_line_error(run("serve", "--port", str(port)), f"port {port}", "in use", "--port")


def test_version_and_help() -> None:
    version = run("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"btc-market-emulator {__version__}")
    shown = run("serve", "--help")
    assert shown.returncode == 0
    shipped = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
    assert len(shipped) >= 7
    listed = " ".join(shown.stdout.split())  # argparse wraps the epilog
    assert "shipped scenarios" in listed and all(name in listed for name in shipped)
    assert "--state" in listed and "EMULATOR_STATE" in listed


def interrupted(served: EmulatorProcess, sig: signal.Signals = signal.SIGINT) -> tuple[int, str]:
    """Ctrl-C (or `sig`): the exit status and what the server wrote to stderr."""
    status = served.stop(timeout=20, sig=sig)  # killed after 20 s: a status that is not 0
    return status, served.stderr


# From just after the interpreter has started (before that Python itself answers Ctrl-C) through
# reading the command line, the imports, building the app and the world, to binding the port.
# (Not earlier than 0.15 s: before the interpreter runs any of the project's code, on a loaded
# machine up to ~0.1 s, Python's own default answers Ctrl-C.)
@pytest.mark.parametrize("delay", [0.15, 0.3, 0.5])
def test_ctrl_c_during_start_up_ends_quietly_with_status_0(delay: float) -> None:
    served = EmulatorProcess("--clock", "manual")
    served.start(ready=False)
    time.sleep(delay)  # a moment of the process's own start-up, not of the market: no clock involved
    assert interrupted(served) == (0, ""), served.stdout


def test_ctrl_c_once_serving_shuts_down_gracefully_and_quietly() -> None:
    served = EmulatorProcess("--clock", "manual")
    served.start()  # once the banner's first line is printed: the port is bound
    assert served.stdout.startswith("btc-market-emulator listening on 127.0.0.1:")
    assert interrupted(served) == (0, "")


def test_sigterm_shuts_down_gracefully_too() -> None:
    served = EmulatorProcess("--clock", "manual")
    served.start()
    assert interrupted(served, signal.SIGTERM) == (0, "")

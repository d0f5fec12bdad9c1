"""Without Chromium the browser tests skip, saying what to install; under EMULATOR_REQUIRE_BROWSER=1
(as .ci/run sets it) they fail instead, so CI never passes by skipping them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TEST = "tests/clients/test_docs_pages.py::test_swagger_ui_and_redoc_render_from_the_emulator_alone"


def run_without_chromium(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "EMULATOR_REQUIRE_BROWSER"}
    environment.update(EMULATOR_CHROMIUM="/nonexistent/chromium", **env)
    command = [sys.executable, "-m", "pytest", "-q", "-rsf", "-n", "0", "-p", "no:cacheprovider", BROWSER_TEST]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def test_a_missing_browser_skips_with_the_reason_and_the_install_command() -> None:
    result = run_without_chromium()
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "/nonexistent/chromium" in result.stdout and "apt-get install chromium chromium-driver" in result.stdout


def test_under_emulator_require_browser_a_missing_browser_fails() -> None:
    result = run_without_chromium(EMULATOR_REQUIRE_BROWSER="1")
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout, "the fixture fails: an error, never a skip or a pass"
    assert "EMULATOR_REQUIRE_BROWSER is set, so this fails instead of skipping" in result.stdout

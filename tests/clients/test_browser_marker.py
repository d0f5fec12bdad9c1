"""Without Chromium the browser tests skip, saying what to install; under EMULATOR_REQUIRE_BROWSER=1
(as .ci/run sets it) they fail instead, so CI never passes by skipping them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TEST = "tests/clients/test_docs_pages.py::test_swagger_ui_and_redoc_render_from_the_emulator_alone"


def without_chromium(**env: str) -> subprocess.Popen[str]:
    """pytest on one browser test, in a child process that sees no Chromium."""
    environment = {k: v for k, v in os.environ.items() if k != "EMULATOR_REQUIRE_BROWSER"}
    environment.update(EMULATOR_CHROMIUM="/nonexistent/chromium", **env)
    # the project's addopts (workers, the test extras' plugins) left out: seconds of start-up, nothing
    # this run looks at; the emulator's plugin serves the test's `emulator_server`
    alone = ("-o", "addopts=", "--disable-plugin-autoload", "-p", "emulator.testing", "-p", "no:cacheprovider")
    command = [sys.executable, "-m", "pytest", "-q", "-rsfE", *alone, BROWSER_TEST]
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True)


def test_a_missing_browser_skips_with_the_install_command_or_fails_when_required() -> None:
    optional, required = without_chromium(), without_chromium(EMULATOR_REQUIRE_BROWSER="1")  # side by side
    skipped, _ = optional.communicate(timeout=120)
    failed, _ = required.communicate(timeout=120)

    assert optional.returncode == 0, skipped
    assert "1 skipped" in skipped
    assert "/nonexistent/chromium" in skipped and "apt-get install chromium chromium-driver" in skipped

    assert required.returncode == 1, failed
    assert "1 error" in failed, "the fixture fails: an error, never a skip or a pass"
    assert "EMULATOR_REQUIRE_BROWSER is set, so this fails instead of skipping" in failed

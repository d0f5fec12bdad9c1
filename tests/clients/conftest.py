"""Headless Chromium for the tests marked `browser` (Debian's `chromium` and `chromium-driver`, driven
by Selenium; nothing is downloaded).

Without Chromium these tests are skipped, saying why and what to install, so that the README's test
command passes on a machine without a browser. Under EMULATOR_REQUIRE_BROWSER=1 (set by .ci/run,
which installs Chromium) a missing browser fails them instead: CI never passes by skipping them.
"""

import os
import tempfile
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("EMULATOR_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EMULATOR_CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRE = os.environ.get("EMULATOR_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes")
INSTALL = "apt-get install chromium chromium-driver"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        import selenium  # noqa: F401  (a test extra; without it there is no driver either)
    except ImportError:
        absent.append("the selenium package")
    if not absent:
        return None
    return f"headless Chromium is missing ({', '.join(absent)}): {INSTALL} (and pip install -e '.[test]')"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    why = missing_browser()
    if why is not None:
        if REQUIRE:
            pytest.fail(f"{why}; EMULATOR_REQUIRE_BROWSER is set, so this fails instead of skipping", pytrace=False)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not fetch a browser or a driver
    with tempfile.TemporaryDirectory(prefix="emulator-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1600,1500",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()

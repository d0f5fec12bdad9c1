"""The dashboard end to end in headless Chromium (Debian's `chromium` and `chromium-driver`, driven by
Selenium; nothing is downloaded): the page loads, the book and the tape move when its own advance
button plays market time, starting the flash-crash scenario from the page makes the price fall, and
losing the server shows clearly. The screenshot is saved as artifacts/dashboard.png.

Marked `browser`: skipped without Chromium, failed instead under EMULATOR_REQUIRE_BROWSER=1 (.ci/run
installs Chromium and sets it); see tests/clients/conftest.py.
"""

from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from emulator.app import create_app
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.conftest import START, START_TEXT

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TENANT = "dashboard-e2e"
WAIT = 30  # seconds for the browser to show what the emulator already did
pytestmark = pytest.mark.browser


def text(driver: WebDriver, css: str) -> str:
    try:
        return str(driver.find_element(By.CSS_SELECTOR, css).text)
    except StaleElementReferenceException:  # redrawn between find and read: read again next poll
        return ""


def number(driver: WebDriver, css: str) -> float | None:
    try:
        return float(text(driver, css))
    except ValueError:
        return None


def first_tid(driver: WebDriver) -> str | None:
    rows = driver.find_elements(By.CSS_SELECTOR, "#tape tbody tr")
    try:
        return str(rows[0].get_attribute("data-tid")) if rows else None
    except StaleElementReferenceException:
        return None


def book(driver: WebDriver) -> str:
    return text(driver, "#book tbody")


def optional_404(message: str) -> bool:
    return "404" in message and ("/_emulator/faults" in message or "/_emulator/journal" in message)


def advance(driver: WebDriver, seconds: int) -> None:
    field = driver.find_element(By.ID, "advance-seconds")
    field.clear()
    field.send_keys(str(seconds))
    driver.find_element(By.ID, "advance").click()


def test_dashboard_follows_the_market_and_steers_it(browser: webdriver.Chrome) -> None:
    app = create_app(Settings(seed=1, clock="manual", start=START_TEXT))
    wait = WebDriverWait(browser, WAIT, poll_frequency=0.05)
    with RunningEmulator(app=app) as served:
        base = served.url
        browser.get(f"{base}/_t/{TENANT}/_emulator/ui")
        assert browser.title == "btc-market-emulator dashboard"

        # the page is fed: websocket live, book, tape (the trades before the start), ticker, indices
        wait.until(lambda d: "live" in text(d, "#pill-feed"))
        wait.until(lambda d: text(d, "#clock-now") == "2011-07-10 00:00:00Z")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tape tbody tr")) >= 20)
        wait.until(lambda d: len(book(d).splitlines()) == 14 and (number(d, "#ticker-last") or 0) > 1)
        wait.until(lambda d: "BTCUSD" in text(d, "#indices") and "Bitstamp" in text(d, "#exchanges"))
        wait.until(lambda d: "ignored" in text(d, "#exchanges") and "inactive" in text(d, "#exchanges"))
        wait.until(lambda d: "1 here" in text(d, "#sockets-count").lower(), "the page's own socket is counted")
        assert browser.find_element(By.ID, "banner").is_displayed() is False

        # a minute of market time from the page's own control: new trades on the tape, a new book
        tid, levels = first_tid(browser), book(browser)
        advance(browser, 60)
        wait.until(lambda d: text(d, "#clock-now") == "2011-07-10 00:01:00Z")
        wait.until(lambda d: first_tid(d) not in (None, tid))
        wait.until(lambda d: book(d) != levels)
        assert int(first_tid(browser) or 0) >= START, "a live trade (tid: its microsecond time) tops the tape"

        # the flash crash, started from the page: the world resets to 17.50 on 2011-06-19 ...
        Select(browser.find_element(By.ID, "scenario-select")).select_by_value("flash-crash-2011-06-19")
        browser.find_element(By.ID, "scenario-start").click()
        wait.until(lambda d: "flash-crash-2011-06-19" in text(d, "#scenario-status"))
        wait.until(lambda d: text(d, "#clock-now") == "2011-06-19 17:00:00Z")
        wait.until(lambda d: "live" in text(d, "#pill-feed") and 16 < (number(d, "#ticker-last") or 0) < 19)
        before = number(browser, "#ticker-last")
        assert before is not None

        # ... and 55 minutes later the dump has driven the price to a cent
        advance(browser, 55 * 60)
        wait.until(lambda d: text(d, "#clock-now") == "2011-06-19 17:55:00Z")
        wait.until(lambda d: (number(d, "#ticker-last") or before) < 0.1)
        wait.until(lambda d: "steps done 3 of 4" in text(d, "#scenario-status"))
        wait.until(lambda d: "0.0100" in text(d, "#tape"))
        # BitcoinAverage sees it too: Mt.Gox at a cent, marked as an outlier
        wait.until(lambda d: any("Mt.Gox 0.01 " in r and "outlier" in r for r in text(d, "#exchanges").splitlines()))

        ARTIFACTS.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))

        # no script errors and no failed requests (but a 404 from an emulator without fault or journal routes)
        logs: list[dict[str, Any]] = browser.get_log("browser")  # type: ignore[no-untyped-call]
        severe = [e for e in logs if e["level"] == "SEVERE" and not optional_404(e["message"])]
        assert severe == [], severe

    # the server is gone: the page says so, in a banner that cannot be missed
    wait.until(lambda d: d.find_element(By.ID, "banner").is_displayed())
    wait.until(lambda d: "closed" in text(d, "#banner") or "Connection lost" in text(d, "#banner"))
    assert "live" not in text(browser, "#pill-feed")


def test_the_page_shows_the_running_scenario_and_fits_1400_pixels(browser: webdriver.Chrome) -> None:
    """Opened while flash-crash runs, the selector shows flash-crash (not the first in the list), and at
    1400 px wide no cell of the indices table is cut, its `global` column included."""
    import httpx

    app = create_app(Settings(seed=1, clock="manual", start=START_TEXT))
    wait = WebDriverWait(browser, WAIT, poll_frequency=0.05)
    browser.set_window_size(1400, 1000)
    with RunningEmulator(app=app) as served:
        base = served.url
        started = httpx.post(f"{base}/_t/{TENANT}/_emulator/scenario", json={"name": "flash-crash-2011-06-19"})
        assert started.status_code == 200
        browser.get(f"{base}/_t/{TENANT}/_emulator/ui")
        wait.until(lambda d: "flash-crash-2011-06-19" in text(d, "#scenario-status"))
        select = Select(browser.find_element(By.ID, "scenario-select"))
        wait.until(lambda d: len(select.options) >= 7)
        wait.until(lambda d: select.first_selected_option.get_attribute("value") == "flash-crash-2011-06-19")
        assert browser.execute_script("return window.innerWidth") <= 1400

        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#indices tbody tr")) >= 3)
        cut = browser.execute_script(
            """
            const table = document.getElementById('indices');
            const card = table.closest('section').getBoundingClientRect();
            return [...table.querySelectorAll('th, td')]
              .filter(c => c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > card.right + 0.5)
              .map(c => c.textContent);
            """
        )
        assert cut == [], cut

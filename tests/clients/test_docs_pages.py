"""/docs and /redoc work offline: the pages, their scripts and styles all come from the emulator itself
(the bundles of the installed fastapi-offline package), nothing from a CDN; in Chromium they render."""

import re

import httpx
import pytest

from emulator.testing import RunningEmulator

URL_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*['"]([^'"]+)['"]""")


def test_the_doc_pages_refer_only_to_the_emulator(emulator_server: RunningEmulator) -> None:
    base = emulator_server.url  # the session's server: the pages are the same for every tenant
    for page in ("/docs", "/redoc"):
        html = httpx.get(base + page).text
        assert "cdn" not in html.lower() and "fonts.googleapis" not in html
        referred = [a or b for a, b in URL_ATTRIBUTE.findall(html)]
        assert referred, page
        assert all(url.startswith("/") and not url.startswith("//") for url in referred), referred
        for url in referred:
            if url.startswith("/docs/assets/"):
                asset = httpx.get(base + url)
                assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert httpx.get(base + "/docs/assets/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    assert httpx.get(base + "/docs/assets/..%2Fcore.py").status_code == 404


@pytest.mark.browser
def test_swagger_ui_and_redoc_render_from_the_emulator_alone(browser: object, emulator_server: RunningEmulator) -> None:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    base = emulator_server.url  # the session's server: the pages are the same for every tenant
    wait = WebDriverWait(browser, 30, poll_frequency=0.1)
    browser.get(base + "/docs")
    # counted and read in the page: Selenium's `.text` of these pages lays them out anew at every poll
    # (seconds each), which slowed the rendering it waited for
    wait.until(lambda d: d.execute_script("return document.querySelectorAll('.opblock').length") > 50)
    assert "data/ticker.php" in browser.execute_script("return document.getElementById('swagger-ui').textContent")
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(base) for url in loaded), loaded

    browser.get(base + "/redoc")
    wait.until(lambda d: d.execute_script("return document.body.textContent.includes('constants/symbols')"))
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert f"{base}/docs/assets/redoc.standalone.js" in loaded and f"{base}/openapi.json" in loaded
    # ReDoc's own logo is on Redocly's CDN: the page's policy stops the browser before it asks
    blocked = " ".join(e["message"] for e in browser.get_log("browser") if "has been blocked" in e["message"])
    offsite = [url for url in loaded if not url.startswith(base)]
    assert all(url in blocked and "Content Security Policy" in blocked for url in offsite), (offsite, blocked)

"""The pytest plugin in a virtual environment with only `pip install . pytest`: no httpx, no extras."""

import importlib.util
import json
import urllib.request


def test_httpx_is_not_installed() -> None:
    assert importlib.util.find_spec("httpx") is None


def test_the_emulator_fixture(emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.account("amy", "pw", {"BTC": "2"})
    assert emulator.advance(10)["now"] == "2011-07-10T00:00:10Z"
    with urllib.request.urlopen(emulator.mtgox_url + "getFunds.php?name=amy&pass=pw") as answer:
        assert json.load(answer)["btcs"] == 2

"""Every HTTP URL `serve` prints answers: the API bases give an index of their methods and routes, in
the API's own style, and every method an index lists is really there."""

import re

import httpx

from emulator.app import create_app
from emulator.cli import banner
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.apis.bitcoinaverage.conftest import KEYS
from tests.conftest import START_TEXT

ENTERPRISE = {"x-ba-key": KEYS["enterprise"][0]}


def test_every_url_serve_prints_answers_and_the_indexes_list_what_is_there() -> None:
    settings = Settings(clock="manual", start=START_TEXT)
    with RunningEmulator(app=create_app(settings)) as served, httpx.Client(base_url=served.url) as http:
        base = served.url
        port = int(base.rsplit(":", 1)[1])
        printed = re.findall(r"http://[^\s)]+", banner(settings, port, 1))
        assert len(printed) >= 6
        for url in printed:
            assert http.get(url).status_code == 200, url

        for prefix in ("/code/", "/api/0/"):
            index = http.get(prefix).json()
            assert index == http.post(prefix).json(), "GET or POST, as every MtGox method"
            methods = {m["method"]: m for m in index["methods"]}
            assert {"data/ticker.php", "getFunds.php", "buyBTC.php", "login.php"} <= set(methods)
            assert ("ticker.php" in methods) == (prefix == "/code/"), "the old alias lives under /code/ only"
            assert methods["getFunds.php"]["auth"] and not methods["data/getDepth.php"]["auth"]
            assert "amount" in methods["buyBTC.php"]["params"]
            for method in methods.values():
                answer = http.post(method["url"]).text
                assert "Unknown method" not in answer, method

        index = http.get("/indices/").json()
        assert index["success"] is True
        paths = {route["path"] for route in index["routes"]}
        assert {"/indices/{market}/ticker/{symbol}", "/constants/symbols", "/exchanges/{name}"} <= paths
        assert "/websocket/v2/ticker" in index["websockets"]
        for path in paths:
            if "{" not in path and "get_ticket" not in path:
                assert http.get(path, headers=ENTERPRISE).status_code == 200, path

        control = http.get("/_emulator/").json()["routes"]
        listed = {(r["method"], r["path"]) for r in control}
        assert {("POST", "/_emulator/reset"), ("POST", "/_emulator/state/save"), ("GET", "/_emulator/ready")} <= listed
        assert all(r["summary"] for r in control)


def test_the_control_index_lists_only_what_this_server_has() -> None:
    with RunningEmulator(app=create_app(Settings(clock="manual", admin=False))) as served:
        base = served.url
        listed = {r["path"] for r in httpx.get(base + "/_emulator/").json()["routes"]}
    assert listed == {"/_emulator/health", "/_emulator/ready"}

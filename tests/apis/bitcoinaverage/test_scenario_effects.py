"""Scenarios reach BitcoinAverage: exchange outages and the opening price level."""

from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import START_TEXT

DEVELOPER = {"x-ba-key": "DeveloperDemoPublicKey00000000000000000000"}


def names(client: TestClient, path: str) -> set[str]:
    return {e["name"] for e in client.get(path).json()}


def test_an_exchange_outage_shows_in_the_lists_counts_and_index() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, scenario="exchange-outage"))
    with TestClient(app) as client:
        before = client.get("/exchanges/count").json()
        assert "bitstamp" not in names(client, "/exchanges/inactive")
        assert "bitstamp" in client.get("/exchanges/all", headers={"x-ba-key": _enterprise()}).text
        client.post("/_emulator/clock/advance", json={"seconds": 6 * 60 + 1})
        during = client.get("/exchanges/count").json()
        assert {"bitstamp", "kraken"} <= names(client, "/exchanges/inactive")
        assert during["inactive"] == before["inactive"] + 2 and during["included"] == before["included"] - 2
        assert during["count"] == during["included"] + during["ignored"] + during["inactive"]
        listed = client.get("/exchanges/all", headers={"x-ba-key": _enterprise()}).json()
        assert "bitstamp" not in {e["name"] for e in listed}
        frozen = client.get("/exchanges/bitstamp", headers=DEVELOPER).json()
        client.post("/_emulator/clock/advance", json={"seconds": 120})
        assert client.get("/exchanges/bitstamp", headers=DEVELOPER).json()["symbols"] == frozen["symbols"], (
            "an inactive exchange stops updating"
        )
        client.post("/_emulator/clock/advance", json={"seconds": 25 * 60})
        assert "bitstamp" not in names(client, "/exchanges/inactive")
        assert client.get("/exchanges/count").json()["inactive"] == before["inactive"]


def test_bitcoinaverage_btc_level_follows_the_scenario_opening_price() -> None:
    app = create_app(Settings(clock="manual", scenario="flash-crash-2011-06-19"))
    with TestClient(app) as client:
        last = client.get("/indices/local/ticker/BTCUSD").json()["last"]
        assert 16.5 < last < 18.5


def _enterprise() -> str:
    return "EnterpriseDemoPublicKey0000000000000000000"

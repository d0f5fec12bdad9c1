"""The two fault scenarios do to clients what their headers promise."""

from collections import Counter

from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import START_TEXT

ALICE = {"name": "alice", "pass": "alice-pass"}


def test_rate_limit_storm_refuses_about_half_of_bitcoinaverage_and_a_third_of_mtgox() -> None:
    app = create_app(Settings(clock="manual", start=START_TEXT, scenario="rate-limit-storm"))
    with TestClient(app) as client:
        assert client.get("/indices/local/ticker/BTCUSD").status_code == 200
        client.post("/_emulator/clock/advance", json={"seconds": 2 * 60 + 1})
        average = Counter(client.get("/indices/local/ticker/BTCUSD").status_code for _ in range(60))
        assert 15 <= average[429] <= 45 and average[429] + average[200] == 60
        refused = client.get("/constants/time")
        while refused.status_code != 429:
            refused = client.get("/constants/time")
        assert refused.json()["success"] is False and int(refused.headers["retry-after"]) > 0
        mtgox = [client.get("/code/data/ticker.php").json() for _ in range(60)]
        limited = [answer for answer in mtgox if "error" in answer]
        assert 8 <= len(limited) <= 35 and len(mtgox) - len(limited) >= 20
        client.post("/_emulator/clock/advance", json={"seconds": 181})
        assert all(client.get("/indices/local/ticker/BTCUSD").status_code == 200 for _ in range(20)), "storm over"


def test_maintenance_503_throws_mysql_errors_then_503s_both_apis_for_ten_minutes() -> None:
    app = create_app(Settings(clock="manual", start=START_TEXT, scenario="maintenance-503"))
    with TestClient(app) as client:
        client.post("/_emulator/clock/advance", json={"seconds": 4 * 60 + 1})
        answers = [client.get("/code/data/ticker.php") for _ in range(40)]
        plain = [a for a in answers if a.text == "MySQL error, please retry later"]
        assert plain and all(a.status_code == 200 for a in answers)
        assert plain[0].headers["content-type"].startswith("text/plain")
        client.post("/_emulator/clock/advance", json={"seconds": 61})
        assert client.get("/code/data/ticker.php").status_code == 503
        down = client.get("/indices/local/ticker/BTCUSD")
        assert down.status_code == 503 and down.json()["success"] is False
        assert client.get("/_emulator/clock").status_code == 200, "the control plane is never faulted"
        client.post("/_emulator/clock/advance", json={"seconds": 600})
        assert client.get("/code/data/ticker.php").status_code == 200
        assert client.get("/indices/local/ticker/BTCUSD").status_code == 200

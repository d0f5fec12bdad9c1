"""Who may call private methods: name/pass, Rest-Key/Rest-Sign with a growing nonce, the session cookie."""

import base64
import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import urlencode

from starlette.testclient import TestClient

from tests.apis.mtgox.helpers import ALICE

KEY = "0b5d3f6e-7a3c-4c57-9d3e-2a1f8b6c4e01"
SECRET = json.loads(Path("fixtures/accounts.json").read_text())["users"][0]["mtgox_keys"][0]["secret"]


def signed(client: TestClient, path: str, fields: dict[str, str], secret: str = SECRET, key: str = KEY) -> dict:  # type: ignore[type-arg]
    body = urlencode(fields).encode()
    sign = base64.b64encode(hmac.new(base64.b64decode(secret), body, hashlib.sha512).digest()).decode()
    headers = {"Rest-Key": key, "Rest-Sign": sign, "Content-Type": "application/x-www-form-urlencoded"}
    answer: dict = client.post(path, content=body, headers=headers).json()  # type: ignore[type-arg]
    return answer


def test_private_methods_need_credentials(quiet: TestClient) -> None:
    for path in ("getFunds.php", "getOrders.php", "buyBTC.php", "info.php", "btcAddress.php", "withdraw.php"):
        assert quiet.post(f"/code/{path}").json() == {"error": "Not logged in."}
        assert quiet.post(f"/api/0/{path}", data={"name": "alice", "pass": "nope"}).json() == {
            "error": "Not logged in."
        }


def test_user_names_are_case_insensitive(quiet: TestClient) -> None:
    assert quiet.post("/code/getFunds.php", data={"name": "AlIcE", "pass": "alice-pass"}).json()["btcs"] == 100


def test_rest_key_with_increasing_nonce(quiet: TestClient) -> None:
    assert signed(quiet, "/api/0/getFunds.php", {"nonce": "1000"}) == {"usds": 5000, "btcs": 100}
    assert signed(quiet, "/code/getFunds.php", {"nonce": "1001"})["btcs"] == 100, "accepted under /code/ too"
    stale = signed(quiet, "/api/0/getFunds.php", {"nonce": "1001"})
    assert stale == {"error": "Invalid nonce: must be greater than 1001."}
    assert "error" in signed(quiet, "/api/0/getFunds.php", {})


def test_bad_signatures_change_nothing(quiet: TestClient) -> None:
    wrong_secret = base64.b64encode(b"not the secret").decode()
    assert signed(quiet, "/api/0/getFunds.php", {"nonce": "5"}, secret=wrong_secret) == {"error": "Invalid signature."}
    assert signed(quiet, "/api/0/getFunds.php", {"nonce": "5"}, key="no-such-key") == {"error": "Unknown API key."}
    garbage = quiet.post(
        "/api/0/getFunds.php", content=b"nonce=5", headers={"Rest-Key": KEY, "Rest-Sign": "%%%not base64"}
    ).json()
    assert "error" in garbage
    # the failed attempts did not consume nonce 5
    assert signed(quiet, "/api/0/getFunds.php", {"nonce": "5"})["btcs"] == 100
    placed = signed(quiet, "/api/0/buyBTC.php", {"nonce": "6", "amount": "1", "price": "1"}, secret=wrong_secret)
    assert placed == {"error": "Invalid signature."}
    assert quiet.post("/code/getOrders.php", data=ALICE).json()["orders"] == []


def test_login_cookie_authenticates(quiet: TestClient) -> None:
    assert quiet.post("/code/login.php", data={"name": "alice", "pass": "bad"}).json() == {
        "error": "Bad username or password."
    }
    answer = quiet.post("/code/login.php", data={"name": "ALICE", "pass": "alice-pass"})
    assert answer.json() == {"status": "Logged in.", "user": "alice"}
    assert "mtgox_session" in answer.cookies
    assert quiet.get("/code/getFunds.php").json() == {"usds": 5000, "btcs": 100}
    quiet.cookies.clear()
    assert quiet.get("/code/getFunds.php").json() == {"error": "Not logged in."}


def test_accounts_and_keys_made_through_the_control_api_work(quiet: TestClient) -> None:
    quiet.post("/_emulator/accounts", json={"name": "dave", "password": "pw", "balances": {"USD": "100"}})
    assert quiet.post("/code/getFunds.php", data={"name": "dave", "pass": "pw"}).json() == {"usds": 100, "btcs": 0}
    key = quiet.post("/_emulator/keys", json={"api": "mtgox", "account": "dave"}).json()
    assert signed(quiet, "/api/0/getFunds.php", {"nonce": "1"}, secret=key["secret"], key=key["key"])["usds"] == 100

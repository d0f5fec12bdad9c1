"""Spec §2: signatures against both clocks, the key header, the plan matrix and rate limits."""

import time

import pytest
from starlette.testclient import TestClient

from tests.apis.bitcoinaverage.conftest import KEYS, advance, get, signature
from tests.conftest import START, default_world

JSON_BODY = {"content-type": "application/json"}

WORLD_NOW = START // 1_000_000  # the world lives in 2011, far from the wall clock
GLOBAL = "/indices/global/ticker/BTCUSD"  # developer and above


def signed(client: TestClient, header: str, value: str, path: str = GLOBAL, **extra: str) -> int:
    return client.get(path, headers={header: value, **extra}).status_code


def wall() -> int:
    return int(time.time())


def test_a_valid_signature_passes_with_either_clock(client: TestClient) -> None:
    assert wall() - 10 * 365 * 86400 > WORLD_NOW
    assert signed(client, "X-Signature", signature("developer", wall())) == 200
    assert signed(client, "X-Signature", signature("developer", WORLD_NOW)) == 200


@pytest.mark.parametrize("clock", ["wall", "world"])
def test_the_15_second_window(client: TestClient, clock: str) -> None:
    frozen = wall()
    default_world(client).wall = lambda: frozen * 1_000_000  # the server's wall clock, held still
    now = frozen if clock == "wall" else WORLD_NOW
    assert signed(client, "X-Signature", signature("developer", now - 14)) == 200
    assert signed(client, "X-Signature", signature("developer", now + 14)) == 200
    stale = client.get(GLOBAL, headers={"X-Signature": signature("developer", now - 16)})
    assert stale.status_code == 401 and stale.json()["success"] is False
    assert signed(client, "X-Signature", signature("developer", now + 16)) == 401


def test_the_world_clock_window_follows_the_world(client: TestClient) -> None:
    advance(client, 3600)
    assert signed(client, "X-Signature", signature("developer", WORLD_NOW)) == 401
    assert signed(client, "X-Signature", signature("developer", WORLD_NOW + 3600 - 14)) == 200


def test_wrong_digest_unknown_key_and_bad_formats(client: TestClient) -> None:
    good = signature("developer", wall())
    stamp, public, digest = good.split(".")
    wrong = "0" if digest[0] != "0" else "1"
    assert signed(client, "X-Signature", f"{stamp}.{public}.{wrong}{digest[1:]}") == 401
    assert signed(client, "X-Signature", f"{stamp}.{public}.{digest[:-2]}") == 401
    other = signature("free", wall()).split(".")[2]
    assert signed(client, "X-Signature", f"{stamp}.{public}.{other}") == 401
    assert signed(client, "X-Signature", f"{stamp}.NoSuchKey.{digest}") == 401
    for garbage in ["", "abc", "..", f"{stamp}.{public}", f"x{stamp}.{public}.{digest}", "é.é.é".encode("latin-1")]:
        answer = client.get(GLOBAL, headers={"X-Signature": garbage})  # type: ignore[dict-item]
        assert answer.status_code == 401 and answer.json()["success"] is False, garbage


def test_a_decimal_timestamp_is_refused_with_a_message_saying_so(client: TestClient) -> None:
    answer = client.get(GLOBAL, headers={"X-Signature": signature("developer", f"{time.time():.6f}")})
    assert answer.status_code == 401
    assert "integer" in answer.json()["error"]


def test_upper_case_hex_and_any_header_name_case(client: TestClient) -> None:
    stamp, public, digest = signature("developer", wall()).split(".")
    assert signed(client, "X-Signature", f"{stamp}.{public}.{digest.upper()}") == 200
    for name in ("x-signature", "X-SIGNATURE", "x-Signature"):
        assert signed(client, name, signature("developer", wall())) == 200


def test_the_authentication_header_never_causes_a_rejection(client: TestClient) -> None:
    value = signature("developer", wall())
    assert signed(client, "X-Signature", value, Authentication="garbage!") == 200
    assert signed(client, "X-Signature", value, Authentication=f"b'{value}'") == 200
    assert signed(client, "X-Signature", value, authentication="Bearer nonsense") == 200
    anonymous = client.get("/constants/time", headers={"Authentication": "rubbish"})
    assert anonymous.status_code == 200


def test_the_key_header(client: TestClient) -> None:
    assert get(client, GLOBAL, "developer").status_code == 200
    assert client.get(GLOBAL, headers={"X-BA-KEY": KEYS["developer"][0]}).status_code == 200
    assert get(client, GLOBAL, "free").status_code == 403
    assert client.get(GLOBAL, headers={"x-ba-key": "unknown"}).status_code == 401


def test_the_key_header_can_be_switched_off(client: TestClient) -> None:
    from emulator.apis.bitcoinaverage.models import get_model
    from tests.conftest import default_world

    get_model(default_world(client)).key_header = False
    assert get(client, GLOBAL, "developer").status_code == 401
    assert signed(client, "X-Signature", signature("developer", wall())) == 200


def test_keys_made_by_the_control_api_work(client: TestClient) -> None:
    made = client.post("/_emulator/keys", json={"api": "bitcoinaverage", "plan": "business"}).json()
    headers = {"x-ba-key": made["public_key"]}
    assert client.get("/indices/ticker/custom/include/BTCUSD?exchanges=gdax", headers=headers).status_code == 200
    assert client.get("/exchanges/all", headers=headers).status_code == 403
    import hashlib
    import hmac

    stamp = str(wall())
    payload = f"{stamp}.{made['public_key']}"
    digest = hmac.new(made["secret_key"].encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert client.get("/weighting/currencies", headers={"X-Signature": f"{payload}.{digest}"}).status_code == 200


# -- the plan matrix -------------------------------------------------------------------------

MATRIX = [
    # path, lowest plan that may call it
    ("/constants/time", "anonymous"),
    ("/indices/local/ticker/BTCUSD", "anonymous"),
    ("/indices/local/ticker/short", "anonymous"),
    ("/indices/local/history/BTCUSD?period=daily", "anonymous"),
    ("/convert/local?from=BTC&to=USD", "anonymous"),
    ("/exchanges/count", "anonymous"),
    ("/exchanges/ignored", "anonymous"),
    ("/exchanges/inactive", "anonymous"),
    ("/websocket/get_ticket", "free"),
    ("/indices/global/ticker/BTCUSD", "developer"),
    ("/indices/local/history/BTCUSD?period=monthly", "developer"),
    ("/indices/local/history/BTCUSD", "developer"),
    ("/indices/global/history/BTCUSD?period=daily", "developer"),
    ("/convert/global?from=BTC&to=USD", "developer"),
    ("/exchanges/bitstamp", "developer"),
    ("/exchanges/outliers", "developer"),
    ("/weighting/exchanges", "developer"),
    ("/blockchain/tx_price/BTCUSD/8a3b4394ba811a9e2b0bbf3cc56888d053ea21909299b2703cdc35e156c860ff", "developer"),
    ("/indices/ticker/custom/include/BTCUSD?exchanges=gdax", "business"),
    ("/exchanges/all", "enterprise"),
    ("/exchanges/ticker/all", "enterprise"),
    ("/websocket/v2/get_ticket", "enterprise"),
]
PLANS = ["anonymous", "free", "developer", "business", "enterprise"]


def test_the_plan_matrix(client: TestClient) -> None:
    for path, lowest in MATRIX:
        for plan in PLANS:
            answer = get(client, path, None if plan == "anonymous" else plan)
            if PLANS.index(plan) >= PLANS.index(lowest):
                assert answer.status_code == 200, (path, plan, answer.text)
            else:
                assert answer.status_code == 403, (path, plan)
                assert answer.json() == {"success": False, "error": "Forbidden -- Higher level API Keys required"}


# -- rate limits -----------------------------------------------------------------------------


def test_the_anonymous_rate_limit_on_the_virtual_clock(client: TestClient) -> None:
    for _ in range(60):
        assert client.get("/constants/time").status_code == 200
    refused = client.get("/constants/time")
    assert refused.status_code == 429 and refused.reason_phrase == "Too Many Requests"
    assert refused.json()["success"] is False
    assert refused.headers["Retry-After"] == "60"
    advance(client, 45)
    again = client.get("/constants/time")
    assert again.status_code == 429 and again.headers["Retry-After"] == "15"
    assert get(client, "/constants/time", "free").status_code == 200, "a key has its own allowance"
    advance(client, 15)
    assert client.get("/constants/time").status_code == 200


def test_a_key_rate_limit_is_per_plan(client: TestClient) -> None:
    for _ in range(120):
        assert get(client, "/constants/time", "free").status_code == 200
    assert get(client, "/constants/time", "free").status_code == 429
    assert get(client, "/constants/time", "developer").status_code == 200
    advance(client, 60)
    assert get(client, "/constants/time", "free").status_code == 200


def test_rate_windows_and_tickets_are_world_state(client: TestClient) -> None:
    for _ in range(60):
        client.get("/constants/time")
    assert client.get("/constants/time").status_code == 429
    saved = client.get("/_emulator/state")
    assert saved.status_code == 200 and "bitcoinaverage" in saved.json()["models"]
    assert client.post("/_emulator/reset", json={"start": "2011-07-10T00:00:00Z"}).status_code == 200
    assert client.get("/constants/time").status_code == 200, "a reset clears the windows"
    assert client.post("/_emulator/state", content=saved.content, headers=JSON_BODY).status_code == 200
    assert client.get("/constants/time").status_code == 429, "a restore brings them back"

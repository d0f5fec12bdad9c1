"""Hostile input to every MtGox method: always HTTP 200 JSON in MtGox's style, never a server error,
and nothing changes unless a call succeeded."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.apis.mtgox.routes import METHODS
from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import START_TEXT

APP = create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False))
CLIENT = TestClient(APP)  # no lifespan needed: worlds are made on first use
FIELDS = ["amount", "price", "oid", "type", "since", "Currency", "btca", "group1", "nonce", "name", "pass"]
nasty = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["NaN", "-Infinity", "1e999", "-0", "0x1f", "1_000", "١٢٣", "0." + "0" * 40 + "1", "9" * 400]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
params = st.dictionaries(st.sampled_from(FIELDS), nasty, max_size=6)


INPUTS = {
    "path": st.sampled_from(sorted(METHODS)),
    "prefix": st.sampled_from(["/code/", "/api/0/"]),
    "fields": params,
    "logged_in": st.booleans(),
    "verb": st.sampled_from(["GET", "POST", "MULTIPART"]),
}


def no_input_breaks_a_method(path: str, prefix: str, fields: dict[str, str], logged_in: bool, verb: str) -> None:
    if path == "ticker.php":
        prefix = "/code/"
    if logged_in:
        fields = {**fields, "name": "alice", "pass": "alice-pass"}
    url = prefix + path
    if verb == "GET":
        answer = CLIENT.get(url, params=fields)
    elif verb == "POST":
        answer = CLIENT.post(url, data=fields)
    else:
        answer = CLIENT.post(url, files={k: (None, v) for k, v in fields.items()} or {"x": (None, "")})
    assert answer.status_code == 200
    if path.endswith(".csv") and answer.headers["content-type"].startswith("text/csv"):
        return
    body = json.loads(answer.text)
    if isinstance(body, dict) and "error" in body:
        assert isinstance(body["error"], str) and body["error"]
        assert "Internal error" not in body["error"]
        assert "Traceback" not in answer.text


def test_a_garbled_multipart_body_is_a_clean_error() -> None:
    with TestClient(APP) as client:
        answer = client.post(
            "/code/getFunds.php",
            content=b'--xx\r\nContent-Disposition: form-data; name="name"\r\n\r\nalice',
            headers={"content-type": "multipart/form-data; boundary=xx"},
        )
    assert answer.status_code == 200 and answer.json()["error"] in ("Invalid.", "Not logged in.")


def test_an_oversized_body_is_refused() -> None:
    with TestClient(APP) as client:
        answer = client.post("/code/getFunds.php", content=b"name=alice&pass=alice-pass&x=" + b"a" * 100_000)
    assert answer.status_code == 200 and answer.json() == {"error": "Invalid."}


# The same property twice: a quick run by default, the long one under the `long` marker (.ci/run).
test_no_input_breaks_a_method = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])(
    given(**INPUTS)(no_input_breaks_a_method)
)
test_no_input_breaks_a_method_at_length = pytest.mark.long(
    settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])(
        given(**INPUTS)(no_input_breaks_a_method)
    )
)

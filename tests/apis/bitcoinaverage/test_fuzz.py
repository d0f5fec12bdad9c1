"""Bad input never gives a 500 (issue point 5): random symbols, amounts, timestamps, names and paths."""

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.settings import Settings
from tests.apis.bitcoinaverage.conftest import KEYS
from tests.conftest import START_TEXT

HEADERS = {"x-ba-key": KEYS["enterprise"][0]}
SEGMENT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/?#%\\", exclude_categories=("Cs", "Cc")),
    min_size=0,
    max_size=24,
) | st.sampled_from(["BTCUSD", "btcusd", "ETHEUR", "BTCXYZ", "XRPARS", "local", "global", "all", "short", "count"])
NUMBERISH = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "1e400", "-0", "0x10", "1_000", "١٢", " 5", "5 ", "+3", ".5", "5.", "1e-400"]),
    SEGMENT,
)
TEMPLATES = [
    "/indices/{a}/ticker/{b}",
    "/indices/{a}/ticker/{b}/changes",
    "/indices/{a}/ticker/all?crypto={a}&fiat={b}",
    "/indices/{a}/ticker/short?crypto={b}",
    "/indices/local/history/{b}?period={a}&format={a}",
    "/indices/global/history/BTCUSD?since={n}",
    "/indices/local/history/BTCUSD?at={n}&resolution={a}",
    "/indices/local/history/{b}?since={n}&resolution={a}",
    "/indices/ticker/custom/include/{b}?exchanges={a}",
    "/indices/ticker/custom/exclude/{b}?exchanges={a},{b}",
    "/convert/{a}?from={a}&to={b}&amount={n}",
    "/convert/local?from=BTC&to=USD&amount={n}",
    "/convert/global?from=EUR&to=ETH&amount={n}",
    "/exchanges/{a}",
    "/exchanges/ticker/{a}",
    "/exchanges/all?symbol={a}&crypto={b}",
    "/blockchain/tx_price/{a}/{b}",
    "/blockchain/tx_price/BTCUSD/{n}",
    "/constants/symbols/{a}",
    "/constants/exchangerates/{a}",
    "/weighting/{a}",
    "/websocket/{a}/get_ticket",
]


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(seed=7, clock="manual", start=START_TEXT))) as client:
        yield client


def check(client: TestClient, url: str) -> None:
    answer = client.get(url, headers=HEADERS)
    assert answer.status_code in (200, 400, 404), (url, answer.status_code, answer.text[:300])
    if answer.status_code != 200:
        body = answer.json()
        assert body["success"] is False and body["error"], url


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=st.sampled_from(TEMPLATES), a=SEGMENT, b=SEGMENT, n=NUMBERISH)
def test_no_input_gives_a_500(fuzz_client: TestClient, template: str, a: str, b: str, n: str) -> None:
    check(fuzz_client, template.format(a=a, b=b, n=n))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(alphabet="&=,;abcdefgimnoprstuyBTCUSDE0123456789.-", max_size=60))
def test_any_query_string_parses(fuzz_client: TestClient, query: str) -> None:
    check(fuzz_client, f"/indices/local/ticker/all?{query}")
    check(fuzz_client, f"/convert/local?{query}")


@pytest.mark.parametrize(
    "url",
    [
        "/indices/local/ticker/" + "A" * 5000,
        "/exchanges/" + "b" * 10000,
        "/blockchain/tx_price/BTCUSD/" + "f" * 5000,
        "/indices/" + "/".join(["x"] * 500),
        "/convert/local?from=BTC&to=USD&amount=" + "9" * 5000,
        "/indices/local/history/BTCUSD?since=" + "1" * 5000,
        "/indices/local/history/BTCUSD?since=0&resolution=minute",
        "/indices/local/history/BTCUSD?since=0",
        "/indices/local/history/BTCUSD?at=0&resolution=day",
        "/indices/local/history/BTCUSD?at=253402300799",
        "/indices/local/history/BTCUSD?since=253402300799",
        "/blockchain/tx_price/BTCARS/8a3b4394ba811a9e2b0bbf3cc56888d053ea21909299b2703cdc35e156c860ff",
    ],
)
def test_huge_and_extreme_inputs(fuzz_client: TestClient, url: str) -> None:
    check(fuzz_client, url)

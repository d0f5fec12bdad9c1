"""A real HTTP client over a socket: multipart bodies and the login cookie, as 2011 clients sent them."""

import httpx

from emulator.app import create_app
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.conftest import START_TEXT


def test_multipart_orders_and_cookie_session_over_a_real_socket() -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False))
    with RunningEmulator(app=app) as served, httpx.Client(base_url=served.url) as client:
        base = served.url
        login = client.post("/code/login.php", files={"name": (None, "bob"), "pass": (None, "bob-pass")})
        assert login.json() == {"status": "Logged in.", "user": "bob"}
        assert "mtgox_session" in client.cookies
        placed = client.post("/code/sellBTC.php", files={"amount": (None, "1.25"), "price": (None, "15.5")}).json()
        assert placed["orders"][0]["amount"] == 1.25 and placed["orders"][0]["price"] == 15.5
        with_password = httpx.post(  # a client of its own: no session cookie, the password alone
            base + "/api/0/getOrders.php", files={"name": (None, "bob"), "pass": (None, "bob-pass")}
        ).json()
        assert [o["oid"] for o in with_password["orders"]] == [placed["oid"]]
        depth = client.get("/code/data/getDepth.php").json()
        assert depth["asks"] == [[15.5, 1.25]]

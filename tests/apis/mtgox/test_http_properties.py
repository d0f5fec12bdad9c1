"""Any sequence of buy/sell/cancel calls over HTTP keeps funds conserved, and the API agrees with the engine."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.engine.units import BTC_SCALE, FIAT_SCALE
from emulator.settings import Settings
from tests.conftest import START_TEXT, default_world

USERS = {"alice": "alice-pass", "bob": "bob-pass"}

actions = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["buyBTC.php", "sellBTC.php"]),
            st.sampled_from(list(USERS)),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300"), places=3).map(str),
            st.one_of(st.none(), st.decimals(min_value=Decimal("13"), max_value=Decimal("17"), places=2).map(str)),
        ),
        st.tuples(st.just("cancel"), st.sampled_from(list(USERS)), st.integers(0, 10), st.none()),
        st.tuples(st.just("advance"), st.just(""), st.integers(1, 30), st.none()),
    ),
    max_size=25,
)


def http_trading_conserves_funds_and_agrees_with_the_engine(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    app = create_app(Settings(seed=3, clock="manual", start=START_TEXT))
    with TestClient(app) as client:
        world = default_world(client)
        totals = world.engine.ledger.totals()
        deposits = world.bus.subscribe(["balance"], maxsize=10**7)
        for kind, user, value, price in steps:
            who = {"name": user, "pass": USERS.get(user, "")}
            if kind == "advance":
                client.post("/_emulator/clock/advance", json={"seconds": value})
            elif kind == "cancel":
                orders = client.post("/code/getOrders.php", data=who).json()["orders"]
                if orders:
                    order = orders[value % len(orders)]
                    client.post("/code/cancelOrder.php", data={**who, "oid": order["oid"], "type": order["type"]})
            else:
                fields = {**who, "amount": value, **({"price": price} if price else {})}
                answer = client.post(f"/code/{kind}", data=fields).json()
                assert "oid" in answer, answer
            for name, password in USERS.items():
                funds = client.post("/code/getOrders.php", data={"name": name, "pass": password}).json()
                account = world.engine.ledger.accounts[name]
                assert Decimal(str(funds["btcs"])) * BTC_SCALE == account.balance["BTC"]
                assert Decimal(str(funds["usds"])) * FIAT_SCALE == account.balance["USD"]
                # bids first, then asks, each by price ascending (then by placement)
                engine_orders = sorted(world.engine.open_orders(name), key=lambda o: (-o.side, o.price or 0, o.oid))
                assert [o["amount"] for o in funds["orders"]] == [o.amount / BTC_SCALE for o in engine_orders]
                assert [o["status"] for o in funds["orders"]] == [int(o.status) for o in engine_orders]
        external: dict[str, int] = {}
        for change in deposits.drain():
            if change.kind in ("deposit", "withdraw"):
                external[change.currency] = external.get(change.currency, 0) + change.delta
        after = world.engine.ledger.totals()
        for currency, amount in after.items():
            assert amount == totals.get(currency, 0) + external.get(currency, 0)


# The same property twice: a quick run by default, the long one under the `long` marker (.ci/run).
test_http_trading_conserves_funds_and_agrees_with_the_engine = settings(max_examples=10, deadline=None)(
    given(steps=actions)(http_trading_conserves_funds_and_agrees_with_the_engine)
)
test_http_trading_conserves_funds_and_agrees_with_the_engine_at_length = pytest.mark.long(
    settings(max_examples=25, deadline=None)(
        given(steps=actions)(http_trading_conserves_funds_and_agrees_with_the_engine)
    )
)

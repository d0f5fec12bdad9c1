"""A specification of every cached public answer: whatever a test suite does to two tenants (reset,
snapshot, restore, clock steps, orders, accounts, fault rules), mostly within one market second, each
cached answer equals a fresh rendering of the world as it is now, by the fast lane and by `/_t/`."""

import functools
from typing import Any, cast

import orjson
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.requests import Request
from starlette.testclient import TestClient

from emulator.apis.bitcoinaverage import models as average_models
from emulator.apis.bitcoinaverage import rendering as average_rendering
from emulator.apis.bitcoinaverage.catalog import Catalog
from emulator.apis.bitcoinaverage.prices import PriceModel
from emulator.apis.bitcoinaverage.view import View
from emulator.apis.mtgox import models as mtgox_models
from emulator.apis.mtgox.routes import Call, get_depth, get_trades, ticker
from emulator.app import create_app
from emulator.market.clock import MICROS
from emulator.market.world import World
from emulator.settings import Settings
from tests.conftest import START_TEXT

TENANTS = ("default", "blue")
MTGOX = {"/code/data/ticker.php": ticker, "/code/data/getDepth.php": get_depth, "/code/data/getTrades.php": get_trades}
AVERAGE_KEY = {"x-ba-key": "EnterpriseDemoPublicKey0000000000000000000"}
USERS = {"alice": "alice-pass", "bob": "bob-pass"}


def fresh_mtgox(world: World, path: str, params: dict[str, str]) -> Any:
    """The answer rendered from the world itself, past every cache."""
    call = Call(cast(Request, None), world, mtgox_models.get_model(world), params)
    return orjson.loads(orjson.dumps(MTGOX[path](call)))


def queries(world: World) -> dict[str, dict[str, str]]:
    """Each read's query: getTrades from the 30th-last trade (a whole day is slow to compare)."""
    since = {"since": str(world.trades.trades[-30].tid)}
    return {path: since if path.endswith("getTrades.php") else {} for path in MTGOX}


@functools.cache
def price_model(catalog: Catalog, seed: int, started: int, level: float) -> PriceModel:
    """A price model made here, apart from the app's: a pure function of these, and slow to make."""
    return PriceModel(catalog, seed, started, level)


def fresh_average(world: World) -> tuple[Any, Any, Any]:
    """BitcoinAverage's BTCUSD local and global tickers and `exchanges/mtgox`, from a new view of the
    world (its own memo of MtGox's past trades, a price model apart from the app's)."""
    catalog = average_models.get_model(world).catalog_for(world)
    view = View(catalog, price_model(catalog, world.seed, world.started // MICROS, world.opening_price), world)
    found = view.ticker("local", "BTCUSD")
    assert found is not None
    ticker_body = orjson.loads(orjson.dumps(average_rendering.ticker(found)))
    world_wide = view.ticker("global", "BTCUSD")
    assert world_wide is not None
    global_body = orjson.loads(orjson.dumps(average_rendering.ticker(world_wide)))
    mtgox = orjson.loads(orjson.dumps(average_rendering.exchange_of(view, "mtgox", None)))
    return ticker_body, global_body, mtgox


class CachedAnswers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.client = TestClient(create_app(Settings(seed=7, clock="manual", start=START_TEXT)))
        self.client.__enter__()
        self.saved: dict[str, list[bytes]] = {tenant: [] for tenant in TENANTS}
        self.accounts = 0

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)

    def world(self, tenant: str) -> World:
        world: World = self.client.app.state.registry.get(tenant)  # type: ignore[attr-defined]
        return world

    def control(self, tenant: str, verb: str, path: str, **kwargs: Any) -> Any:
        answer = self.client.request(verb, f"/_t/{tenant}/_emulator/{path}", **kwargs)
        assert answer.status_code < 300, answer.text
        return answer

    @initialize()
    def start_both(self) -> None:
        for tenant in TENANTS:
            self.control(tenant, "GET", "clock")

    @rule(tenant=st.sampled_from(TENANTS), seed=st.sampled_from([7, 8]))
    def reset(self, tenant: str, seed: int) -> None:
        self.control(tenant, "POST", "reset", json={"seed": seed})

    @rule(tenant=st.sampled_from(TENANTS))
    def snapshot(self, tenant: str) -> None:
        self.saved[tenant].append(self.control(tenant, "GET", "state").content)

    @precondition(lambda self: any(self.saved.values()))
    @rule(tenant=st.sampled_from(TENANTS), data=st.data())
    def restore(self, tenant: str, data: st.DataObject) -> None:
        saved = data.draw(st.sampled_from([s for kept in self.saved.values() for s in kept]))
        self.control(tenant, "POST", "state", content=saved, headers={"content-type": "application/json"})

    @rule(tenant=st.sampled_from(TENANTS), seconds=st.sampled_from([0, 0, 0.1, 0.4, 1, 3]))
    def advance(self, tenant: str, seconds: float) -> None:
        self.control(tenant, "POST", "clock/advance", json={"seconds": seconds})

    @rule(
        tenant=st.sampled_from(TENANTS),
        user=st.sampled_from(sorted(USERS)),
        side=st.sampled_from(["buyBTC", "sellBTC"]),
        price=st.sampled_from(["14.9", "15.2", "15.44", "15.5", "16"]),
        amount=st.sampled_from(["0.5", "1", "3"]),
    )
    def order(self, tenant: str, user: str, side: str, price: str, amount: str) -> None:
        form = {"name": user, "pass": USERS[user], "amount": amount, "price": price}
        self.client.post(f"/_t/{tenant}/code/{side}.php", data=form)

    @rule(tenant=st.sampled_from(TENANTS), btc=st.sampled_from(["0", "2"]))
    def account(self, tenant: str, btc: str) -> None:
        self.accounts += 1
        body = {"name": f"user{self.accounts}", "password": "p", "balances": {"BTC": btc, "USD": "10"}}
        self.control(tenant, "POST", "accounts", json=body)

    @rule(tenant=st.sampled_from(TENANTS))
    def fault_rule(self, tenant: str) -> None:
        """A rule that touches none of the compared answers, but sends the tenant's reads the long way."""
        self.control(tenant, "POST", "faults", json={"api": "mtgox", "path": "/code/withdraw.php", "effect": "status"})

    @rule(tenant=st.sampled_from(TENANTS))
    def clear_faults(self, tenant: str) -> None:
        self.control(tenant, "DELETE", "faults")

    @invariant()
    def cached_answers_are_fresh(self) -> None:
        for tenant in TENANTS:
            world = self.world(tenant)
            fast = {} if tenant == "default" else {"X-Emulator-Tenant": tenant}
            for path, params in queries(world).items():
                expected = fresh_mtgox(world, path, params)
                assert self.client.get(path, params=params, headers=fast).json() == expected, (tenant, path)
                assert self.client.get(f"/_t/{tenant}{path}", params=params).json() == expected, (tenant, path)
            average = [
                self.client.get(f"/_t/{tenant}/indices/local/ticker/BTCUSD", headers=AVERAGE_KEY),
                self.client.get(f"/_t/{tenant}/indices/global/ticker/BTCUSD", headers=AVERAGE_KEY),
                self.client.get("/exchanges/mtgox", headers={**AVERAGE_KEY, "X-Emulator-Tenant": tenant}),
            ]
            assert [a.json() for a in average] == list(fresh_average(world)), tenant


def run_machine(examples: int) -> None:
    run_state_machine_as_test(
        CachedAnswers,
        settings=settings(
            max_examples=examples, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )


def test_cached_answers_are_fresh() -> None:
    run_machine(2)  # a quick run by default; 40 under `long`


@pytest.mark.long
def test_cached_answers_are_fresh_long() -> None:
    run_machine(40)

"""The pytest plugin (emulator.testing) used from test files, as a user of the package would use it."""

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from emulator.edge.tenancy import TENANT_NAME
from emulator.testing import tenant_for

pytest_plugins = ["pytester"]

# What a user's own test run loads: the emulator's plugin (by its entry point) and pytest. The test
# extras' plugins add seconds of start-up to every child pytest and nothing these tests look at.
NOT_THE_USERS = [
    arg
    for name in ("schemathesis", "hypothesispytest", "xdist", "xdist.looponfail", "anyio")
    for arg in ("-p", f"no:{name}")
]

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLE_MARKER = "<!-- pytest-plugin-example -->"


def readme_example() -> str:
    """The example test file of the README: the python block right after the marker."""
    text = README.read_text(encoding="utf-8")
    assert text.count(EXAMPLE_MARKER) == 1, "the README marks exactly one plugin example"
    match = re.match(r"\s*```python\n(.*?)\n```", text.split(EXAMPLE_MARKER, 1)[1], re.DOTALL)
    assert match, "a ```python block follows the marker"
    return match.group(1) + "\n"


def test_the_readme_example_passes_as_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_market=readme_example())
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", *NOT_THE_USERS
    )  # a fresh process: entry point and all
    result.assert_outcomes(passed=1)


ISOLATION = """
import httpx

TENANTS = []


def place_and_look(emulator, price):
    TENANTS.append(emulator.tenant)
    emulator.account("same-name", "pw", {"BTC": "5"})  # a 409 if the two tests shared a world
    me = {"name": "same-name", "pass": "pw"}
    with httpx.Client(base_url=emulator.mtgox_url) as gox:
        placed = gox.post("sellBTC.php", data={**me, "amount": "2", "price": price}).json()
        assert [o["price"] for o in placed["orders"]] == [float(price)]
        asks = [level[0] for level in gox.get("data/getDepth.php").json()["asks"]]
        mine = gox.post("getOrders.php", data=me).json()["orders"]
    assert [o["oid"] for o in mine] == [placed["oid"]]
    return asks


def test_one(emulator):
    asks = place_and_look(emulator, "29")
    assert 29 in asks and 28 not in asks


def test_two(emulator):
    asks = place_and_look(emulator, "28")
    assert 28 in asks and 29 not in asks


def test_tenants_differ_and_are_valid(emulator_server):
    assert len(TENANTS) == len(set(TENANTS)) == 2
    for tenant in TENANTS:  # both worlds were dropped at the end of their tests
        assert tenant not in emulator_server.app.state.registry.worlds
"""


def test_two_tests_get_two_tenants_and_never_see_each_others_orders(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_isolation=ISOLATION)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


CONTROL = """
import pytest
from emulator.testing import EmulatorError


def test_control_methods(emulator):
    assert emulator.http_url.endswith("/_t/" + emulator.tenant)
    assert emulator.ws_url == "ws" + emulator.http_url[4:] and emulator.mtgox_url == emulator.http_url + "/code/"
    assert emulator.clock()["now"] == "2012-01-01T00:00:00Z"
    assert emulator.set_clock(speed=5)["speed"] == 5
    assert emulator.advance(30)["now"] == "2012-01-01T00:00:30Z"
    reset = emulator.reset(seed=9, start="2011-08-01T00:00:00Z", flow=False)
    assert reset["tenant"] == emulator.tenant and reset["seed"] == 9 and reset["flow"] is False
    assert reset["clock"]["now"] == "2011-08-01T00:00:00Z"
    assert emulator.account("zed", "pw", {"BTC": 2, "USD": "10.5"})["balances"] == {"BTC": "2", "USD": "10.5"}
    assert set(emulator.mtgox_key("zed")) >= {"key", "secret"}
    assert emulator.average_key("business")["plan"] == "business"
    with pytest.raises(EmulatorError, match="409"):
        emulator.account("zed", "pw")


def test_the_session_settings(emulator_server):
    settings = emulator_server.app.state.settings
    assert (settings.seed, settings.clock, settings.max_tenants) == (3, "manual", 10_000)
"""


def test_control_methods_and_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_control=CONTROL)
    result = pytester.runpytest("-p", "no:cacheprovider", "--emulator-seed", "3", "--emulator-start", "2012-01-01")
    result.assert_outcomes(passed=2)


ASGI = """
import pytest
from emulator.testing import Control


@pytest.fixture
def anyio_backend():
    return "asyncio"  # the emulator is an asyncio app; anyio would also try trio when it is installed


@pytest.mark.anyio
async def test_async_client_without_a_socket(emulator_asgi):
    ticker = (await emulator_asgi.get("/code/data/ticker.php")).json()["ticker"]
    assert ticker["last"] > 0
    made = await emulator_asgi.post("/_emulator/accounts", json={"name": "amy", "password": "pw"})
    assert made.status_code == 201
    clock = (await emulator_asgi.post("/_emulator/clock/advance", json={"seconds": 10})).json()
    assert clock["now"] == "2011-07-10T00:00:10Z"


@pytest.mark.anyio
async def test_another_async_test_has_its_own_world(emulator_asgi):
    assert (await emulator_asgi.get("/_emulator/clock")).json()["now"] == "2011-07-10T00:00:00Z"
    made = await emulator_asgi.post("/_emulator/accounts", json={"name": "amy", "password": "pw"})
    assert made.status_code == 201


def test_sync_client_with_control(emulator_asgi_sync):
    control = Control(emulator_asgi_sync)
    control.account("amy", "pw", {"BTC": "1"})
    funds = emulator_asgi_sync.post("/code/getFunds.php", data={"name": "amy", "pass": "pw"}).json()
    assert funds["btcs"] == 1
    assert control.advance(5)["now"] == "2011-07-10T00:00:05Z"
    with emulator_asgi_sync.websocket_connect("/mtgox") as ws:
        assert ws.receive_json()
"""


def test_asgi_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_asgi=ASGI)
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error::pytest.PytestUnraisableExceptionWarning")
    result.assert_outcomes(passed=3)


def test_tenant_names_are_valid_and_unique_even_for_odd_test_names() -> None:
    used: set[str] = set()
    odd = SimpleNamespace(name="test_x[a/b c-" + "é" * 80 + "]", nodeid="tests/test_a.py::test_x[a/b c]")
    names = [tenant_for(odd, used) for _ in range(3)]
    assert len(set(names)) == 3
    assert all(TENANT_NAME.match(name) for name in names)
    other = SimpleNamespace(name="test_x[a/b c-" + "é" * 80 + "]", nodeid="tests/test_b.py::test_x[a/b c]")
    assert tenant_for(other, used) not in names, "the node id's hash tells same-named tests apart"


def test_the_plugin_imports_cheaply() -> None:
    heavy = "('fastapi', 'emulator.app', 'httpx')"
    code = f"import sys, emulator.testing; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


FAULTS_AND_JOURNAL = """
import httpx


def test_faults_and_journal(emulator):
    rule = emulator.add_fault(api="mtgox", path="/code/data/ticker.php", effect="status", status=503, count=1)
    assert rule["id"] and [f["id"] for f in emulator.faults()] == [rule["id"]]
    with httpx.Client(base_url=emulator.mtgox_url) as gox:
        assert gox.get("data/ticker.php").status_code == 503
        assert gox.get("data/ticker.php").status_code == 200  # count=1: the rule is spent
        emulator.add_fault(api="mtgox", path="/code/*", effect="status", status=500)
        emulator.clear_faults()
        assert emulator.faults() == []
        assert gox.get("data/getDepth.php").status_code == 200
    seen = emulator.journal(api="mtgox", path="/code/data/*")
    assert [(e["path"], e["status"]) for e in seen] == [
        ("/code/data/ticker.php", 503),
        ("/code/data/ticker.php", 200),
        ("/code/data/getDepth.php", 200),
    ]
    assert len(emulator.journal(api="mtgox", fault=True)) == 1
    emulator.clear_journal()
    assert emulator.journal(api="mtgox") == []
"""


def test_faults_and_journal_methods(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_faults=FAULTS_AND_JOURNAL)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


WITHOUT_HTTPX = """
import json
import urllib.request

import pytest


def test_httpx_is_not_there():
    with pytest.raises(ImportError):
        import httpx  # noqa: F401


def test_the_emulator_fixture_works_without_httpx(emulator):
    emulator.account("amy", "pw", {"BTC": "2"})
    assert emulator.advance(10)["now"] == "2011-07-10T00:00:10Z"
    with urllib.request.urlopen(emulator.mtgox_url + "data/ticker.php") as answer:
        assert json.load(answer)["ticker"]["last"] > 0
    with pytest.raises(Exception, match="409"):
        emulator.account("amy", "pw")
    assert emulator.journal(path="/code/*")[0]["path"] == "/code/data/ticker.php"


def test_the_asgi_fixture_says_what_to_install(emulator_asgi):
    pass
"""


def test_the_plugin_needs_only_the_package_and_pytest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pip install btc-market-emulator pytest` is enough: with httpx made unimportable (a package of that
    name that refuses to load, first on the path), the `emulator` fixture still works in a fresh process."""
    blocker = pytester.mkdir("no-httpx") / "httpx"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'httpx'\", name='httpx')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(blocker.parent), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(test_without_httpx=WITHOUT_HTTPX)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *NOT_THE_USERS)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*the emulator_asgi fixture needs httpx: pip install httpx*"])


def test_running_emulator_serves_any_app_and_calls_functions_on_its_loop() -> None:
    """The harness behind the `emulator` fixture, as the project's own tests use it for other settings."""
    import asyncio

    from emulator.app import create_app
    from emulator.settings import Settings
    from emulator.testing import Emulator, RunningEmulator

    app = create_app(Settings(seed=3, clock="manual", start="2011-07-10T00:00:00Z", flow=False))
    with RunningEmulator(app=app, loop="asyncio", http="h11") as served:
        assert served.settings.seed == 3 and served.url == f"http://127.0.0.1:{served.port}"
        tenant = served.tenant("harness")
        assert isinstance(tenant, Emulator) and tenant.advance(5)["now"] == "2011-07-10T00:00:05Z"
        assert "harness" in app.state.registry.worlds
        loop = served.in_loop(asyncio.get_running_loop)  # called on the server's own loop
        assert loop.is_running()
        served.drop("harness")
        assert "harness" not in app.state.registry.worlds
    with pytest.raises(TypeError, match="settings or an app"):
        RunningEmulator()

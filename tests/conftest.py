"""Shared fixtures: every test gets worlds on a manual clock at a fixed instant, so bytes repeat."""

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression
from fastapi import FastAPI

# starlette's TestClient asks for the httpx2 fork when imported; httpx is what the emulator's users
# have. pyproject's filterwarnings cover the tests, but this import comes first, at collection, where
# `-W error` would turn it into an error: imported here once, quietly, the test modules get it cached.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.market.world import World, parse_instant
from emulator.settings import Settings

START_TEXT = "2011-07-10T00:00:00Z"
START = parse_instant(START_TEXT)


@pytest.fixture
def world() -> World:
    return World(seed=7, start=START, mode="manual")


@pytest.fixture
def app() -> FastAPI:
    return create_app(Settings(seed=7, clock="manual", start=START_TEXT))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An in-process client (no socket) on a manual-clock app seeded with 7, starting 2011-07-10."""
    with TestClient(app) as test_client:
        yield test_client


def default_world(client: TestClient) -> World:
    world: World = client.app.state.registry.get("default")  # type: ignore[attr-defined]
    return world


@pytest.fixture
def quiet() -> Iterator[TestClient]:
    """A client on a quiet market: a day of history, no agents' book, no order flow."""
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT, flow=False))
    with TestClient(app) as test_client:
        yield test_client


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A `*_long.py` module holds only `long` tests: when the mark expression leaves `long` tests out
    (the default run), the module is not even imported, since building its cases costs every worker
    seconds (the long schemathesis run's coverage cases are made at collection)."""
    markexpr = config.getoption("markexpr")
    if not collection_path.name.endswith("_long.py") or not markexpr:
        return None
    return True if not Expression.compile(markexpr).evaluate(lambda name, /, **kwargs: name == "long") else None


@pytest.hookimpl(optionalhook=True)  # a run without pytest-xdist (a child pytest in a test) has no such hook
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (the README's command): one worker more than the machine has cores. Many tests wait
    on sockets, child processes or the browser, and the extra worker keeps the cores busy meanwhile
    (two cores: 117-119 s with three workers, 122-134 s with two). PYTEST_XDIST_AUTO_NUM_WORKERS
    still decides when it is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1

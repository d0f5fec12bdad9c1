"""Shared fixtures: every test gets worlds on a manual clock at a fixed instant, so bytes repeat."""

import pytest

from emulator.market.world import World, parse_instant

START = parse_instant("2011-07-10T00:00:00Z")


@pytest.fixture
def world() -> World:
    return World(seed=7, start=START, mode="manual")

"""The surfaces registry (emulator.surfaces) against the API names (emulator.api_names): every name
has a surface and an OpenAPI part, and nothing registers under another name."""

import dataclasses

import pytest

import emulator.app  # noqa: F401  (imports every API's routes, which register their surfaces and parts)
from emulator.api_names import API_NAMES, API_PATTERN
from emulator.faults.rules import APIS
from emulator.surfaces import SURFACES, describe, register, registered


def test_every_api_name_has_its_surface_and_openapi_part_in_order() -> None:
    surfaces = registered()
    assert tuple(surface.name for surface in surfaces) == API_NAMES == ("mtgox", "bitcoinaverage")
    assert [surface.openapi.tag for surface in surfaces] == list(API_NAMES)


def test_a_surface_under_another_name_is_refused() -> None:
    stranger = dataclasses.replace(SURFACES["mtgox"], name="bitstamp")
    with pytest.raises(ValueError, match=r"emulator\.api_names"):
        register(stranger)
    assert "bitstamp" not in SURFACES
    with pytest.raises(ValueError, match="not the registered one"):
        describe(stranger, SURFACES["mtgox"].openapi)


def test_validation_reads_the_names() -> None:
    assert (*API_NAMES, "any") == APIS
    assert API_PATTERN == "^(mtgox|bitcoinaverage)$"

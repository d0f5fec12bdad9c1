"""Where the shipped data lives: `fixtures/` and `scenarios/` next to the package in a checkout,
or inside the package (`emulator/_data/...`) when installed from a wheel."""

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder shipped with the emulator")

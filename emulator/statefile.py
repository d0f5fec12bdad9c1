"""`serve --state FILE` (EMULATOR_STATE): the worlds of every tenant kept in one JSON file.

At start, every world in FILE is rebuilt from its snapshot (World.snapshot / World.restore, the same
pair as `GET/POST /_emulator/state`) before the server answers anything. A file that cannot be read
back whole is refused: nothing of it is used, and the message says which part is wrong and what to do.
On a graceful shutdown, and on `POST /_emulator/state/save`, the worlds are written to a temporary file
beside FILE, flushed to disk and renamed over FILE, so FILE always holds one whole save.
"""

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from emulator.edge.tenancy import TENANT_NAME
from emulator.market.world import World

FORMAT = "btc-market-emulator state"
VERSION = 1


class StateFileError(Exception):
    """FILE cannot be used: the message is one line, naming the problem and the way out."""


def check_writable(path: Path) -> None:
    """Refuse at start a FILE that could never be saved (its folder missing), not at the first save."""
    folder = path.parent
    if not folder.is_dir():
        raise StateFileError(f"no folder {folder}: create it or choose another file")
    if path.is_dir():
        raise StateFileError("is a folder: give a file name")


def load(path: Path, new_world: Callable[[str], World]) -> dict[str, World]:
    """The worlds saved in FILE, by tenant (none when FILE does not exist yet); all of them or an error."""
    check_writable(path)
    if not path.exists():
        return {}
    fix = "move it away to start fresh"
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise StateFileError(f"cannot read it: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise StateFileError(f"not a state file (not JSON: {exc}); {fix}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("tenants"), dict):
        raise StateFileError(f"not a state file saved by serve --state; {fix}")
    if data.get("version") != VERSION:
        raise StateFileError(f"saved in state format {data.get('version')!r}, this emulator reads {VERSION}; {fix}")
    worlds: dict[str, World] = {}
    try:
        for tenant, snapshot in data["tenants"].items():
            if not TENANT_NAME.match(tenant):
                raise StateFileError(f"tenant {tenant!r} is not a valid tenant name; {fix}")
            world = worlds[tenant] = new_world(tenant)
            try:
                world.restore(snapshot)
            except Exception as exc:  # any part missing or of the wrong shape: the file is not one whole save
                raise StateFileError(
                    f"the world of tenant {tenant!r} is damaged ({type(exc).__name__}: {exc}); {fix}"
                ) from None
    except BaseException:
        for made in worlds.values():  # a refused file leaves no tape file open
            made.close()
        raise
    return worlds


def document(worlds: Mapping[str, World]) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "tenants": {name: w.snapshot() for name, w in worlds.items()}}


def save(path: Path, worlds: Mapping[str, World]) -> int:
    """Write the worlds, as of now, to FILE atomically; the number of bytes written."""
    for world in worlds.values():
        world.sync()  # a realtime world saved as of now, not as of its last request
    content = orjson.dumps(document(worlds))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return len(content)

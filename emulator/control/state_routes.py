"""`POST /_emulator/state/save`: write every tenant's world to the `serve --state` file now."""

from pathlib import Path

from fastapi import Request

from emulator import statefile
from emulator.control.auth import control_router
from emulator.responses import JSON

router = control_router()


@router.post("/state/save")
def save_state(request: Request) -> JSON:
    """Save the worlds of all tenants to the state file (as a graceful shutdown does); 409 without one."""
    path = request.app.state.settings.state
    if not path:
        return JSON(
            {"error": "no state file: start the emulator with serve --state FILE (or EMULATOR_STATE)"}, status_code=409
        )
    worlds = request.app.state.registry.worlds
    size = statefile.save(Path(path), worlds)
    return JSON({"saved": str(path), "tenants": sorted(worlds), "bytes": size})

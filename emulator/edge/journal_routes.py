"""Control routes for the request journal (emulator.edge.journal), under /_emulator, per tenant.

- `GET /_emulator/journal?api=&method=&path=<glob>&status=&since=<market seconds>&fault=<bool>&limit=`
  answers `{"entries": [...], "count": n, "total": <entries kept>, "recorded": <ever recorded>}`,
  oldest first (`limit` keeps the most recent). `DELETE` empties the tenant's journal.
"""

from typing import Any

from fastapi import Query, Request

from emulator.api_names import API_PATTERN
from emulator.control.auth import control_router
from emulator.edge.journal import journal_of
from emulator.edge.tenancy import world_of
from emulator.market.clock import MAX_UNIX_SECONDS, MICROS

router = control_router()


@router.get("/journal")
def get_journal(
    request: Request,
    api: str | None = Query(None, pattern=API_PATTERN),
    method: str | None = Query(None, max_length=16),
    path: str | None = Query(None, max_length=1000, description="fnmatch glob on the API path"),
    status: int | None = Query(None, ge=0, le=999),
    since: float | None = Query(
        None, ge=0, le=MAX_UNIX_SECONDS, allow_inf_nan=False, description="market time, unix seconds"
    ),
    fault: bool | None = Query(None, description="only entries a fault did (true) or did not (false) hit"),
    limit: int | None = Query(None, ge=1, le=10_000),
) -> dict[str, Any]:
    journal = journal_of(world_of(request))
    entries = journal.select(
        api=api or None,
        method=method or None,
        path=path or None,
        status=status,
        since=None if since is None else round(since * MICROS),
        fault=fault,
        limit=limit,
    )
    return {
        "entries": [e.view() for e in entries],
        "count": len(entries),
        "total": len(journal.entries),
        "recorded": journal.seq,
    }


@router.delete("/journal")
def clear_journal(request: Request) -> dict[str, Any]:
    return {"deleted": journal_of(world_of(request)).clear()}

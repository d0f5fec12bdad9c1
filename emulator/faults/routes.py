"""Control routes for fault rules, under /_emulator, per tenant.

- `POST /_emulator/faults` takes the rule shape of `emulator.faults.rules` and answers 201 with
  the rule (its `id`, window `start`/`end` in market seconds, `hits`, `active`); a bad body is a 400
  `{"error": "..."}` naming the problem. `GET` lists `{"faults": [...]}`, `DELETE` clears them all
  (`{"deleted": n}`); `GET`/`DELETE /_emulator/faults/{id}` one rule, 404 when unknown.
"""

from typing import Any

import orjson
from fastapi import Request

from emulator.control.auth import control_router
from emulator.edge.tenancy import world_of
from emulator.faults.rules import faults_of
from emulator.responses import JSON

router = control_router()
MAX_BODY = 256 * 1024


@router.post("/faults", status_code=201)
async def add_fault(request: Request) -> JSON:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return JSON({"error": f"body larger than {MAX_BODY} bytes"}, status_code=413)
    try:
        spec = orjson.loads(raw or b"null")
    except orjson.JSONDecodeError:
        return JSON({"error": "body must be a JSON object describing the fault rule"}, status_code=400)
    if not isinstance(spec, dict):
        return JSON({"error": "body must be a JSON object describing the fault rule"}, status_code=400)
    world = world_of(request)
    try:
        rule = faults_of(world).add(spec)
    except ValueError as exc:
        return JSON({"error": str(exc)}, status_code=400)
    return JSON(rule.view(world.now), status_code=201)


@router.get("/faults")
def list_faults(request: Request) -> dict[str, Any]:
    world = world_of(request)
    return {"faults": [rule.view(world.now) for rule in faults_of(world).list()]}


@router.delete("/faults")
def clear_faults(request: Request) -> dict[str, Any]:
    book = faults_of(world_of(request))
    count = len(book.rules)
    book.clear()
    return {"deleted": count}


@router.get("/faults/{rule_id}")
def get_fault(rule_id: str, request: Request) -> JSON:
    world = world_of(request)
    rule = faults_of(world).get(rule_id)
    if rule is None:
        return JSON({"error": f"no fault rule {rule_id[:64]!r}"}, status_code=404)
    return JSON(rule.view(world.now))


@router.delete("/faults/{rule_id}")
def delete_fault(rule_id: str, request: Request) -> JSON:
    if not faults_of(world_of(request)).remove(rule_id):
        return JSON({"error": f"no fault rule {rule_id[:64]!r}"}, status_code=404)
    return JSON({"deleted": rule_id})

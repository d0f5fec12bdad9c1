"""The control API's optional bearer token (EMULATOR_ADMIN_TOKEN)."""

import hmac

from fastapi import APIRouter, Depends, HTTPException, Request

from emulator.responses import JSON
from emulator.routing import LoopRoute


def require_admin(request: Request) -> None:
    token: str | None = request.app.state.settings.admin_token
    if not token:
        return
    sent = request.headers.get("authorization", "")
    scheme, _, value = sent.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise HTTPException(401, "control API: send Authorization: Bearer <EMULATOR_ADMIN_TOKEN>")


def control_router(guarded: bool = True) -> APIRouter:
    """A router for /_emulator routes: JSON, on the event loop, behind the admin token when guarded."""
    return APIRouter(
        prefix="/_emulator",
        tags=["control"],
        default_response_class=JSON,
        dependencies=[Depends(require_admin)] if guarded else [],
        route_class=LoopRoute,
    )

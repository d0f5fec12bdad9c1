"""The control API's optional bearer token (EMULATOR_ADMIN_TOKEN)."""

import hmac

from fastapi import HTTPException, Request


def require_admin(request: Request) -> None:
    token: str | None = request.app.state.settings.admin_token
    if not token:
        return
    sent = request.headers.get("authorization", "")
    scheme, _, value = sent.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise HTTPException(401, "control API: send Authorization: Bearer <EMULATOR_ADMIN_TOKEN>")

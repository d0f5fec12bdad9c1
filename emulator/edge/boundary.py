"""The last line: an exception no route expected still answers in the API's own style.

Starlette's outermost layer would answer a bare text/plain 500 and re-raise, and uvicorn then logs
the exception a second time and closes the kept-alive connection. The request pipeline serves every
HTTP request (the middleware way and the fast lane alike) inside this boundary: it logs the exception
once and answers as the API would (its surface's `internal_error`: MtGox HTTP 200 `{"error": ...}`;
BitcoinAverage 500 `{"success": false, "error": ...}`; the control API and the rest: 500
`{"error": ...}`), and the connection stays open. Nothing of the exception (type, text, traceback)
reaches the client. Routes validate before they change anything, so a failure here leaves the world
as it was.
"""

import logging

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.faults.http import InjectedReset
from emulator.responses import JSON
from emulator.surfaces import Surface

log = logging.getLogger("emulator")

INTERNAL = "Internal Server Error: the emulator failed on this request (see its log)"


def internal_error(surface: Surface | None, scope: Scope) -> Response:
    """The answer to an exception no route expected (logged here, once): in the API's style, else
    the control API's."""
    log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
    if surface is None:
        return JSON({"error": INTERNAL}, status_code=500)
    status, message = surface.internal_error
    return surface.error(status, message, None)


async def guarded(surface: Surface | None, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Serve an HTTP request with `app`; an exception before the answer started answers `internal_error`."""
    started = False

    async def watch(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, receive, watch)
    except InjectedReset:  # the `reset` fault: the connection is meant to break
        raise
    except Exception:
        if started:  # half an answer is out: only dropping the connection tells the client
            raise
        await internal_error(surface, scope)(scope, receive, send)


def guard(surface: Surface | None, app: ASGIApp) -> ASGIApp:
    """`app` inside the boundary."""

    async def guarded_app(scope: Scope, receive: Receive, send: Send) -> None:
        await guarded(surface, scope, receive, send, app)

    return guarded_app

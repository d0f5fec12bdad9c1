"""The last line: an exception no route expected still answers in the API's own style.

Starlette's outermost layer would answer a bare text/plain 500 and re-raise, and uvicorn then logs
the exception a second time and closes the kept-alive connection. This middleware sits just outside
the router: it logs the exception once and answers as the API would (MtGox: HTTP 200
`{"error": ...}`; BitcoinAverage: 500 `{"success": false, "error": ...}`; the control API and the
rest: 500 `{"error": ...}`), and the connection stays open. Nothing of the exception (type, text,
traceback) reaches the client. Routes validate before they change anything, so a failure here
leaves the world as it was.
"""

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.control.faults import InjectedReset, api_of, error_response

log = logging.getLogger("emulator")

MTGOX_INTERNAL = "Internal error, please retry later."
INTERNAL = "Internal Server Error: the emulator failed on this request (see its log)"


class ErrorBoundary:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except InjectedReset:  # the `reset` fault: the connection is meant to break
            raise
        except Exception:
            if started:  # half an answer is out: only dropping the connection tells the client
                raise
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            api = api_of(scope["path"])
            if api == "mtgox":
                response = error_response(api, 200, MTGOX_INTERNAL)
            else:
                response = error_response(api or "control", 500, INTERNAL)
            await response(scope, receive, send)

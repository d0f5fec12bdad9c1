"""Fast JSON responses: orjson renders once, without Starlette's slower generic path.

A JSONResponse subclass, so that FastAPI documents the routes' JSON bodies (their models, or `{}`)
rather than `{"type": "string"}`, which every JSON answer would violate.
"""

from typing import Any

import orjson
from starlette.responses import JSONResponse, Response


class JSON(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class Rendered(Response):
    """JSON bytes rendered earlier (a cached answer), with the headers Response would give them,
    set directly: the polled reads answer from such bytes, and Response's general header code
    costs more than the rest of their answer."""

    media_type = "application/json"

    def __init__(self, content: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = content
        self.raw_headers = [(b"content-length", str(len(content)).encode()), (b"content-type", b"application/json")]

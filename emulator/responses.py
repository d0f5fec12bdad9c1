"""Fast JSON responses: orjson renders once, without Starlette's slower generic path.

A JSONResponse subclass, so that FastAPI documents the routes' JSON bodies (their models, or `{}`)
rather than `{"type": "string"}`, which every JSON answer would violate.
"""

from typing import Any

import orjson
from starlette.responses import JSONResponse


class JSON(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

"""Routes that run on the event loop.

A world is single-threaded: the market advances on the event loop (the realtime mover, a clock
advance playing chunk by chunk, websocket feeds). FastAPI would run a plain `def` endpoint in a
worker thread, where it could sync or read a world half-way through an advance. Every router of
the emulator uses this route class, which turns such endpoints into coroutines, so that all world
access happens on the loop, between chunks.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute


class LoopRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _on_the_loop(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _on_the_loop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters through __wrapped__
    async def run(*args: Any, **kwargs: Any) -> Any:
        return endpoint(*args, **kwargs)

    return run

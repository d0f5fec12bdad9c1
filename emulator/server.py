"""The uvicorn server the `serve` command (and the socket tests) run.

The fast stack, uvloop and httptools, is part of the default install and uvicorn's "auto" picks it;
where they cannot be installed (uvloop has no Windows build, neither has PyPy wheels) the same server
runs on the asyncio loop and h11, the pure-Python stack. `stack()` says which one this process has.

Uvicorn closes open websockets with 1012 on shutdown; the emulator first closes its own with
1001 ("going away"), which is what a clean shutdown of a real service looks like to a client.
"""

import asyncio
import importlib.util
import logging
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI

from emulator.edge.journal import masked_query
from emulator.streaming import GOING_AWAY, SERVER_FRAME_LIMIT, Connections


class MaskedAccessLog(logging.Filter):
    """Uvicorn's access log (at --log-level info) with secrets in query strings as `***`, as in the
    journal: `getFunds.php?name=alice&pass=***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            path, _, query = args[2].partition("?")
            record.args = (*args[:2], f"{path}?{masked_query(query)}", *args[3:])
        return True


def _mask_access_log() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, MaskedAccessLog) for f in logger.filters):
        logger.addFilter(MaskedAccessLog())


def stack() -> tuple[str, str]:
    """(loop, http) that uvicorn's "auto" settings choose in this process: uvloop and httptools when
    they are installed, else asyncio and h11."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    return loop, http


class EmulatorServer(uvicorn.Server):
    def __init__(
        self,
        app: FastAPI,
        host: str,
        port: int,
        log_level: str = "warning",
        loop: str = "auto",
        http: str = "auto",
    ) -> None:
        compression = bool(getattr(app.state, "settings", None) and app.state.settings.ws_compression)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            loop=loop,  # "auto": uvloop if installed, else asyncio
            http=http,  # "auto": httptools if installed, else h11
            ws="auto",
            ws_per_message_deflate=compression,
            ws_max_size=SERVER_FRAME_LIMIT,
            timeout_keep_alive=30,  # pooled clients reuse idle connections; 5 s raced them into resets
        )
        super().__init__(config)
        _mask_access_log()
        self.app = app
        self.on_started: list[Any] = []

    @property
    def port(self) -> int:
        ports = [s.getsockname()[1] for server in self.servers for s in server.sockets]
        return int(ports[0]) if ports else self.config.port

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        for callback in self.on_started:
            callback(self)

    async def shutdown(self, sockets: Any = None) -> None:
        connections: Connections = self.app.state.connections
        connections.close_all(*GOING_AWAY)
        for _ in range(50):  # give the writers a moment to send their close frames
            if not connections.clients:
                break
            await asyncio.sleep(0.01)
        await super().shutdown(sockets)


def free_port() -> int:
    """A loopback port nobody listens on right now (for tests and benchmarks that start servers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port

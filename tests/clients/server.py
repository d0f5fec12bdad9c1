"""A real uvicorn server on a free loopback port, in a thread, for tests that need a socket."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from emulator.server import EmulatorServer, free_port


@contextmanager
def running(app: FastAPI, loop: str = "auto", http: str = "auto") -> Iterator[str]:
    """Serve the app on 127.0.0.1 and yield its base URL (http://127.0.0.1:PORT)."""
    port = free_port()
    server = EmulatorServer(app, "127.0.0.1", port, loop=loop, http=http)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

"""A MtGox websocket client for tests: reads frames until the market goes quiet."""

import json
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


def open_socket(base: str, path: str = "/mtgox", **kwargs: Any) -> ClientConnection:
    return connect(base.replace("http://", "ws://") + path, open_timeout=5, **kwargs)


def read_all(socket: ClientConnection, quiet_for: float = 0.3) -> list[dict[str, Any]]:
    """Every frame the server sends until none arrives for `quiet_for` seconds (delivery, not market time)."""
    frames = []
    while True:
        try:
            frames.append(json.loads(socket.recv(timeout=quiet_for)))
        except TimeoutError:
            return frames
        except ConnectionClosed:
            return frames


def of_kind(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f[kind] for f in frames if f.get("private") == kind]

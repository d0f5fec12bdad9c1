"""Small helpers for MtGox tests: credentials and calls the way a 2011 client made them."""

from typing import Any

from starlette.testclient import TestClient

ALICE = {"name": "alice", "pass": "alice-pass"}
BOB = {"name": "bob", "pass": "bob-pass"}


def call(
    client: TestClient, method: str, who: dict[str, str] | None = None, prefix: str = "/code/", **fields: str
) -> Any:
    response = client.post(prefix + method, data={**(who or {}), **fields})
    assert response.status_code == 200
    return response.json()


def last_tid(client: TestClient) -> int:
    trades = client.get("/code/data/getTrades.php").json()
    return int(trades[-1]["tid"])

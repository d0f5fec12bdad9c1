"""Helpers for the BitcoinAverage tests: the demo keys of every plan, signing, keyed GETs."""

import hashlib
import hmac
import json
from typing import Any

import httpx
from starlette.testclient import TestClient

from emulator.paths import data_dir

_FIXTURE = json.loads((data_dir("fixtures") / "accounts.json").read_text())
KEYS: dict[str, tuple[str, str]] = {
    k["plan"]: (k["public_key"], k["secret_key"]) for k in _FIXTURE["bitcoinaverage_keys"]
}


def signature(plan: str, timestamp: int | str) -> str:
    public, secret = KEYS[plan]
    payload = f"{timestamp}.{public}"
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{digest}"


def get(client: TestClient, path: str, plan: str | None = "enterprise", **headers: str) -> httpx.Response:
    """GET with the plan's demo key in `x-ba-key` (None: anonymous)."""
    if plan is not None:
        headers = {"x-ba-key": KEYS[plan][0], **headers}
    return client.get(path, headers=headers)


def ok(client: TestClient, path: str, plan: str | None = "enterprise") -> Any:
    answer = get(client, path, plan)
    assert answer.status_code == 200, (path, answer.status_code, answer.text)
    return answer.json()


def advance(client: TestClient, seconds: float) -> None:
    assert client.post("/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200

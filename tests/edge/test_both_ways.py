"""The fast lane and the middleware way are one pipeline: the same requests, sent both ways, get
the same answers and leave the same journal entries (emulator.edge.pipeline)."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from emulator.apis.mtgox import routes as mtgox_routes
from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import START_TEXT

ENTERPRISE = {"x-ba-key": "EnterpriseDemoPublicKey0000000000000000000"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
# (path, headers, body): the polled reads, with each kind of credential the journal reads
REQUESTS: list[tuple[str, dict[str, str], bytes]] = [
    ("/code/data/ticker.php", {}, b""),
    ("/api/0/data/getDepth.php", {}, b""),
    ("/code/data/getTrades.php?since=28000", {}, b""),
    ("/api/0/data/getTrades.php?since=28000&name=bob&pass=secret", {}, b""),
    ("/code/ticker.php", {}, b""),
    ("/code/data/ticker.php?Currency=XYZ", {}, b""),
    ("/code/data/ticker.php", FORM, b"name=alice"),
    ("/code/data/ticker.php", {"rest-key": "no-such-key"}, b""),
    ("/code/data/ticker.php", {"cookie": "mtgox_session=unknown"}, b""),
    ("/indices/local/ticker/BTCUSD", {}, b""),
    ("/indices/global/ticker/BTCUSD", ENTERPRISE, b""),
    ("/indices/global/ticker/BTCEUR", {"x-signature": "1.SomeKey.abc"}, b""),
    ("/indices/local/ticker/BTCXYZ", ENTERPRISE, b""),
]
KEPT = ("api", "method", "path", "query", "status", "time", "auth", "identity", "fault", "error")


@pytest.fixture
def both() -> Iterator[TestClient]:
    """One app, worlds alike for three tenants (same seed and start, manual clock)."""
    app: FastAPI = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    with TestClient(app) as client:
        for tenant in ("fast", "prefixed", "faulted"):
            client.get("/_emulator/clock", headers={"X-Emulator-Tenant": tenant})  # makes its world
        never = {"path": "/code/nothing-matches-this", "effect": "status"}  # takes the world off the fast lane
        assert client.post("/_emulator/faults", json=never, headers={"X-Emulator-Tenant": "faulted"}).status_code == 201
        yield client


def send(client: TestClient, way: str, path: str, headers: dict[str, str], body: bytes) -> Any:
    """`fast`: named by the header, world made, no fault rules; `prefixed`: under /_t/<tenant>/;
    `faulted`: named by the header, but its world has a fault rule."""
    if way == "prefixed":
        return client.request("GET", f"/_t/{way}{path}", headers=headers, content=body)
    return client.request("GET", path, headers={"X-Emulator-Tenant": way, **headers}, content=body)


def journal(client: TestClient, tenant: str) -> list[dict[str, Any]]:
    entries = client.get("/_emulator/journal", headers={"X-Emulator-Tenant": tenant}).json()["entries"]
    return [{k: entry[k] for k in KEPT} for entry in entries]


def answers(client: TestClient, way: str) -> list[tuple[int, dict[str, str], bytes]]:
    out = []
    for path, headers, body in REQUESTS:
        answer = send(client, way, path, headers, body)
        out.append((answer.status_code, dict(answer.headers), answer.content))
    return out


def test_the_same_requests_answer_and_journal_alike_both_ways(both: TestClient, monkeypatch: Any) -> None:
    fast = answers(both, "fast")
    for way in ("prefixed", "faulted"):
        assert answers(both, way) == fast, way
    entries = journal(both, "fast")
    assert len(entries) == len(REQUESTS)
    for way in ("prefixed", "faulted"):
        assert journal(both, way) == entries, way
    by_body = entries[REQUESTS.index(("/code/data/ticker.php", FORM, b"name=alice"))]
    assert (by_body["auth"], by_body["identity"]) == ("name", "alice")  # the fast lane reads the body too
    assert entries[3]["query"] == "since=28000&name=bob&pass=***" and entries[3]["identity"] == "bob"
    assert entries[11]["auth"] == "x-signature" and entries[11]["identity"] == "SomeKey"


def test_an_exception_answers_alike_both_ways(both: TestClient, monkeypatch: Any) -> None:
    """A route that fails answers in its API's style whichever way the request came (the fast lane
    once answered its own JSON 500)."""

    def broken(connection: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(mtgox_routes, "world_of", broken)
    seen = {way: send(both, way, "/code/data/ticker.php", {}, b"") for way in ("fast", "prefixed", "faulted")}
    monkeypatch.undo()
    for way, answer in seen.items():
        assert (answer.status_code, answer.json()) == (200, {"error": "Internal error, please retry later."}), way
    assert journal(both, "fast") == journal(both, "prefixed") == journal(both, "faulted")
    assert journal(both, "fast")[-1]["status"] == 200

"""/_emulator/tape over HTTP: a posted tape comes out of getTrades, the /mtgox trade channel and the
trades CSV exactly; errors are JSON; a snapshot keeps a posted tape."""

from typing import Any

from starlette.testclient import TestClient

from emulator.apis.mtgox.websocket import TRADES
from emulator.market.clock import MICROS
from emulator.market.tape import parse_line
from tests.market.test_tape import T0, expected, tape_text

TENANT = {"X-Emulator-Tenant": "taped"}


def trades_since(client: TestClient, since: int) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    page = client.get("/code/data/getTrades.php", params={"since": since}, headers=TENANT).json()
    while page:
        listed += page
        page = client.get("/code/data/getTrades.php", params={"since": page[-1]["tid"]}, headers=TENANT).json()
    return listed


def test_a_posted_tape_comes_out_of_get_trades_the_websocket_and_the_csv(client: TestClient) -> None:
    text = tape_text(300, sides=True)
    want = expected(text)
    posted = client.post("/_emulator/tape", json={"csv": text}, headers=TENANT)
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert body["tape"] == "<posted>" and body["playing"] and body["clock"]["timestamp_us"] == want[0][1]
    streamed: list[dict[str, Any]] = []
    with client.websocket_connect("/_t/taped/mtgox") as ws:
        for _ in range(3):
            ws.receive_json()  # the three subscribe messages
        before = client.get("/_emulator/tape", headers=TENANT).json()["played"]  # those of the first second
        end = want[-1][1]
        while client.get("/_emulator/clock", headers=TENANT).json()["timestamp_us"] < end:
            client.post("/_emulator/clock/advance", json={"seconds": 20}, headers=TENANT)
            now = client.get("/_emulator/clock", headers=TENANT).json()["timestamp_us"]
            due = sum(1 for w in want if w[1] <= now)
            while before + len(streamed) < due:
                frame = ws.receive_json()
                if frame.get("channel") == TRADES:
                    streamed.append(frame["trade"])
    rows = [(w[0], w[2], w[3]) for w in want]
    listed = trades_since(client, want[0][1] - 1)[: len(want)]
    assert [(int(t["tid"]), int(t["price_int"]), int(t["amount_int"])) for t in listed] == rows
    assert [(int(t["tid"]), int(t["price_int"]), int(t["amount_int"])) for t in streamed] == rows[before:]
    assert [t["date"] for t in streamed] == [w[1] // MICROS for w in want[before:]]
    sides = {1: "ask", 2: "bid"}
    assert all(t["trade_type"] == sides[w[4]] for t, w in zip(listed, want, strict=True) if w[4] is not None)
    csv = client.get("/_emulator/tape/trades.csv", params={"since": want[0][1] - 1}, headers=TENANT).text
    parsed = [parse_line(line.encode()) for line in csv.splitlines()[: len(want)]]
    assert [(p.time, p.price, p.amount) for p in parsed] == [(w[1], w[2], w[3]) for w in want]
    assert all(p.side == w[4] for p, w in zip(parsed, want, strict=True) if w[4] is not None)
    status = client.get("/_emulator/tape", headers=TENANT).json()
    assert (status["played"], status["skipped"], status["playing"]) == (300, 0, False)
    day = client.get("/code/data/getTrades.php", headers=TENANT).json()  # the last 24 h
    assert {t["tid"] for t in day} >= {str(w[0]) for w in want}


def test_bad_tapes_are_refused_in_words_and_other_tenants_are_untouched(client: TestClient) -> None:
    refused = client.post("/_emulator/tape", json={"csv": f"{T0},17,1\n{T0},17,x\n"}, headers=TENANT)
    assert refused.status_code == 400
    assert refused.json() == {"error": "<posted>:2: the amount 'x' is not a plain decimal number"}
    unsorted = client.post("/_emulator/tape", json={"csv": f"{T0 + 9},17,1\n{T0},17,1\n"}, headers=TENANT)
    assert unsorted.status_code == 400 and unsorted.json()["error"].startswith("<posted>:2: out of order")
    empty = client.post("/_emulator/tape", json={"csv": "\n"}, headers=TENANT)
    assert empty.status_code == 400 and "no trades" in empty.json()["error"]
    huge = client.post("/_emulator/tape", json={"csv": "1" * (4 * 2**20 + 1)}, headers=TENANT)
    assert huge.status_code == 422
    assert client.post("/_emulator/tape", json={"path": "/etc/passwd"}, headers=TENANT).status_code == 422
    assert client.get("/_emulator/tape").json()["tape"] is None
    skipped = client.post("/_emulator/tape", json={"csv": f"{T0},17,1\nbad\n{T0 + 1},17,1\n", "skip_bad": True})
    assert skipped.status_code == 200
    client.post("/_emulator/clock/advance", json={"seconds": 5})
    assert client.get("/_emulator/tape").json()["skipped"] == 1


def test_a_snapshot_keeps_a_posted_tape_and_its_position(client: TestClient) -> None:
    text = tape_text(120)
    client.post("/_emulator/tape", json={"csv": text}, headers=TENANT)
    client.post("/_emulator/clock/advance", json={"seconds": 30}, headers=TENANT)
    saved = client.get("/_emulator/state", headers=TENANT).content
    client.post("/_emulator/clock/advance", json={"seconds": 300}, headers=TENANT)
    finished = client.get("/_emulator/state", headers=TENANT).content
    assert (
        client.post(
            "/_emulator/state", content=saved, headers={**TENANT, "content-type": "application/json"}
        ).status_code
        == 200
    )
    status = client.get("/_emulator/tape", headers=TENANT).json()
    assert status["playing"] and 0 < status["played"] < 120
    client.post("/_emulator/clock/advance", json={"seconds": 300}, headers=TENANT)
    assert client.get("/_emulator/state", headers=TENANT).content == finished
    dropped = client.delete("/_emulator/tape", headers=TENANT).json()
    assert dropped["tape"] is None


def test_a_scenario_with_a_tape_starts_at_its_first_trade_and_a_missing_tape_is_a_400(client: TestClient) -> None:
    missing = client.post("/_emulator/scenario", json={"yaml": "name: x\ntape: nonesuch.csv\n"}, headers=TENANT)
    assert missing.status_code == 400 and missing.json()["error"].startswith("nonesuch.csv:0: no such tape")
    started = client.post("/_emulator/scenario", json={"name": "tape-crash-sample"}, headers=TENANT).json()
    assert started["clock"]["now"] == "2011-06-19T12:00:01Z"
    client.post("/_emulator/clock/advance", json={"seconds": 60}, headers=TENANT)
    assert client.get("/_emulator/tape", headers=TENANT).json()["played"] > 30

"""The hot reads take a short path; they must answer exactly as the documented routes do."""

from starlette.testclient import TestClient


def test_mtgox_hot_gets_answer_like_the_post_routes(client: TestClient) -> None:
    for prefix in ("/code/", "/api/0/"):
        for path in ("data/ticker.php", "data/getDepth.php", "data/getTrades.php?since=28000"):
            hot = client.get(prefix + path)
            documented = client.post(prefix + path)
            assert hot.status_code == documented.status_code == 200
            assert hot.content == documented.content, prefix + path
    assert client.get("/code/ticker.php").content == client.post("/code/ticker.php").content
    assert client.get("/code/data/ticker.php?Currency=XYZ").json() == {"error": "Invalid currency."}


def test_bitcoinaverage_hot_ticker_answers_like_the_documented_route(client: TestClient) -> None:
    hot = client.get("/indices/local/ticker/BTCUSD")
    documented = client.get("/indices/local/ticker/btcusd")  # lower case: the fast lane passes it to the route
    assert hot.status_code == 200 and hot.json() == documented.json()
    assert client.get("/indices/local/ticker/BTCXYZ").status_code == 404
    for fixed in ("all", "short", "changes/all"):
        answer = client.get(f"/indices/local/ticker/{fixed}")
        assert answer.status_code == 200 and "BTCUSD" in answer.json(), fixed
    refused = client.get("/indices/global/ticker/BTCUSD", headers={"X-Signature": "1.2.3"})
    assert refused.status_code == 401 and refused.json()["success"] is False


def journal(client: TestClient, tenant: str = "default") -> list[dict[str, object]]:
    found = client.get("/_emulator/journal", headers={"X-Emulator-Tenant": tenant}).json()["entries"]
    return [{k: e[k] for k in ("api", "method", "path", "query", "status", "auth", "identity")} for e in found]


def test_the_fast_lane_answers_and_journals_like_the_normal_way(client: TestClient) -> None:
    """`/_t/<tenant>/` requests always take the middleware stack; header-named ones take the fast lane."""
    client.get("/code/data/ticker.php", headers={"X-Emulator-Tenant": "t1"})  # makes the world
    client.delete("/_emulator/journal", headers={"X-Emulator-Tenant": "t1"})
    key = {"x-ba-key": "EnterpriseDemoPublicKey0000000000000000000"}
    for path, headers in [("/code/data/getTrades.php?since=28000", {}), ("/indices/global/ticker/BTCUSD", key)]:
        fast = client.get(path, headers={"X-Emulator-Tenant": "t1", **headers})
        normal = client.get("/_t/t1" + path, headers=headers)
        assert fast.status_code == normal.status_code == 200
        assert fast.content == normal.content and fast.headers == normal.headers
    recorded = journal(client, "t1")
    assert recorded[0] == recorded[1] and recorded[2] == recorded[3]
    assert recorded[2]["auth"] == "x-ba-key" and recorded[0]["query"] == "since=28000"


def test_a_get_with_a_form_body_still_reads_it(client: TestClient) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    by_body = client.request("GET", "/code/data/getTrades.php", content=b"since=28000", headers=form)
    assert by_body.content == client.get("/code/data/getTrades.php?since=28000").content
    assert len(by_body.json()) == 100


def test_a_fault_rule_takes_a_hot_read_off_the_fast_lane(client: TestClient) -> None:
    rule = client.post(
        "/_emulator/faults", json={"path": "/code/data/ticker.php", "effect": "status", "status": 502, "count": 1}
    )
    assert rule.status_code == 201, rule.text
    assert client.get("/code/data/ticker.php").status_code == 502
    assert client.get("/code/data/ticker.php").status_code == 200


def test_remembered_paths_keep_their_own_parameters(client: TestClient) -> None:
    key = {"x-ba-key": "EnterpriseDemoPublicKey0000000000000000000"}
    first = client.get("/indices/local/ticker/BTCUSD", headers=key).json()
    other = client.get("/indices/local/ticker/BTCEUR", headers=key).json()
    again = client.get("/indices/local/ticker/BTCUSD", headers=key).json()
    assert first == again and first != other
    assert client.get("/indices/local/ticker/BTCXYZ", headers=key).status_code == 404


def test_the_hot_ticker_route_matches_upper_case_symbols_and_leaks_no_convertor() -> None:
    """Its narrower match is its own pattern: nothing lands in Starlette's process-wide convertors."""
    from starlette.convertors import CONVERTOR_TYPES
    from starlette.routing import Match

    from emulator.apis.bitcoinaverage.routes import hot_routes
    from emulator.app import create_app

    create_app()
    (route,) = hot_routes()
    assert all(type(c).__module__ == "starlette.convertors" for c in CONVERTOR_TYPES.values()), "Starlette's own"

    def matched(path: str) -> dict[str, object] | None:
        match, child = route.matches({"type": "http", "path": path, "method": "GET", "root_path": ""})
        return child["path_params"] if match is Match.FULL else None

    assert matched("/indices/global/ticker/BTCUSD") == {"market": "global", "symbol": "BTCUSD"}
    assert matched("/indices/local/ticker/DASHEUR") == {"market": "local", "symbol": "DASHEUR"}
    for other in ("/indices/local/ticker/all", "/indices/local/ticker/btcusd", "/indices/mars/ticker/BTCUSD"):
        assert matched(other) is None, other

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
    documented = client.get("/indices/local/ticker/btcusd")  # lower case takes the FastAPI route
    assert hot.status_code == 200 and hot.json() == documented.json()
    assert client.get("/indices/local/ticker/BTCXYZ").status_code == 404
    for fixed in ("all", "short", "changes/all"):
        answer = client.get(f"/indices/local/ticker/{fixed}")
        assert answer.status_code == 200 and "BTCUSD" in answer.json(), fixed
    refused = client.get("/indices/global/ticker/BTCUSD", headers={"X-Signature": "1.2.3"})
    assert refused.status_code == 401 and refused.json()["success"] is False

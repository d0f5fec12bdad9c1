"""The OpenAPI page describes the MtGox methods as they really are: GET and POST, both encodings."""

from starlette.testclient import TestClient

from emulator.apis.mtgox.routes import METHODS


def test_every_method_is_documented_for_get_and_post_and_both_encodings(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for prefix in ("/code/", "/api/0/"):
        for path, method in METHODS.items():
            if path == "ticker.php" and prefix == "/api/0/":
                continue
            operations = spec["paths"][prefix + path]
            assert set(operations) == {"get", "post"}
            names = {p["name"] for p in operations["get"]["parameters"]}
            assert set(method.params) <= names
            if method.auth:
                assert {"name", "pass", "nonce", "Rest-Key", "Rest-Sign"} <= names
            if method.params or method.auth:
                body = operations["post"]["requestBody"]["content"]
                assert set(body) == {"application/x-www-form-urlencoded", "multipart/form-data"}
                assert "requestBody" not in operations["get"]
    assert client.get("/docs").status_code == 200

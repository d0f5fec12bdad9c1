"""The API docs can be tried: what /docs sends after "Authorize" (an x-ba-key or an X-Signature header,
the document's security schemes) is what the keyed routes accept; path parameters carry their values
and an example that works; a known path asked with the wrong method is 405 with `Allow`."""

import hashlib
import hmac
import time
from collections.abc import Iterator

import httpx
import pytest

from emulator.app import create_app
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.apis.bitcoinaverage.conftest import KEYS
from tests.conftest import START_TEXT

NEED_QUERY = ("/indices/ticker/custom/", "/convert/")  # want query parameters too (?exchanges=, ?from=)
KEYED = "/weighting/exchanges"  # the anonymous plan may not call it: 403 without a key


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One server for the module: its document (examples rendered once) is what every test reads."""
    with (
        RunningEmulator(app=create_app(Settings(clock="manual", start=START_TEXT))) as served,
        httpx.Client(base_url=served.url, timeout=30) as client,
    ):
        yield client


def test_authorize_with_either_scheme_opens_keyed_routes(http: httpx.Client) -> None:
    public, secret = KEYS["developer"]
    document = http.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    operation = document["paths"][KEYED]["get"]
    assert {"x-ba-key", "X-Signature"} <= set(schemes)
    assert {} in operation["security"], "a key is optional where the anonymous plan may call"
    headers = {}
    for requirement in operation["security"]:
        for name in requirement:  # what Swagger UI sends for each scheme once authorised
            assert schemes[name] == {**schemes[name], "type": "apiKey", "in": "header"}
            headers[name] = schemes[name]["name"]
    assert http.get(KEYED).status_code == 403
    assert http.get(KEYED, headers={headers["x-ba-key"]: public}).status_code == 200
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{stamp}.{public}".encode(), hashlib.sha256).hexdigest()
    assert http.get(KEYED, headers={headers["X-Signature"]: f"{stamp}.{public}.{digest}"}).status_code == 200


def test_path_parameters_have_values_descriptions_and_working_examples(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    seen = set()
    for path, operations in paths.items():
        parameters = operations.get("get", {}).get("parameters", [])
        filled = path
        for parameter in parameters:
            if parameter["in"] == "path" and parameter["name"] in ("market", "symbol", "name"):
                seen.add(parameter["name"])
                assert parameter["description"]
                assert parameter["example"] in parameter["schema"]["enum"]
                filled = filled.replace("{" + parameter["name"] + "}", parameter["example"])
        if "{" not in filled and filled != path and not path.startswith(NEED_QUERY):
            answer = http.get(filled, headers={"x-ba-key": KEYS["enterprise"][0]})
            assert answer.status_code == 200, (filled, answer.text[:200])
    assert seen == {"market", "symbol", "name"}
    assert "BTCUSD" in paths["/indices/{market}/ticker/{symbol}"]["get"]["parameters"][1]["schema"]["enum"]


def test_a_wrong_method_is_405_with_allow(http: httpx.Client) -> None:
    for method, path, allowed in [
        ("POST", "/indices/global/ticker/BTCUSD", "GET"),
        ("DELETE", "/constants/symbols", "GET"),
        ("PUT", "/code/data/ticker.php", "POST"),
        ("DELETE", "/_emulator/reset", "POST"),
    ]:
        answer = http.request(method, path)
        assert answer.status_code == 405, (method, path, answer.text)
        assert allowed in answer.headers["allow"], answer.headers
        assert isinstance(answer.json()["error"], str)
    assert http.post("/indices/global/nothing").status_code == 404, "an unknown path stays 404"


def test_every_api_operation_has_an_example_and_a_schema_from_a_real_answer(http: httpx.Client) -> None:
    import jsonschema_rs  # schemathesis's validator (a test extra through it)

    paths = http.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        if path.startswith("/_emulator"):
            continue
        for verb, operation in operations.items():
            content = operation["responses"]["200"]["content"]
            assert any("example" in c for c in content.values()), (verb, path)
            json_content = content.get("application/json")
            if json_content:
                jsonschema_rs.validate(json_content["schema"], json_content["example"])

    funds = paths["/code/getFunds.php"]["post"]["responses"]["200"]["content"]["application/json"]
    assert funds["example"] == {"usds": 5000, "btcs": 100}, "alice's real funds in a fresh world"
    ticker = http.get("/indices/global/ticker/BTCUSD", headers={"x-ba-key": KEYS["enterprise"][0]}).json()
    schema = paths["/indices/{market}/ticker/{symbol}"]["get"]["responses"]["200"]["content"]["application/json"]
    jsonschema_rs.validate(schema["schema"], ticker)
    assert set(schema["example"]) == set(ticker)
    depth = paths["/api/0/data/getDepth.php"]["get"]["responses"]["200"]["content"]["application/json"]
    jsonschema_rs.validate(depth["schema"], http.get("/api/0/data/getDepth.php").json())
    jsonschema_rs.validate(depth["schema"], {"error": "Unknown method."})  # MtGox errors are 200 too
    assert not jsonschema_rs.is_valid(schema["schema"], {"success": False, "error": "Unknown"}), "a shape"
    assert "openapi-examples" not in http.get("/_emulator/tenants").text, "the examples' world is dropped"


def test_query_parameters_say_what_they_take(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]

    def query(path: str) -> dict[str, dict[str, object]]:
        return {p["name"]: p for p in paths[path]["get"]["parameters"] if p["in"] == "query"}

    history = query("/indices/{market}/history/{symbol}")
    assert history["period"]["schema"]["enum"] == ["daily", "monthly", "alltime"]
    assert history["format"]["schema"]["enum"] == ["json", "csv"]
    convert = query("/convert/{market}")
    assert convert["from"]["required"] and convert["to"]["required"] and not convert["amount"]["required"]
    for period in history["period"]["schema"]["enum"]:  # every offered choice is taken
        answer = http.get(
            "/indices/global/history/BTCUSD", params={"period": period}, headers={"x-ba-key": KEYS["enterprise"][0]}
        )
        assert answer.status_code == 200, period


def test_comma_list_parameters_list_their_values_and_take_them_all_at_once(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    key = {"x-ba-key": KEYS["enterprise"][0]}
    lists = {
        ("/indices/{market}/ticker/all", "/indices/global/ticker/all"): ("crypto", "fiat"),
        ("/exchanges/all", "/exchanges/all"): ("crypto", "fiat", "symbol"),
        ("/indices/ticker/custom/include/{symbol}", "/indices/ticker/custom/include/BTCUSD"): ("exchanges",),
    }
    for (path, filled), names in lists.items():
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        query = {}
        for name in names:
            parameter = parameters[name]
            assert (parameter["style"], parameter["explode"], parameter["schema"]["type"]) == ("form", False, "array")
            values = parameter["schema"]["items"]["enum"]
            assert values, (path, name)
            query[name] = ",".join(values)  # what /docs sends with every value ticked
        answer = http.get(filled, params=query, headers=key)
        assert answer.status_code == 200, (path, answer.text[:200])

"""The one OpenAPI builder: what an API's part says becomes the same OpenAPI shapes for every API."""

from typing import Any

from fastapi import FastAPI

from emulator.openapi import ApiPart, Operation, Parameter, SecurityScheme, install


def _part(*operations: Operation, schemes: tuple[SecurityScheme, ...] = ()) -> ApiPart:
    return ApiPart(tag="demo", operations=lambda: operations, schemes=schemes)


def _document(part: ApiPart) -> dict[str, Any]:
    app = FastAPI()
    install(app, [part])
    return app.openapi()


def test_parameters_say_where_they_go_what_they_take_and_how_lists_are_joined() -> None:
    parameters = (
        Parameter("market", "path", "a market", required=True, choices=("local", "global"), example="global"),
        Parameter("since", "query", "unix seconds"),
        Parameter("fiat", "query", "fiat codes", choices=("USD", "EUR"), comma_list=True),
        Parameter("exchanges", "query", "names", required=True, choices=("a", "b"), comma_list=True),
        Parameter("Rest-Key", "header"),
    )
    part = _part(Operation("/x/{market}", "get", "Demo", "demo_get", parameters))
    operation = _document(part)["paths"]["/x/{market}"]["get"]
    market, since, fiat, exchanges, key = operation["parameters"]
    assert market == {
        "name": "market",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["local", "global"]},
        "example": "global",
        "description": "a market",
    }
    assert since == {
        "name": "since",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "unix seconds",
    }
    assert fiat["schema"] == {"type": "array", "items": {"type": "string", "enum": ["USD", "EUR"]}}
    assert (fiat["style"], fiat["explode"]) == ("form", False), "?fiat=USD,EUR, not ?fiat=USD&fiat=EUR"
    assert exchanges["schema"]["minItems"] == 1, "a required list: an empty one is the parameter left out"
    assert key == {"name": "Rest-Key", "in": "header", "required": False, "schema": {"type": "string"}}
    assert operation["tags"] == ["demo"] and operation["operationId"] == "demo_get"
    assert "requestBody" not in operation and "security" not in operation


def test_a_form_becomes_both_body_encodings_and_schemes_are_optional_alternatives() -> None:
    schemes = (SecurityScheme("x-key", "a key"), SecurityScheme("X-Sig", "a signature"))
    part = _part(Operation("/y", "post", "Post", "post_y", form=("a", "b"), answer="Always 200"), schemes=schemes)
    document = _document(part)
    operation = document["paths"]["/y"]["post"]
    body = operation["requestBody"]
    assert body["required"] is False
    assert set(body["content"]) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    assert body["content"]["multipart/form-data"]["schema"]["properties"] == {
        "a": {"type": "string"},
        "b": {"type": "string"},
    }
    assert operation["responses"]["200"]["description"] == "Always 200"
    assert operation["security"] == [{}, {"x-key": []}, {"X-Sig": []}]
    assert document["components"]["securitySchemes"]["X-Sig"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Sig",
        "description": "a signature",
    }

"""The OpenAPI document (`/openapi.json`): FastAPI's own for the control plane, and each emulated
API's part, written out here and nowhere else.

The two APIs are plain routes that FastAPI cannot describe (MtGox is a table of methods behind one
route per prefix; BitcoinAverage's routes skip FastAPI's signature analysis, see its `routes.get`),
so each describes itself as data: an `ApiPart` with its operations, their parameters, its security
schemes and a way to get real answers for the examples (emulator.openapi_examples). This module
turns that data into OpenAPI objects, so both APIs' operations are shaped alike.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from fastapi import FastAPI


class Call(Protocol):
    """One request made in process for an example: its status and decoded JSON answer (or text)."""

    async def __call__(
        self,
        method: str,
        path: str,
        query: str = "",
        form: dict[str, str] | None = None,
        extra_headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class Parameter:
    name: str
    where: Literal["query", "path", "header"]
    description: str | None = None
    required: bool = False
    choices: Sequence[str] | None = None  # the values it takes (an enum, so /docs offers them)
    example: str | None = None
    comma_list: bool = False  # several of `choices` joined by commas (`?fiat=USD,EUR`), not repeated


@dataclass(frozen=True)
class Operation:
    path: str
    verb: str  # lower case, as OpenAPI keys operations
    summary: str
    operation_id: str
    parameters: Sequence[Parameter] = ()
    answer: str = "The answer"  # the description of the 200 response
    form: Sequence[str] = ()  # fields the body may carry, urlencoded or multipart (none: no body)


@dataclass(frozen=True)
class SecurityScheme:
    """An API key sent in a header of this name (what "Authorize" in /docs then sends)."""

    header: str
    description: str


@dataclass(frozen=True)
class ApiPart:
    """What one API contributes to the document."""

    tag: str  # the operations' tag: /docs groups them under it
    operations: Callable[[], Sequence[Operation]]  # called once, when the document is first asked for
    # Alternatives, each optional: an operation may be called with any one of them or with none.
    schemes: Sequence[SecurityScheme] = ()
    # A schema an answer may have instead of the documented one (MtGox: {"error": ...}, with HTTP 200).
    other_answer: dict[str, Any] | None = None
    # Real answers for the examples: path -> answer, asked through `Call` on a world of the API's own.
    examples: Callable[[Call], Awaitable[dict[str, Any]]] | None = None


def parameter(p: Parameter) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if p.choices is not None:
        schema["enum"] = list(p.choices)
    out: dict[str, Any] = {"name": p.name, "in": p.where, "required": p.required}
    if p.comma_list:  # OpenAPI's word for `a,b,c` in one query field: form style, not exploded
        out["schema"] = {"type": "array", "items": schema}
        if p.required:  # an empty list is the parameter left out
            out["schema"]["minItems"] = 1
        out["style"] = "form"
        out["explode"] = False
    else:
        out["schema"] = schema
    if p.example is not None:
        out["example"] = p.example
    if p.description is not None:
        out["description"] = p.description
    return out


def operation(op: Operation, part: ApiPart) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tags": [part.tag],
        "summary": op.summary,
        "operationId": op.operation_id,
        "parameters": [parameter(p) for p in op.parameters],
        "responses": {"200": {"description": op.answer, "content": {"application/json": {"schema": {}}}}},
    }
    if op.form:
        schema = {"type": "object", "properties": {name: {"type": "string"} for name in op.form}}
        out["requestBody"] = {
            "required": False,
            "content": {
                "application/x-www-form-urlencoded": {"schema": schema},
                "multipart/form-data": {"schema": schema},
            },
        }
    if part.schemes:
        out["security"] = [{}, *({scheme.header: []} for scheme in part.schemes)]
    return out


def paths(part: ApiPart) -> dict[str, dict[str, Any]]:
    """The part's OpenAPI `paths`: each path with its operations, in the order the part gives them."""
    out: dict[str, dict[str, Any]] = {}
    for op in part.operations():
        out.setdefault(op.path, {})[op.verb] = operation(op, part)
    return out


def security_schemes(part: ApiPart) -> dict[str, Any]:
    return {
        s.header: {"type": "apiKey", "in": "header", "name": s.header, "description": s.description}
        for s in part.schemes
    }


# The emulator's 422 body ({"error", "details"}, see app.py) in place of FastAPI's {"detail": [...]}.
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "details": {"type": "array", "items": {"type": "string"}}},
}


def install(app: FastAPI, parts: Sequence[ApiPart]) -> None:
    """Make `app.openapi()` the whole document: FastAPI's (the control plane), then each part's paths
    and security schemes, built once; the examples are added on the first request for it
    (emulator.docs, emulator.openapi_examples)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for part in parts:
                schema["paths"] = {**schema["paths"], **paths(part)}
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            for part in parts:
                schemes.update(security_schemes(part))
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_SCHEMA
                schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

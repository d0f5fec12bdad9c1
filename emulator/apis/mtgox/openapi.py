"""MtGox's part of the OpenAPI document (emulator.openapi): every method of the METHODS table under
each prefix, GET and POST alike, its fields as query parameters and as a form body; and the examples,
each method's real answer for the demo user alice.

routes.py gives its table to `part` and registers the part on the surface (emulator.surfaces): this
module reads the table through that argument, not by importing routes.py, which imports this one."""

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol

from emulator.apis.mtgox.surface import PREFIXES
from emulator.openapi import ApiPart, Call, Operation, Parameter

# The fields every method that needs a user takes besides its own (see auth.py).
CREDENTIALS = {
    "name": "user name (case-insensitive), or use the session cookie or Rest-Key",
    "pass": "password",
    "nonce": "with Rest-Key: an integer greater than the last one used",
}
ANSWER = 'The answer, or {"error": "..."} (always HTTP 200)'
SIGNED = (Parameter("Rest-Key", "header"), Parameter("Rest-Sign", "header"))
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
ALICE = {"name": "alice", "pass": "alice-pass"}
# Form fields of the methods, in an order that makes each answer a real one (an order to cancel).
FORMS: dict[str, dict[str, str]] = {
    "buyBTC.php": {"amount": "1", "price": "10"},
    "sellBTC.php": {"amount": "1", "price": "30"},
    "withdraw.php": {"group1": "BTC", "btca": "1HZwkjkeaoZfTSaJxDw6aKkxp45agDiEzN", "amount": "0.5"},
}


class Method(Protocol):
    """What the document reads of a method of routes.METHODS."""

    @property
    def summary(self) -> str: ...
    @property
    def auth(self) -> bool: ...
    @property
    def params(self) -> Mapping[str, str]: ...


Published = Callable[[str], Mapping[str, Method]]  # prefix -> the methods under it (routes.published)


def _operation(prefix: str, path: str, method: Method, verb: str) -> Operation:
    fields = {**(CREDENTIALS if method.auth else {}), **method.params}
    query = [Parameter(name, "query", text) for name, text in fields.items()]
    return Operation(
        path=prefix + path,
        verb=verb,
        summary=method.summary,
        operation_id=re.sub(r"\W", "_", f"mtgox_{verb}_{prefix}{path}"),
        parameters=[*query, *(SIGNED if method.auth else ())],
        answer=ANSWER,
        form=tuple(fields) if verb == "post" else (),
    )


def operations(published: Published) -> list[Operation]:
    return [
        _operation(prefix, path, method, verb)
        for prefix in PREFIXES
        for path, method in published(prefix).items()
        for verb in ("get", "post")
    ]


async def examples(published: Published, call: Call) -> dict[str, Any]:
    """Each method called once by POST under the first prefix, in the table's order; its answer is
    the example of that method under every prefix and verb."""
    answers: dict[str, Any] = {}
    first = PREFIXES[0]
    for name in published(first):
        form = {**ALICE, **FORMS.get(name, {})}
        if name == "cancelOrder.php":  # the bid placed by buyBTC.php above
            placed = answers.get("buyBTC.php", {})
            form.update(oid=str(placed.get("oid", "")), type="2")
        answers[name] = (await call("POST", first + name, form=form))[1]
    return {prefix + name: answers[name] for prefix in PREFIXES for name in published(prefix) if name in answers}


def part(published: Published) -> ApiPart:
    return ApiPart(
        tag="mtgox",
        operations=partial(operations, published),
        other_answer=ERROR,
        examples=partial(examples, published),
    )

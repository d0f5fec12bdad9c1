"""BitcoinAverage's part of the OpenAPI document (emulator.openapi), made tryable from /docs: every
GET route of routes.py, its two ways of sending a key as security schemes (so that "Authorize"
works), the values the `market`, `symbol` and `name` (exchange) path parameters and the comma-list
query parameters take, from the same catalog the routes read; and the examples, each route's real
answer for the enterprise demo key.

routes.py gives its ROUTES to `part` and registers the part on the surface (emulator.surfaces): this
module reads them through that argument, not by importing routes.py, which imports this one."""

import dataclasses
import re
from collections.abc import Mapping
from functools import cache, partial
from typing import Any, NamedTuple

from emulator.apis.bitcoinaverage.catalog import catalog
from emulator.apis.bitcoinaverage.params import MARKETS
from emulator.openapi import ApiPart, Call, Operation, Parameter, SecurityScheme


class Documented(NamedTuple):
    """A GET route as the OpenAPI document shows it: its function's name, its summary, its query
    parameters (path parameters are read from the path)."""

    name: str
    summary: str
    query: tuple[Parameter, ...]


Routes = Mapping[str, Documented]  # path -> its GET (routes.ROUTES)

SCHEMES = (
    SecurityScheme(
        "x-ba-key",
        "A public key alone, e.g. the developer plan's demo key "
        "`DeveloperDemoPublicKey00000000000000000000` (the README lists one per plan; "
        "`POST /_emulator/keys` makes more).",
    ),
    SecurityScheme(
        "X-Signature",
        "`<timestamp>.<public_key>.<hex HMAC-SHA256 of '<timestamp>.<public_key>' with the secret "
        "key>`, the timestamp within 15 s of now, e.g. in a shell: "
        "`t=$(date +%s); p=DeveloperDemoPublicKey00000000000000000000; "
        "echo $t.$p.$(printf %s $t.$p | openssl dgst -sha256 -hmac "
        "DeveloperDemoSecretKey0000000000000000000000000000000000 | cut -d' ' -f2)`.",
    ),
)
PATH_PARAMETER = re.compile(r"{(\w+)}")
KEY = (b"x-ba-key", b"EnterpriseDemoPublicKey0000000000000000000")  # every route, no rate limit
# Query strings some routes need (or that keep their examples small).
QUERIES = {
    "/indices/ticker/custom/include/{symbol}": "exchanges=bitstamp,kraken",
    "/indices/ticker/custom/exclude/{symbol}": "exchanges=bitstamp",
    "/indices/{market}/ticker/all": "crypto=BTC&fiat=USD,EUR",
    "/indices/{market}/ticker/short": "crypto=BTC&fiat=USD,EUR",
    "/indices/{market}/ticker/changes/all": "crypto=BTC&fiat=USD,EUR",
    "/indices/{market}/history/{symbol}": "period=daily",
    "/exchanges/all": "crypto=BTC&fiat=USD",
    "/exchanges/ticker/all": "crypto=BTC&fiat=USD",
    "/convert/{market}": "from=BTC&to=USD&amount=2",
}


@cache
def _known() -> dict[str, tuple[list[str], str, str]]:
    """Path parameters by name: their values, an example and a description."""
    books = catalog()
    symbols = sorted({s for market in MARKETS for s in books.symbols(market)})
    return {
        "market": (list(MARKETS), "global", "`local` (fiat markets of the crypto) or `global` (all of them in USD)"),
        "symbol": (symbols, "BTCUSD", "a crypto and a fiat code, e.g. BTCUSD (`/constants/symbols` lists them)"),
        "name": (sorted(books.exchanges), "bitstamp", "an exchange's name (`/exchanges/all` lists them)"),
    }


def _path_parameters(path: str) -> list[Parameter]:
    """The path's parameters, each with its values, an example and a description where it has them."""
    known = _known()
    out = []
    for name in PATH_PARAMETER.findall(path):
        if name in known:
            choices, example, description = known[name]
            example = example if example in choices else choices[0]
            out.append(Parameter(name, "path", description, required=True, choices=choices, example=example))
        else:
            out.append(Parameter(name, "path", required=True))
    return out


@cache
def _listed() -> dict[str, list[str]]:
    """Comma-list query parameters by name: the values their items take."""
    books = catalog()
    return {
        "crypto": list(books.cryptos),
        "fiat": list(books.fiats),
        "exchanges": sorted(books.exchanges),
        "symbol": list(books.global_symbols),
    }


def _with_values(parameter: Parameter) -> Parameter:
    """A comma-list query parameter with the values its items take."""
    if not parameter.comma_list:
        return parameter
    return dataclasses.replace(parameter, choices=_listed()[parameter.name])


def operations(routes: Routes) -> list[Operation]:
    return [
        Operation(
            path=path,
            verb="get",
            summary=route.summary,
            operation_id=re.sub(r"\W", "_", f"{route.name}{path}_get"),
            parameters=[*_path_parameters(path), *(_with_values(p) for p in route.query)],
        )
        for path, route in routes.items()
    ]


def _filled(path: str) -> str:
    """The path with each parameter's example (a known transaction for `tx_hash`)."""
    for parameter in _path_parameters(path):
        value = parameter.example
        if value is None and parameter.name == "tx_hash":
            value = next(iter(sorted(catalog().transactions)))
        path = path.replace("{" + parameter.name + "}", str(value))
    return path


async def examples(routes: Routes, call: Call) -> dict[str, Any]:
    """Each route called once, with the examples of its path parameters; failures are left out."""
    answers = {}
    for path in routes:
        status, answer = await call("GET", _filled(path), QUERIES.get(path, ""), extra_headers=(KEY,))
        if status == 200:
            answers[path] = answer
    return answers


def part(routes: Routes) -> ApiPart:
    return ApiPart(
        tag="bitcoinaverage",
        operations=partial(operations, routes),
        schemes=SCHEMES,
        examples=partial(examples, routes),
    )

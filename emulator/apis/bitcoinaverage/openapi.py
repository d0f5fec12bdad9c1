"""BitcoinAverage's part of the OpenAPI document, made tryable from /docs: its two ways of sending a
key as security schemes (so that "Authorize" works), and the values the `market`, `symbol` and
`name` (exchange) path parameters take, from the same catalog the routes read."""

import copy
from typing import Any

from emulator.apis.bitcoinaverage.catalog import catalog
from emulator.apis.bitcoinaverage.routes import MARKETS, openapi_paths

SECURITY_SCHEMES: dict[str, Any] = {
    "x-ba-key": {
        "type": "apiKey",
        "in": "header",
        "name": "x-ba-key",
        "description": "A public key alone, e.g. the developer plan's demo key "
        "`DeveloperDemoPublicKey00000000000000000000` (the README lists one per plan; "
        "`POST /_emulator/keys` makes more).",
    },
    "X-Signature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "`<timestamp>.<public_key>.<hex HMAC-SHA256 of '<timestamp>.<public_key>' with the secret "
        "key>`, the timestamp within 15 s of now, e.g. in a shell: "
        "`t=$(date +%s); p=DeveloperDemoPublicKey00000000000000000000; "
        "echo $t.$p.$(printf %s $t.$p | openssl dgst -sha256 -hmac "
        "DeveloperDemoSecretKey0000000000000000000000000000000000 | cut -d' ' -f2)`.",
    },
}
# Any one of them, or none: routes the anonymous plan may call answer without a key.
SECURITY: list[dict[str, list[str]]] = [{}, {"x-ba-key": []}, {"X-Signature": []}]


def _path_values() -> dict[str, tuple[list[str], str, str]]:
    """Each path parameter's values, an example and a description."""
    books = catalog()
    symbols = sorted({s for market in MARKETS for s in books.symbols(market)})
    exchanges = sorted(books.exchanges)
    return {
        "market": (list(MARKETS), "global", "`local` (fiat markets of the crypto) or `global` (all of them in USD)"),
        "symbol": (symbols, "BTCUSD", "a crypto and a fiat code, e.g. BTCUSD (`/constants/symbols` lists them)"),
        "name": (exchanges, "bitstamp", "an exchange's name (`/exchanges/all` lists them)"),
    }


def openapi_document() -> tuple[dict[str, Any], dict[str, Any]]:
    """The API's `paths` and its `components.securitySchemes`."""
    values = _path_values()
    paths = copy.deepcopy(openapi_paths())
    for operations in paths.values():
        for operation in operations.values():
            operation["security"] = SECURITY
            for parameter in operation["parameters"]:
                known = values.get(parameter["name"]) if parameter["in"] == "path" else None
                if known is not None:
                    choices, example, description = known
                    parameter["schema"] = {"type": "string", "enum": choices}
                    parameter["example"] = example if example in choices else choices[0]
                    parameter["description"] = description
    return paths, SECURITY_SCHEMES

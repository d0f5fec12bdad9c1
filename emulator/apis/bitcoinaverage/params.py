"""What a BitcoinAverage request's parameters say (spec §1), each wrong one the API's own 400 or 404.

The query string is read as clients send it: values are not URL-encoded, empty values mean absent, a
leading `&` is fine, and the first value of a name wins. Then the values are checked: symbols, crypto
and fiat codes and exchange names are case-insensitive; a code that is not 2-6 letters (a symbol
not 5-12) is a 400, a well-formed unknown symbol or exchange a 404, an unknown code in a filter a
400; `since`/`at` take decimal seconds (the fraction is dropped), negative or beyond year 9999: 400.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from emulator.apis.bitcoinaverage.auth import ApiError
from emulator.apis.bitcoinaverage.catalog import Catalog

MARKETS = ("local", "global")
SYMBOL = re.compile(r"[A-Za-z]{5,12}")
CODE = re.compile(r"[A-Za-z]{2,6}")
EXCHANGE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
HASH = re.compile(r"[0-9a-fA-F]{64}")
NUMBER = re.compile(r"[0-9]{1,20}(\.[0-9]{0,20})?")
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31 23:59:59
MAX_AMOUNT = Decimal(10) ** 12


def parse_query(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        name, value = unquote(name).strip(), unquote(value).strip()
        if name and value and name not in out:
            out[name] = value
    return out


def market_of(market: str) -> str:
    if market not in MARKETS:
        raise ApiError(400, f"Unknown market '{market[:32]}': use local or global")
    return market


def symbol_of(catalog: Catalog, market: str, symbol: str) -> str:
    if not SYMBOL.fullmatch(symbol):
        raise ApiError(400, f"Invalid symbol '{symbol[:32]}': expected <CRYPTO><FIAT>, e.g. BTCUSD")
    symbol = symbol.upper()
    if symbol not in catalog.symbols(market):
        raise ApiError(404, f"Symbol {symbol} not found in the {market} market")
    return symbol


def codes(params: dict[str, str], name: str, known: dict[str, Any]) -> list[str] | None:
    value = params.get(name)
    if value is None:
        return None
    out = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        if not CODE.fullmatch(item) or item.upper() not in known:
            raise ApiError(400, f"Invalid {name} '{item[:32]}'")
        out.append(item.upper())
    return out or None


def filtered(params: dict[str, str], catalog: Catalog, symbols: tuple[str, ...]) -> list[str]:
    """The symbols the `crypto` and `fiat` filters keep."""
    cryptos = codes(params, "crypto", catalog.cryptos)
    fiats = codes(params, "fiat", catalog.fiats)
    return [s for s in symbols if (cryptos is None or s[:-3] in cryptos) and (fiats is None or s[-3:] in fiats)]


def timestamp(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not NUMBER.fullmatch(value):
        raise ApiError(400, f"Invalid {name} '{value[:32]}': expected unix seconds")
    seconds = int(value.split(".")[0])
    if seconds > MAX_TIMESTAMP:
        raise ApiError(400, f"Invalid {name}: beyond year 9999")
    return seconds


def choice(params: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if value.lower() not in allowed:
        raise ApiError(400, f"Invalid {name} '{value[:32]}': one of {', '.join(allowed)}")
    return value.lower()


def exchange_name(catalog: Catalog, name: str) -> str:
    """A known exchange's name, in lower case."""
    if not EXCHANGE.fullmatch(name):
        raise ApiError(400, f"Invalid exchange name '{name[:32]}'")
    if name.lower() not in catalog.exchanges:
        raise ApiError(404, f"Exchange {name} not found")
    return name.lower()


def exchange_names(catalog: Catalog, value: str) -> list[str]:
    names = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        if not EXCHANGE.fullmatch(item):
            raise ApiError(400, f"Invalid exchange name '{item[:32]}'")
        if item.lower() not in catalog.exchanges:
            raise ApiError(404, f"Exchange {item} not found")
        names.append(item.lower())
    return names


def symbol_list(catalog: Catalog, value: str) -> list[str]:
    """A comma list of symbols, each a known crypto and fiat pair (of the global market)."""
    symbols = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        if not SYMBOL.fullmatch(item) or catalog.split(item.upper()) is None:
            raise ApiError(400, f"Invalid symbol '{item[:32]}'")
        symbols.append(item.upper())
    return symbols


def btc_symbol(catalog: Catalog, symbol: str) -> str:
    """A known BTC symbol (of the global market), the only kind transactions are priced in."""
    if not SYMBOL.fullmatch(symbol):
        raise ApiError(400, f"Invalid symbol '{symbol[:32]}'")
    symbol = symbol.upper()
    if not symbol.startswith("BTC"):
        raise ApiError(400, "Only BTC symbols are supported")
    if symbol not in catalog.global_symbols:
        raise ApiError(404, f"Symbol {symbol} not found")
    return symbol


def transaction_hash(value: str) -> str:
    if not HASH.fullmatch(value):
        raise ApiError(400, "Invalid transaction hash: expected 64 hexadecimal digits")
    return value


def currency(params: dict[str, str], catalog: Catalog, name: str) -> tuple[str, str]:
    """The required currency parameter `name`: ("crypto" or "fiat", its code)."""
    value = params.get(name)
    if value is None:
        raise ApiError(400, f"The {name} parameter is required")
    if not CODE.fullmatch(value):
        raise ApiError(400, f"Invalid {name} currency '{value[:32]}'")
    code = value.upper()
    if code in catalog.cryptos:
        return "crypto", code
    if code in catalog.fiats:
        return "fiat", code
    raise ApiError(400, f"Unknown {name} currency '{code}'")


def amount(params: dict[str, str]) -> Decimal:
    """`amount`, a decimal in [0, 1e12], default 1."""
    raw = params.get("amount", "1")
    try:
        quantity = Decimal(raw)
    except InvalidOperation:
        raise ApiError(400, f"Invalid amount '{raw[:32]}'") from None
    if not quantity.is_finite() or quantity < 0 or quantity > MAX_AMOUNT:
        raise ApiError(400, f"Invalid amount '{raw[:32]}': a number from 0 to 1000000000000")
    return quantity

"""Query strings as BitcoinAverage clients send them (spec §1): values are not URL-encoded, empty
values mean absent, a leading `&` is fine, and the first value of a name wins."""

from urllib.parse import unquote


def parse_query(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        name, value = unquote(name).strip(), unquote(value).strip()
        if name and value and name not in out:
            out[name] = value
    return out

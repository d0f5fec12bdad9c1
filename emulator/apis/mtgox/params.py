"""MtGox's transport: every method takes GET and POST, urlencoded or multipart bodies and the query
string (body wins); unknown fields are ignored and empty values count as absent."""

from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_BODY = 64 * 1024
BODY_HEADERS = (b"content-length", b"transfer-encoding")
QUERIES = 1024
_parsed: dict[bytes, dict[str, str]] = {}


class BadRequest(Exception):
    """Input the API answers with `{"error": ...}` (HTTP 200, as MtGox did)."""


async def read_params(request: Request) -> tuple[dict[str, str], bytes]:
    """The request's parameters and its raw body (Rest-Sign signs the raw body)."""
    body = await request.body() if _has_body(request) else b""
    if len(body) > MAX_BODY:
        raise BadRequest("Invalid.")
    params = query_params(request.scope.get("query_string", b""))
    if body:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            try:
                form = await request.form()
            except Exception as exc:  # python-multipart raises several kinds on malformed input
                raise BadRequest("Invalid.") from exc
            fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        else:
            fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update((k, v) for k, v in fields if v != "")
    return params, body


def query_params(query: bytes) -> dict[str, str]:
    """A query string's fields (a fresh dict): the polls repeat a few query strings, so each is
    parsed once and remembered (QUERIES of them)."""
    if not query:
        return {}
    found = _parsed.get(query)
    if found is None:
        text = query.decode("utf-8", "replace")
        found = {k: v for k, v in parse_qsl(text, keep_blank_values=True) if v != ""}
        if len(_parsed) >= QUERIES:
            _parsed.clear()
        _parsed[query] = found
    return dict(found)


def _has_body(request: Request) -> bool:
    """HTTP/1.1 gives a request a body only with Content-Length or Transfer-Encoding (RFC 9112 6.3);
    most polls have neither, and for those waiting on the (empty) body is pure overhead."""
    return any(name in BODY_HEADERS for name, _ in request.scope["headers"])

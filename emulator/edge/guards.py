"""What a web page in the developer's browser must not be able to do to a local emulator (the
request pipeline, emulator.edge.pipeline, applies these checks to every request).

- DNS rebinding: a page on `attacker.example` whose name is made to resolve to 127.0.0.1 reaches the
  emulator as if same-origin. A request that arrives on a loopback address (the connection's local
  address, so `serve --host 0.0.0.0` reached through 127.0.0.1 counts too) must carry a loopback
  `Host`: `localhost`, `*.localhost`, `127.x.x.x` or `[::1]`, any port. Others answer 421. Requests
  arriving on another address (a docker-compose network) are for the operator's network to guard.
- Cross-site requests to the control API: a page on another origin can send "simple" requests (a
  bodiless POST, a `text/plain` body) without asking first. The control API refuses a request whose
  `Origin` is not the server's own (403), and a body sent without a JSON content type (415), which
  no page can send cross-origin without a CORS preflight that the emulator never grants. A request
  without `Origin` (curl, test clients, the plugin) is not a browser's cross-site request.
"""

import ipaddress

from starlette.types import Message, Receive, Scope, Send

from emulator.responses import JSON

CONTROL = "/_emulator"
JSON_TYPES = ("application/json",)


def is_loopback(host: str) -> bool:
    """A loopback name or address, as a Host header or a socket address gives it."""
    host = host.strip().lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name of `host:port`, `[v6]:port`, or a bare name."""
    if header.startswith("["):
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    """Answer an HTTP request, or a websocket handshake where the server can send a denial."""
    response = JSON({"error": message}, status_code=status)
    if scope["type"] == "http" or "websocket.http.response" in scope.get("extensions", {}):
        await response(scope, receive, send)
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})


HOSTS_REMEMBERED = 256
_host_verdicts: dict[tuple[str, str], bool] = {}


def host_problem(scope: Scope) -> str | None:
    """Why a request may not be served for its Host (see the module docstring), else None. Called
    on every request before anything else, so each (address, Host) pair is judged once."""
    server = scope.get("server")
    host = _header(scope, b"host")
    if not server or host is None:
        return None
    pair = (str(server[0]), host)
    allowed = _host_verdicts.get(pair)
    if allowed is None:
        allowed = not is_loopback(pair[0]) or is_loopback(host_name(host))
        if len(_host_verdicts) >= HOSTS_REMEMBERED:
            _host_verdicts.clear()
        _host_verdicts[pair] = allowed
    if allowed:
        return None
    return f"Host {host[:64]!r} is not this emulator's: served on loopback, it answers to localhost"


def is_control(path: str) -> bool:
    """A control API path (tenant prefix already stripped)."""
    return path.startswith(CONTROL)


def control_problem(scope: Scope) -> tuple[int, str] | None:
    """Why a control API request is refused for its Origin or content type (status, words), else None."""
    origin = _header(scope, b"origin")
    if origin is not None:
        host = _header(scope, b"host") or ""
        scheme = "https" if scope.get("scheme") == "https" else "http"
        if origin.lower() != f"{scheme}://{host}".lower():
            return 403, "the control API answers pages of its own origin only"
    if scope["method"] in ("POST", "PUT", "PATCH", "DELETE") and _has_body(scope):
        kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if kind not in JSON_TYPES and not (kind.startswith("application/") and kind.endswith("+json")):
            return 415, "send the body as JSON (Content-Type: application/json)"
    return None


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return _header(scope, b"transfer-encoding") is not None


PAGES = ("/_emulator/ui", "/docs", "/redoc")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
PAGE_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def is_page(path: str) -> bool:
    """The dashboard and the API docs: what a browser renders (tenant prefix already stripped)."""
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PAGES)


def with_page_headers(send: Send) -> Send:
    """`send` adding to a page's answer a Content-Security-Policy of its own origin, nosniff and no
    framing, so that nothing injected into it runs and no other site can frame it (clickjacking the
    controls). A page's own policy wins."""

    async def with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            own_policy = any(name == b"content-security-policy" for name, _ in headers)
            added = PAGE_HEADERS[1:] if own_policy else PAGE_HEADERS
            message = {**message, "headers": [*headers, *added]}
        await send(message)

    return with_headers

"""`/openapi.json`, and `/docs` (Swagger UI) and `/redoc` (ReDoc) that work offline, the case this tool
exists for.

FastAPI's own pages load their scripts from a CDN (and ReDoc's fonts from Google). These load the
bundles of the installed `fastapi-offline` package (a maintained PyPI package that ships Swagger UI
and ReDoc), served under /docs/assets/. Its folder is found without importing it: start-up time.
"""

import base64
import hashlib
import importlib.util
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.responses import FileResponse, HTMLResponse, Response

from emulator.responses import JSON
from emulator.routing import LoopRoute

ASSETS = "/docs/assets"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)
OPENAPI_URL = "/openapi.json"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
SWAGGER_PARAMETERS = {
    "validatorUrl": None,  # Swagger UI would ask validator.swagger.io for a badge: a request off the machine
    "persistAuthorization": True,  # keys entered under "Authorize" survive a reload of the page
    "tryItOutEnabled": True,
}

router = APIRouter(include_in_schema=False, route_class=LoopRoute)


@cache
def assets_folder() -> Path:
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("the fastapi-offline package (Swagger UI and ReDoc bundles) is not installed")
    return Path(spec.origin).parent / "static"


def _title(request: Request) -> str:
    return str(request.app.title)


@router.get(OPENAPI_URL)
async def openapi_document(request: Request) -> JSON:
    """FastAPI's document, with the examples and schemas of real answers (emulator.openapi_examples)."""
    await request.app.state.openapi_examples.ensure(request.app)
    return JSON(request.app.openapi())


def with_policy(page: HTMLResponse) -> HTMLResponse:
    """The page with a Content-Security-Policy that runs its own inline start-up scripts (by hash)
    and the bundles from this server, nothing else; inline styles are allowed, which both UIs
    write at run time (ReDoc through styled-components). emulator.edge.guards.with_page_headers adds the rest."""
    html = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(html)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return with_policy(
        get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{_title(request)} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )
    )


@router.get(OAUTH2_REDIRECT)
def oauth2_redirect() -> HTMLResponse:
    return with_policy(get_swagger_ui_oauth2_redirect_html())


# ReDoc's side menu shows a "Redocly" logo it loads from Redocly's CDN, with no option to turn it
# off: the page's own policy keeps images on this server, so nothing leaves the machine.
REDOC_POLICY = """<meta http-equiv="Content-Security-Policy" content="img-src 'self' data:">
<style>.menu-content a[href*="redocly"] { display: none; }</style>"""


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    page = get_redoc_html(
        openapi_url=OPENAPI_URL,
        title=f"{_title(request)} - ReDoc",
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )
    html = bytes(page.body).decode().replace("<head>", "<head>\n" + REDOC_POLICY, 1)
    return with_policy(HTMLResponse(html))


@router.get(ASSETS + "/{name}")
def asset(name: str) -> Response:
    path = assets_folder() / name
    media_type = MEDIA_TYPES.get(path.suffix)
    if "/" in name or "\\" in name or name.startswith(".") or media_type is None or not path.is_file():
        raise HTTPException(404, "no such documentation asset")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

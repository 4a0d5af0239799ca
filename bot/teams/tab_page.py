"""The Home tab's HTTP side: the page, its own script and style (and the pinned teams-js), and
its JSON API, mounted by bot.app.web when Teams is served and TEAMS_TAB_DOMAIN is set.

- `GET /tab/home`: the page Teams opens in the tab. It holds no one's data.
- `GET /tab/static/<file>`: the files of bot/teams/tab_static, nothing else.
- `GET /tab/api/home`, `POST /tab/api/click`, `POST /tab/api/submit`: JSON, each with the
  person's Teams sign-in token as `Authorization: Bearer` (bot.teams.tab_auth), checked before
  any other work. A refused token is a 401 (`{"error": "unauthorized"}`), never a 500 and
  never anyone's data; the answers carry HTML fragments drawn by bot.teams.tab_render.

Every response carries a strict Content Security Policy: scripts, styles and connections only
from this server (and, in test mode, the loopback identity provider's origin for the token),
no inline script or style, no plugins, no base or form targets, and only Teams' own hosts may
frame the page (`FRAME_ANCESTORS`, from Microsoft's tab requirements).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.core.config import Settings
from bot.core.person_ref import PersonRef
from bot.teams.package import HOME_TAB_PATH
from bot.teams.tab_auth import TAB_API_PATH, TabTokens
from bot.teams.tab_listeners import TabAnswer, TabListeners
from bot.teams.tab_render import STATIC_PATH, form_html, message_html, page_html
from bot.teams.tokens import TokenRefused

logger = logging.getLogger(__name__)

PAGE_PATH = HOME_TAB_PATH
STATIC_DIR = Path(__file__).parent / "tab_static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Microsoft's list of the hosts that frame a Teams tab: Teams' web and desktop clients, and
# the cloud.microsoft domain Microsoft 365's clients move to.
FRAME_ANCESTORS = (
    "https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft"
)
# A request body larger than this is not a click or a form of ours.
MAX_BODY = 64 * 1024


def content_security_policy(test_token_url: str | None) -> str:
    connect = "'self'"
    if test_token_url:
        parsed = urlparse(test_token_url)
        connect += f" {parsed.scheme}://{parsed.netloc}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors 'self' {FRAME_ANCESTORS}",
        )
    )


def static_files() -> dict[str, tuple[bytes, str]]:
    """The files the page may load, by their path under /tab/static: their bytes, read once
    at start (no file I/O on the event loop), and their content type."""
    return {
        path.relative_to(STATIC_DIR).as_posix(): (path.read_bytes(), STATIC_TYPES[path.suffix])
        for path in STATIC_DIR.rglob("*")
        if path.is_file() and path.suffix in STATIC_TYPES
    }


def tab_routes(listeners: TabListeners, tokens: TabTokens, settings: Settings) -> list[Route]:
    test_url = settings.teams_tab_test_token_url
    if test_url:
        logger.warning(
            "NOTPROMOTED_TEAMS_TAB_TEST_MODE is on: the Home tab's page takes its sign-in token "
            "from the test identity provider at %s instead of from Teams. The server still "
            "checks every token against the tenant's keys. Use it for tests and local "
            "development only, never in production.",
            test_url,
        )
    headers = {
        "Content-Security-Policy": content_security_policy(test_url),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    files = static_files()
    default = listeners.default

    async def page(_request: Request) -> Response:
        html = page_html(default, lang=default.locale, test_token_url=test_url)
        return HTMLResponse(html, headers={**headers, "Cache-Control": "no-cache"})

    async def static(request: Request) -> Response:
        found = files.get(str(request.path_params["path"]))
        if found is None:
            return Response("not found", 404, headers=headers, media_type="text/plain")
        content, kind = found
        return Response(content, headers={**headers, "Cache-Control": "no-cache"}, media_type=kind)

    def api(
        work: Callable[[PersonRef, Request], Awaitable[dict[str, Any]]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            sent = {**headers, "Cache-Control": "no-store"}
            try:
                ref = await tokens.person(request.headers.get("authorization", ""))
            except TokenRefused as refused:
                error = "unauthorized" if refused.status == 401 else "unavailable"
                return JSONResponse({"error": error}, refused.status, headers=sent)
            try:
                return JSONResponse(await work(ref, request), headers=sent)
            except BadRequest as bad:
                return JSONResponse({"error": str(bad)}, 400, headers=sent)
            except Exception:
                logger.exception("a Home tab request failed")
                return JSONResponse({"error": "unavailable"}, 503, headers=sent)

        return answer

    async def drawn(ref: PersonRef, answer: TabAnswer | None = None) -> dict[str, Any]:
        current = await listeners.tab_home(ref)
        controls = current.locale.text("tab_controls")
        result: dict[str, Any] = {
            "home": message_html(current.message, current.names, controls=controls),
            "said": None,
            "form": None,
        }
        if answer is not None:
            result["said"] = answer.said
            if answer.form is not None:
                result["form"] = form_html(answer.form, answer.names, current.locale)
        return result

    async def home(ref: PersonRef, _request: Request) -> dict[str, Any]:
        return await drawn(ref)

    async def click(ref: PersonRef, request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        action, value = body.get("action"), body.get("value", "")
        if not isinstance(action, str) or not isinstance(value, str):
            raise BadRequest("a click names its action and value as strings")
        return await drawn(ref, await listeners.tab_click(ref, action, value))

    async def submit(ref: PersonRef, request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        return await drawn(ref, await listeners.tab_submit(ref, body))

    return [
        Route(PAGE_PATH, page, methods=["GET"]),
        Route(f"{STATIC_PATH}/{{path:path}}", static, methods=["GET"]),
        Route(f"{TAB_API_PATH}/home", api(home), methods=["GET"]),
        Route(f"{TAB_API_PATH}/click", api(click), methods=["POST"]),
        Route(f"{TAB_API_PATH}/submit", api(submit), methods=["POST"]),
    ]


class BadRequest(Exception):
    """A request the tab's own page would never send (400, with why)."""


async def _json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest("send JSON (Content-Type: application/json)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadRequest("the request body is too large")
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest("the request body is not JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("the request body is not a JSON object")
    return parsed

"""In front of Bolt: refuse oversized, unsigned and malformed requests with 413, 401 and 400.

Bolt parses a body before it checks the signature and answers 500 to some malformed ones, so
these checks run first, on the raw bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request

MAX_BODY_BYTES = 1024 * 1024
MAX_CLOCK_SKEW_SECONDS = 5 * 60


class BodyTooLarge(Exception):
    pass


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, or BodyTooLarge as soon as it is known to exceed the limit."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge
        except ValueError:
            raise BodyTooLarge from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature, over the raw bytes (whatever their encoding)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def is_signed(
    secret: str, body: bytes, headers: Mapping[str, str], *, now: float | None = None
) -> bool:
    """A valid signature, with a timestamp at most five minutes from now."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not secret or not timestamp or not signature:
        return False
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 16):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return False
    return hmac.compare_digest(signature_for(secret, timestamp, body), signature)


# Headers whose every copy must agree: Starlette's `headers.get` reads the first copy, and a
# dict of them (what Bolt is handed) keeps the last, so two copies would let the guard and Bolt
# read different requests (two Content-Types once made Bolt parse a form as JSON: a 500).
SINGLE_HEADERS = ("content-type", "x-slack-signature", "x-slack-request-timestamp")


def repeated_header(headers: Headers) -> str | None:
    """The first of SINGLE_HEADERS the request carries more than once, or None."""
    return next((name for name in SINGLE_HEADERS if len(headers.getlist(name)) > 1), None)


def first_values(headers: Headers) -> dict[str, str]:
    """Each header's first copy, as `headers.get` (and so this guard) reads it: what Bolt is
    handed, so that it reads the same request the guard checked."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        kept.setdefault(name, value)
    return kept


# Where Slack's response URLs point (GovSlack has a domain of its own). Bolt's respond() posts
# its answer to whatever URL a signed body names, and that answer can say where a person is in
# their journey; so a response URL elsewhere is refused, and only Slack, or the origin of the
# configured SLACK_API_URL (a stand-in for Slack), ever reads one.
SLACK_REPLY_ORIGINS = (("https", "hooks.slack.com"), ("https", "hooks.slack-gov.com"))


def reply_origins(api_url: str) -> frozenset[tuple[str, str]]:
    """The (scheme, host) pairs a response URL may have, for a deployment using `api_url`."""
    api = urlsplit(api_url)
    return frozenset({*SLACK_REPLY_ORIGINS, (api.scheme, api.hostname or "")})


def foreign_reply_url(request: Mapping[str, Any], origins: frozenset[tuple[str, str]]) -> bool:
    """Does a request (as slack_body read it) name a response URL off `origins`?"""
    urls: list[object] = [request.get("response_url")]
    listed = request.get("response_urls")
    if isinstance(listed, list):
        urls += [item.get("response_url") for item in listed if isinstance(item, dict)]
    return any(url is not None and not _at(url, origins) for url in urls)


def _at(url: object, origins: frozenset[tuple[str, str]]) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        return (parts.scheme, parts.hostname or "") in origins
    except ValueError:  # e.g. a malformed IPv6 host
        return False


def malformed_reason(body: bytes, content_type: str) -> str | None:
    """Why a signed body cannot be a Slack request, or None when its shape is sound."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    if _is_json(text, content_type):
        return _json_reason(text)
    try:
        fields = _form_fields(text)
    except ValueError:
        return "body is not form-encoded"
    if "payload" in fields:
        return _payload_reason(fields["payload"])
    if "command" in fields:
        for name in ("command", "user_id", "team_id"):
            if not fields.get(name):
                return f"slash command without {name}"
        return None
    if "ssl_check" in fields:
        return None
    return "no command, payload or event"


def slack_body(body: bytes, content_type: str) -> dict[str, Any]:
    """The request a body holds, read by its real shape, as malformed_reason read it: the
    Events API's JSON, an interactivity form's `payload` field, or a command's form fields.

    Only for a body malformed_reason accepted (anything else raises ValueError). Bolt is
    handed this rather than its own parse (see bot/slack/bolt_request.py for why).
    """
    text = body.decode("utf-8")
    parsed: Any
    if _is_json(text, content_type):
        parsed = json.loads(text)
    else:
        fields = _form_fields(text)
        parsed = json.loads(fields["payload"]) if "payload" in fields else fields
    if not isinstance(parsed, dict):
        raise ValueError("not a Slack request")
    return parsed


def _is_json(text: str, content_type: str) -> bool:
    return "application/json" in content_type or text.lstrip().startswith("{")


def _form_fields(text: str) -> dict[str, str]:
    """A form's fields, the last copy of each (as Bolt reads them); ValueError if not a form."""
    form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    return {key: values[-1] for key, values in form.items()}


# Fields Slack always sends as strings, where present; Bolt matches on them as strings.
PAYLOAD_STRINGS = (
    "callback_id",
    "trigger_id",
    "response_url",
    "api_app_id",
    "token",
    "action_ts",
    "block_id",
    "action_id",
    "value",
)
VIEW_STRINGS = ("type", "callback_id", "private_metadata", "id", "hash", "external_id")
EVENT_BODY_STRINGS = ("team_id", "api_app_id", "event_id", "enterprise_id")
EVENT_STRINGS = ("type", "subtype", "channel", "channel_type", "tab", "thread_ts", "bot_id")


def _not_strings(data: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """The first of `names` present in `data` with a value that is not a string."""
    return next((name for name in names if not _is_optional_str(data.get(name))), None)


# What Slack sends as a JSON body: the Events API's requests.
JSON_TYPES = frozenset({"url_verification", "event_callback", "app_rate_limited"})


def _json_reason(text: str) -> str | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return "body is not JSON"
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return "JSON body without a type"
    if data["type"] not in JSON_TYPES:
        # Interactivity arrives form-encoded; only the Events API sends JSON.
        return f"JSON body of type {data['type'][:40]!r}"
    if data["type"] == "url_verification":
        return (
            None if isinstance(data.get("challenge"), str) else "url_verification without challenge"
        )
    if data["type"] == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event_callback without an event type"
        if not isinstance(data.get("event_id"), str):
            return "event_callback without an event_id"
        if not _is_optional_str(data.get("team_id")):
            return "event_callback with a malformed team"
        if not (_is_optional_str(event.get("user")) or isinstance(event.get("user"), dict)):
            return "event_callback with a malformed user"
        wrong = _not_strings(data, EVENT_BODY_STRINGS) or _not_strings(event, EVENT_STRINGS)
        if wrong:
            return f"event_callback with a malformed {wrong}"
        for name in ("message", "previous_message", "item"):
            if event.get(name) is not None and not isinstance(event.get(name), dict):
                return f"event_callback with a malformed {name}"
    return _authorizations_reason(data)


def _authorizations_reason(data: dict[str, Any]) -> str | None:
    found = data.get("authorizations")
    if found is not None and not (
        isinstance(found, list) and all(isinstance(item, dict) for item in found)
    ):
        return "malformed authorizations"
    return None


def _payload_reason(raw: str) -> str | None:
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        return "payload is not JSON"
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "payload without a type"
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "payload without a user id"
    team = payload.get("team")
    if team is not None and (not isinstance(team, dict) or not _is_optional_str(team.get("id"))):
        return "payload with a malformed team"
    if payload["type"] in ("block_actions", "interactive_message"):
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            return f"{payload['type']} without actions"
        if payload["type"] == "block_actions" and not all(_is_action(a) for a in actions):
            return "block_actions with a malformed action"
        if not all(isinstance(a, dict) for a in actions):
            return f"{payload['type']} with a malformed action"
        for name in ("message", "channel", "container"):
            if payload.get(name) is not None and not isinstance(payload.get(name), dict):
                return f"block_actions with a malformed {name}"
    view = payload.get("view")
    if payload["type"] in ("view_submission", "view_closed"):
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return f"{payload['type']} without a view callback_id"
        if payload["type"] == "view_submission" and not isinstance(view.get("type"), str):
            return "view_submission without a view type"  # Bolt reads it unchecked
    elif "view" in payload and not isinstance(view, dict):
        return "payload with a malformed view"
    wrong = _not_strings(payload, PAYLOAD_STRINGS) or (
        _not_strings(view, VIEW_STRINGS) if isinstance(view, dict) else None
    )
    if wrong:
        return f"payload with a malformed {wrong}"
    urls = payload.get("response_urls")
    if "response_urls" in payload and not (
        isinstance(urls, list) and all(isinstance(u, dict) for u in urls)
    ):
        return "payload with malformed response_urls"
    if not _is_optional_str(payload.get("response_url")):
        return "payload with a malformed response_url"
    return _authorizations_reason(payload)


def _is_action(action: Any) -> bool:
    return (
        isinstance(action, dict)
        and isinstance(action.get("action_id"), str)
        and _is_optional_str(action.get("value"))
        and _is_optional_str(action.get("block_id"))
    )


def _is_optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)

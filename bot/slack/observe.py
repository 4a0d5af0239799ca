"""What Slack traffic tells the metrics: commands, clicks, and Web API calls that failed."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.core import ids
from bot.core.metrics import Metrics
from handlers.routes import COMMAND_WORDS

# Label values come from a fixed set, so typed text never becomes a label (nor a new series).
KNOWN_SUBCOMMANDS = COMMAND_WORDS
KNOWN_ACTIONS = frozenset(value for value in vars(ids).values() if isinstance(value, str))
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,48}")
_METHOD = re.compile(r"[A-Za-z0-9.]{1,64}")


def subcommand_label(text: str) -> str:
    word = text.strip().partition(" ")[0].lower()
    if not word:
        return "start"
    return word if word in KNOWN_SUBCOMMANDS else "unknown"


def count_request(metrics: Metrics, body: dict[str, Any]) -> bool:
    """Count a parsed Slack request; True if it is a slash command (its ack is timed)."""
    if isinstance(body.get("command"), str):
        metrics.commands.labels(subcommand=subcommand_label(str(body.get("text") or ""))).inc()
        return True
    if body.get("type") == "block_actions":
        for action in body.get("actions") or []:
            action_id = action.get("action_id") if isinstance(action, dict) else None
            label = action_id if action_id in KNOWN_ACTIONS else "other"
            metrics.clicks.labels(action=label).inc()
    return False


class ApiErrorCounter(AsyncRetryHandler):
    """Counts failed Web API calls; never asks for a retry.

    A retry handler because it is the one hook slack-sdk consults on every response and
    connection error of every client, including the client Bolt makes for each request.
    """

    def __init__(self, metrics: Metrics, base_url: str) -> None:
        # Consulted before each attempt while attempts stay under this count: always, in effect.
        super().__init__(max_retry_count=1_000_000)
        self.metrics = metrics
        self.base_url = base_url

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        code = _error_code(response, error)
        if code is not None:
            self.metrics.count("slack_api_errors", method=self._method(request.url), error=code)
        return False

    def _method(self, url: str) -> str:
        if not url.startswith(self.base_url):
            return "file_upload"  # the upload URL files.getUploadURLExternal handed out
        method = url[len(self.base_url) :].split("?")[0].strip("/")
        return method if _METHOD.fullmatch(method) else "other"


def _error_code(response: HttpResponse | None, error: Exception | None) -> str | None:
    if error is not None:
        return "connection"
    if response is None:
        return None
    if response.status_code == 429:
        return "ratelimited"
    body = response.body
    if isinstance(body, dict) and body.get("ok") is False:
        code = str(body.get("error") or "unknown")
        return code if _ERROR_CODE.fullmatch(code) else "other"
    if response.status_code >= 400:
        return f"http_{response.status_code}"
    return None

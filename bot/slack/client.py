"""The Slack Web API client: our base URL (GovSlack, tests), rate-limit and connection retries."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.retries import retry_handlers


def make_web_client(settings: Settings, *, timeout: int = 10) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        # Rate-limit retries are off by default in slack-sdk; ours wait only for short
        # Retry-After values, and a row still limited goes back to the outbox with the wait.
        retry_handlers=retry_handlers(),
    )

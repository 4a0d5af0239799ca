"""The Slack Web API client: our base URL (GovSlack, tests), rate-limit and connection retries."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings


def make_web_client(settings: Settings, *, timeout: int = 10) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            # Off by default in slack-sdk; waits for Retry-After. A row still limited after
            # this goes back to the outbox with the wait, it is never dropped.
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )

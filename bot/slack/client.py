"""The Slack Web API client: our base URL (GovSlack, tests), rate-limit and connection retries."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.config import Settings
from bot.core.metrics import Metrics
from bot.slack.observe import ApiErrorCounter
from bot.slack.retries import retry_handlers


def make_web_client(
    settings: Settings, *, timeout: int = 10, metrics: Metrics | None = None
) -> AsyncWebClient:
    observers = [ApiErrorCounter(metrics, settings.slack_api_url)] if metrics else []
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        # Rate-limit retries are off by default in slack-sdk; ours wait only for short
        # Retry-After values, and a row still limited goes back to the outbox with the wait.
        retry_handlers=[*observers, *retry_handlers()],
        logger=client_logger(),
    )


def client_logger() -> logging.Logger:
    """The client's logger, its own level set to the one it inherits.

    slack-sdk asks its logger's own `level`, not the inherited one, whether to write out
    every request and response as debug lines (slack_sdk 3.x, `_request_with_session`); left
    unset, as a child of the "slack_sdk" logger is, that is "yes", and each call builds text
    that logging then drops: a sixth of a post's time in the dispatch benchmark."""
    logger = logging.getLogger("slack_sdk.web.async_client")
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    return logger


async def open_shared_session(client: AsyncWebClient) -> None:
    """Give the client one pooled HTTP session for its calls.

    Without one, slack-sdk opens and closes a session, and with it a connection, per call.
    A session belongs to the running event loop, so this is done where the loop starts.
    """
    if client.session is None or client.session.closed:
        client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))


async def close_shared_session(client: AsyncWebClient) -> None:
    session, client.session = client.session, None
    if session is not None:
        await session.close()

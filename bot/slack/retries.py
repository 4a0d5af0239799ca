"""slack-sdk retry handlers, bounded so that a send never outlasts its lease or posts twice."""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Longer waits go back to the outbox with the wait, instead of holding the send (and lease).
MAX_IN_CALL_WAIT_SECONDS = 20
# A post whose connection dropped may have arrived: the dispatcher looks for it, never resends.
POSTING_METHODS = ("chat.postMessage",)


class ConnectionRetry(AsyncConnectionErrorRetryHandler):
    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").endswith(POSTING_METHODS):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class BoundedRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """Waits out a 429 inside the call only when Slack asks for a short wait."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                value = values if isinstance(values, str) else (values or [""])[0]
                try:
                    return int(value) <= MAX_IN_CALL_WAIT_SECONDS
                except ValueError:
                    return False
        return True


def retry_handlers() -> list[AsyncRetryHandler]:
    return [ConnectionRetry(max_retry_count=1), BoundedRateLimitRetry(max_retry_count=1)]

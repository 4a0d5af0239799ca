"""The request handed to Bolt: the raw body for its own signature check, and the body as our
edge read it for everything else.

slack-bolt 1.30 reads a form body as an interactivity payload whenever the text "payload"
appears anywhere in it: `parse_body` in slack_bolt/request/internals.py (line 33 in 1.30.0)
tests `if "payload" in body` on the raw string, then answers {} when no `payload` field exists. A
command from #payload-team, by @payloadpat, or with the text "hours payload" so reached no
listener and got an empty 200. It is unchanged on bolt-python's main (commit a2f21ae4); no
upstream issue was found. Bolt checks the signature against `raw_body` again, so the raw body
must stay as it came: Bolt's parsed body, and the context it builds from it, are replaced by
the guard's reading of the body's real shape (bot.slack.guard.slack_body).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncBoltContext, AsyncBoltRequest
from slack_bolt.request.async_internals import build_async_context


class EdgeParsedRequest(AsyncBoltRequest):
    """An HTTP request whose `body` is the one given, not Bolt's own parse of `raw_body`."""

    def __init__(
        self,
        *,
        raw_body: str,
        body: dict[str, Any],
        query: dict[str, str] | dict[str, Sequence[str]],
        headers: dict[str, str] | dict[str, Sequence[str]],
        context: dict[str, Any],
    ) -> None:
        super().__init__(body=raw_body, query=query, headers=dict(headers), context=context)
        self.body = body
        # Team, user, channel and response_url as Bolt reads them, from the right body.
        self.context = build_async_context(AsyncBoltContext(dict(context)), body)

    def to_copyable(self) -> AsyncBoltRequest:
        """A lazy listener's copy keeps this body (Bolt's own copy would parse raw_body again)."""
        return EdgeParsedRequest(
            raw_body=self.raw_body,
            body=self.body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
        )

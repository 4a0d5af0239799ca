"""Where the Teams SDK puts its messaging handler: our side of its HttpServerAdapter protocol.

Kept apart from bot.teams.sdk so that a deployment without Teams never imports the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from microsoft_teams.apps.http.adapter import HttpMethod, HttpRouteHandler

    from bot.teams.tokens import InboundTokens

MESSAGES_PATH = "/api/messages"


class MountedEndpoint:
    """The SDK's HttpServerAdapter for an app we serve ourselves (bot.app.web serves the route on
    the same ASGI app as Slack): it only keeps the handler the SDK registers."""

    def __init__(self) -> None:
        self.handlers: dict[str, HttpRouteHandler] = {}
        # Our check of Teams' tokens (bot.teams.tokens); None when tokens are not checked.
        self.tokens: InboundTokens | None = None

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        self.handlers[path] = handler

    def serve_static(self, path: str, directory: str) -> None:
        raise NotImplementedError("notpromoted serves no static Teams pages")

    async def start(self, port: int) -> None:
        raise NotImplementedError("bot.app.web serves the endpoint on notpromoted's own server")

    async def stop(self) -> None:
        return None

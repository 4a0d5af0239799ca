"""Assembly: settings in, a ready Bolt app, Teams app, dispatcher and services out."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.config import Settings
from bot.db import make_engine, make_sessions
from bot.logs import BOLT_LOGGER
from bot.models import Platform
from bot.services import Clock, Services, system_clock
from bot.slack.client import close_shared_session, make_web_client, open_shared_session
from bot.slack.listeners import register
from bot.slack.sender import SlackSender
from bot.teams.endpoint import MountedEndpoint
from messages.loader import Content, load_content
from scheduler.delivery import Sender
from scheduler.dispatcher import Dispatcher

if TYPE_CHECKING:
    from microsoft_teams.apps import App

    from bot.teams.listeners import TeamsListeners


@dataclass(frozen=True)
class Runtime:
    services: Services
    engine: Engine
    bolt: AsyncApp
    client: AsyncWebClient
    dispatcher: Dispatcher
    # Teams, when configured: the SDK app, where it mounts its endpoint, and its handlers.
    teams: App | None = None
    teams_endpoint: MountedEndpoint = field(default_factory=MountedEndpoint)
    teams_listeners: TeamsListeners | None = None

    async def open(self) -> None:
        """Start what belongs to the running event loop: the pooled Slack HTTP session, and
        the Teams app's endpoint and token validation."""
        await open_shared_session(self.client)
        if self.teams is not None:
            await self.teams.initialize()

    async def close(self) -> None:
        await close_shared_session(self.client)


def build_runtime(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    content: Content | None = None,
    engine: Engine | None = None,
) -> Runtime:
    engine = engine or make_engine(settings.database_url)
    services = Services(
        settings=settings,
        sessions=make_sessions(engine),
        content=content or load_content(settings.content_dir),
        clock=clock,
    )
    client = make_web_client(settings)
    senders: dict[str, Sender] = {Platform.SLACK: SlackSender(client)}
    teams_endpoint = MountedEndpoint()
    teams = teams_sender = teams_listeners = None
    if settings.teams_enabled:  # the SDK is imported only by deployments that serve Teams
        from bot.teams.listeners import TeamsListeners
        from bot.teams.sdk import build_teams_app
        from bot.teams.sender import TeamsSender

        teams = build_teams_app(settings, teams_endpoint)
        teams_sender = TeamsSender(services, teams.api)
        senders[Platform.TEAMS] = teams_sender
    dispatcher = Dispatcher(services, senders, concurrency=settings.dispatch_concurrency)
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=settings.slack_signing_secret is not None,
        name="notpromoted",
        logger=logging.getLogger(BOLT_LOGGER),
    )
    register(bolt, services, dispatcher)
    if teams is not None and teams_sender is not None:
        teams_listeners = TeamsListeners(services, dispatcher, teams_sender)
        teams_listeners.register(teams)
    return Runtime(
        services=services,
        engine=engine,
        bolt=bolt,
        client=client,
        dispatcher=dispatcher,
        teams=teams,
        teams_endpoint=teams_endpoint,
        teams_listeners=teams_listeners,
    )

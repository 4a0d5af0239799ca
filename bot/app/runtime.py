"""Assembly: settings in, the dispatcher, services and each platform the deployment serves
out (Slack's Bolt app and Web API client, Teams' SDK app), and nothing of the other."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.core.blocking import BlockingWork
from bot.core.clock import Clock, system_clock
from bot.core.config import Settings
from bot.core.db import make_engine, make_sessions
from bot.core.delivery import Sender
from bot.core.dependencies import Services
from bot.core.logs import BOLT_LOGGER
from bot.core.metrics import Metrics
from bot.core.models import Platform
from bot.core.work_in_flight import WorkInFlight
from bot.slack.client import close_shared_session, make_web_client, open_shared_session
from bot.slack.listeners import register
from bot.slack.oauth import SlackInstalls, build_installs
from bot.slack.sender import SlackSender
from bot.teams.endpoint import MountedEndpoint
from handlers.outbox import OutboxComposer
from messages.content import Content
from messages.loader import load_content
from scheduler.dispatcher import Dispatcher

if TYPE_CHECKING:
    from microsoft_teams.apps import App

    from bot.teams.graph_people import GraphPeople
    from bot.teams.listeners import TeamsListeners


@dataclass(frozen=True)
class SlackSide:
    """What serving Slack adds: Bolt with its listeners, the Web API client they and the
    sender share, the several-workspace installs (OAuth), and the listeners' work after
    their acknowledgements (the demo and tests wait on it)."""

    bolt: AsyncApp
    client: AsyncWebClient
    work: WorkInFlight
    installs: SlackInstalls | None = None


@dataclass(frozen=True)
class Runtime:
    services: Services
    engine: Engine
    dispatcher: Dispatcher
    metrics: Metrics
    # Slack, when configured (settings.slack_enabled).
    slack: SlackSide | None = None
    # Teams, when configured: the SDK app, where it mounts its endpoint, and its handlers.
    teams: App | None = None
    teams_endpoint: MountedEndpoint = field(default_factory=MountedEndpoint)
    teams_listeners: TeamsListeners | None = None

    async def open(self) -> None:
        """Start what belongs to the running event loop: our threads for blocking work as the
        loop's default executor, the pooled Slack HTTP session, and the Teams app's endpoint
        and token validation."""
        asyncio.get_running_loop().set_default_executor(self.services.blocking)
        if self.slack is not None:
            await open_shared_session(self.slack.client)
        if self.teams is not None:
            from bot.teams.sdk import check_tokens_ourselves

            await self.teams.initialize()
            check_tokens_ourselves(self.teams, self.teams_endpoint)

    async def close(self) -> None:
        if self.slack is not None:
            await close_shared_session(self.slack.client)
        if self.teams_listeners is not None:
            await self.teams_listeners.close()
        # A process that sent says it stops: what it still holds is free for others at once.
        await asyncio.to_thread(self.dispatcher.heartbeat.stop)


def build_runtime(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    content: Content | None = None,
    engine: Engine | None = None,
    metrics: Metrics | None = None,
    owner: str | None = None,
) -> Runtime:
    engine = engine or make_engine(settings.database_url)
    services = Services(
        settings=settings,
        sessions=make_sessions(engine),
        content=content
        or load_content(settings.content_dir, default_locale=settings.default_locale),
        clock=clock,
        # SQLite has one writer: one thread. PostgreSQL's waits release the GIL: a few.
        blocking=BlockingWork(threads=1 if engine.dialect.name == "sqlite" else 4),
    )
    metrics = metrics or Metrics()
    senders: dict[str, Sender] = {}
    slack = _slack_side(services, engine, metrics) if settings.slack_enabled else None
    if slack is not None:
        senders[Platform.SLACK] = SlackSender(
            slack.client, slack.installs.tokens if slack.installs else None
        )
    teams_endpoint = MountedEndpoint()
    teams = teams_sender = teams_listeners = None
    search: GraphPeople | None = None
    if settings.teams_enabled:  # the SDK is imported only by deployments that serve Teams
        from bot.teams.listeners import TeamsListeners
        from bot.teams.sdk import bot_tokens, build_teams_app, people_search
        from bot.teams.sender import TeamsSender

        tokens = bot_tokens(settings)
        teams = build_teams_app(settings, teams_endpoint, metrics, tokens)
        search = people_search(settings, tokens)
        teams_sender = TeamsSender(services, teams.api)
        senders[Platform.TEAMS] = teams_sender
    dispatcher = Dispatcher(
        services,
        senders,
        OutboxComposer(),
        owner=owner,
        concurrency=settings.dispatch_concurrency,
        metrics=metrics,
    )
    if slack is not None:
        register(slack.bolt, services, dispatcher, slack.installs, work=slack.work)
    if teams is not None and teams_sender is not None:
        teams_listeners = TeamsListeners(services, dispatcher, teams_sender, search)
        teams_listeners.register(teams)
    return Runtime(
        services=services,
        engine=engine,
        dispatcher=dispatcher,
        metrics=metrics,
        slack=slack,
        teams=teams,
        teams_endpoint=teams_endpoint,
        teams_listeners=teams_listeners,
    )


def _slack_side(services: Services, engine: Engine, metrics: Metrics) -> SlackSide:
    """Bolt and its Web API client; the listeners are registered once the dispatcher exists."""
    settings = services.settings
    client = make_web_client(settings, metrics=metrics)
    # Several workspaces (OAuth): each one's token comes from its stored installation.
    installs = build_installs(services, engine, client) if settings.oauth_enabled else None
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=settings.slack_signing_secret is not None,
        name="notpromoted",
        logger=logging.getLogger(BOLT_LOGGER),
        oauth_flow=installs.flow if installs else None,
        # An AsyncAuthorize (Bolt's own kind) may answer None; the parameter's type says not.
        authorize=installs.authorize if installs else None,  # type: ignore[arg-type]
        user_facing_authorize_error_message=services.content.for_locale(None, Platform.SLACK).text(
            "not_installed", app_name=settings.display_name
        ),
    )
    return SlackSide(bolt=bolt, client=client, work=WorkInFlight(), installs=installs)

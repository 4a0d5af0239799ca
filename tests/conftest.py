"""Shared fixtures: the Slack stand-in, databases (SQLite and PostgreSQL), a running bot."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import aiohttp
import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, text

from bot.app.runtime import Runtime, SlackSide, build_runtime
from bot.app.web import build_web_app
from bot.core import logs
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.person_ref import PersonRef
from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import PostedMessage
from bot.slack.client import close_shared_session, open_shared_session
from messages.content import Content

# The Teams fixtures (a bot serving Teams too, and a loopback guard for its HTTP clients).
pytest_plugins = ["tests.bot.teams.harness"]

TEAM = "T0TEST"
SECRET = "test-signing-secret"
# A Monday morning in London, in UTC.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


# -- nothing leaves loopback ---------------------------------------------------------------


def _is_loopback(url: str) -> bool:
    host = urlparse(str(url)).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test whose Slack client (or anything on aiohttp) reaches past 127.0.0.0/8."""
    violations: list[str] = []
    original = aiohttp.ClientSession._request

    async def guarded(self: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
        if not _is_loopback(str(url)):
            violations.append(f"{method} {url}")
            raise AssertionError(f"test traffic must stay on loopback, not {url}")
        return await original(self, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", guarded)
    yield
    assert not violations, f"requests left loopback: {violations}"


# -- databases -----------------------------------------------------------------------------


def postgres_url() -> str:
    url = os.environ.get("NOTPROMOTED_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("NOTPROMOTED_REQUIRE_POSTGRES"):
            pytest.fail("NOTPROMOTED_TEST_POSTGRES_URL is not set but PostgreSQL is required")
        pytest.skip("NOTPROMOTED_TEST_POSTGRES_URL is not set")
    return url


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A fresh schema on the test server, dropped afterwards."""
    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as error:
        admin.dispose()
        pytest.fail(f"PostgreSQL at {url} cannot be reached: {error}")
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Any) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Both databases: storage behaviour must be the same on each."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    created: Engine = request.getfixturevalue(fixture)
    upgrade(created)
    return created


# -- the stand-in and a running bot --------------------------------------------------------


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    fake = SlackStandIn(team_id=TEAM).start()
    yield fake
    fake.stop()


AUDIT_KEY = "test-audit-key-0123456789"


def make_settings(standin: SlackStandIn, *, slack: bool = True, **overrides: Any) -> Settings:
    """Settings built explicitly: tests never read a developer's .env. Nothing of Teams unless
    `overrides` name it; with `slack` False, nothing of Slack either (a Teams-only deployment)."""
    base = Settings(database_url="sqlite://", secret_key=AUDIT_KEY)
    if slack:
        base = replace(
            base,
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=SECRET,
            slack_api_url=standin.api_url,
        )
    settings = replace(base, **overrides)
    assert _is_loopback(settings.slack_api_url) or not settings.slack_enabled
    if not any(name.startswith("teams_") for name in overrides):
        assert not settings.teams_enabled, "Teams is served only by a test that configures it"
    return settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningBot:
    runtime: Runtime
    standin: SlackStandIn
    clock: ManualClock
    url: str
    loop: asyncio.AbstractEventLoop
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def post(
        self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        signed = slack_requests.signed_headers(SECRET, body, content_type=content_type)
        return self.http.post(f"{self.url}/slack/events", content=body, headers=headers or signed)

    def command(self, user: str, text: str = "", *, team: str = TEAM) -> httpx.Response:
        body, kind = slack_requests.slash_command(
            user_id=user, team_id=team, text=text, response_url=self.standin.response_url(user)
        )
        return self.post(body, kind)

    def click(
        self,
        user: str,
        message: PostedMessage,
        action_id: str,
        value: str | None = None,
        *,
        ephemeral: bool = False,
    ) -> httpx.Response:
        body, kind = slack_requests.button_click(
            user_id=user,
            team_id=TEAM,
            message=message,
            action_id=action_id,
            value=slack_requests.button_of(message, action_id) if value is None else value,
            response_url=self.standin.response_url(user),
            ephemeral=ephemeral,
        )
        return self.post(body, kind)

    def dms(self, user: str, count: int, timeout: float = 5.0) -> list[PostedMessage]:
        """Wait until `user` has at least `count` DMs, and return them all."""
        self.standin.wait_for(lambda: len(self.standin.dms_to(user)) >= count, timeout)
        self.settle()
        return self.standin.dms_to(user)

    def wait_updated(self, message: PostedMessage, times: int = 1) -> bool:
        return self.standin.wait_for(lambda: message.updates >= times, 5.0)

    def sweep(self) -> int:
        """Run one dispatcher sweep in the server's loop, as the interval job would."""
        future = asyncio.run_coroutine_threadsafe(self.runtime.dispatcher.run_once(), self.loop)
        return future.result(timeout=20)

    def slack_timeout(self, seconds: int) -> None:
        """Make the bot's Slack calls time out sooner (its pooled session carries the limit)."""

        client = self.slack.client

        async def reopen() -> None:
            await close_shared_session(client)
            client.timeout = seconds
            await open_shared_session(client)

        asyncio.run_coroutine_threadsafe(reopen(), self.loop).result(timeout=10)

    @property
    def slack(self) -> SlackSide:
        assert self.runtime.slack is not None, "this deployment does not serve Slack"
        return self.runtime.slack

    def settle(self) -> None:
        """Let the work a listener does after its ack finish."""
        future = asyncio.run_coroutine_threadsafe(self.slack.work.settled(), self.loop)
        assert future.result(timeout=30), "listener work did not finish"

    def ref(self, user: str) -> PersonRef:
        return PersonRef(platform="slack", workspace_id=TEAM, user_id=user)


BotFactory = Callable[..., RunningBot]


@pytest.fixture
def start_bot(standin: SlackStandIn, tmp_path: Any) -> Iterator[BotFactory]:
    """Start `serve`'s ASGI app under uvicorn on loopback, in a thread; stop it afterwards.
    It serves Slack alone unless told otherwise (Teams settings; `slack=False`)."""
    started: list[tuple[uvicorn.Server, threading.Thread, RunningBot]] = []

    def start(
        *,
        engine: Engine | None = None,
        clock: ManualClock | None = None,
        content: Content | None = None,
        migrate: bool = True,
        slack: bool = True,
        **overrides: Any,
    ) -> RunningBot:
        settings = make_settings(standin, slack=slack, **overrides)
        engine = engine or make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
        if migrate:
            upgrade(engine)
        clock = clock or ManualClock(MONDAY)
        standin.clock = lambda: clock.now.timestamp()
        runtime = build_runtime(settings, clock=clock, engine=engine, content=content)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                build_web_app(runtime, run_dispatcher=False),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="on",
            )
        )
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=loop.run_until_complete, args=(server.serve(),), daemon=True
        )
        thread.start()
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "the bot did not start"
        bot = RunningBot(
            runtime=runtime, standin=standin, clock=clock, url=f"http://127.0.0.1:{port}", loop=loop
        )
        started.append((server, thread, bot))
        return bot

    yield start
    for server, thread, bot in started:
        server.should_exit = True
        thread.join(timeout=10)
        bot.http.close()
        bot.runtime.engine.dispose()


def text_of(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in a list of blocks, for asserting what a person reads."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)


def responded_after(bot: RunningBot, count: int) -> Callable[[], bool]:
    """For standin.wait_for: more than `count` answers have reached a response_url."""
    return lambda: len(bot.standin.responses) > count


# -- logs ----------------------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every record at DEBUG, formatted as `serve` writes them, with its library levels."""
    stream = io.StringIO()
    handler = logs.log_handler("json", stream)
    root = logging.getLogger()
    before = (root.level, {name: logging.getLogger(name).level for name in logs.LIBRARY_FLOORS})
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logs.quiet_chatty_loggers()
    yield stream
    root.removeHandler(handler)
    root.setLevel(before[0])
    for name, level in before[1].items():
        logging.getLogger(name).setLevel(level)

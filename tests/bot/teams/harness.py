"""Teams fixtures for every test: a running bot that serves Teams (alone, unless a test asks
for Slack too), with authentication on, against the fakes on loopback (registered in
tests/conftest.py as a plugin)."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.demo import teams_activities
from bot.demo.teams_activities import button_data, conversation
from bot.teams.form_render import COLLEAGUES
from tests.bot.teams.fakes import CLIENT_ID, CLIENT_SECRET, TENANT, Sent, TeamsCloud
from tests.conftest import BotFactory, RunningBot, _is_loopback

Payload = dict[str, Any]

ALEX = "0a1b2c3d-0000-4000-8000-00000000a1e5"
MORGAN = "0a1b2c3d-0000-4000-8000-0000000b0551"  # a manager
SAM = "0a1b2c3d-0000-4000-8000-0000000005a3"


@pytest.fixture(autouse=True)
def teams_traffic_on_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Teams SDK speaks httpx, MSAL speaks requests, the key client urllib: none of them
    may leave 127.0.0.0/8 in a test."""
    violations: list[str] = []

    def check(url: str) -> None:
        if not _is_loopback(url):
            violations.append(url)
            raise AssertionError(f"test traffic must stay on loopback, not {url}")

    send = httpx.AsyncClient.send

    async def guarded_send(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> Any:
        check(str(request.url))
        return await send(self, request, **kw)

    session_send = requests.Session.send

    def guarded_session(self: requests.Session, request: Any, **kw: Any) -> Any:
        check(str(request.url))
        return session_send(self, request, **kw)

    urlopen = urllib.request.urlopen

    def guarded_urlopen(url: Any, *args: Any, **kw: Any) -> Any:
        check(url.full_url if isinstance(url, urllib.request.Request) else str(url))
        return urlopen(url, *args, **kw)

    monkeypatch.setattr(httpx.AsyncClient, "send", guarded_send)
    monkeypatch.setattr(requests.Session, "send", guarded_session)
    monkeypatch.setattr(urllib.request, "urlopen", guarded_urlopen)
    yield
    assert not violations, f"requests left loopback: {violations}"


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TeamsCloud]:
    fake = TeamsCloud().start(tmp_path)
    # MSAL (requests) trusts the fake login service's certificate, and nothing else changes.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_file)
    yield fake
    fake.stop()


def teams_settings(cloud: TeamsCloud) -> dict[str, Any]:
    return {
        "teams_client_id": CLIENT_ID,
        "teams_client_secret": CLIENT_SECRET,
        "teams_tenant_id": TENANT,
        "teams_service_url": cloud.service_url,
        "teams_login_url": cloud.login_url,
        "teams_openid_metadata_url": cloud.openid_url,
        # The fake Bot Connector's host and port, and nothing else on loopback.
        "teams_service_url_hosts": (cloud.connector_host,),
        # The fake OneDrive, where a data export is uploaded.
        "teams_upload_hosts": (cloud.upload_host,),
        # The fake Microsoft Graph, searched when a test turns the directory search on.
        "teams_graph_url": cloud.graph_url,
    }


def activity(cloud: TeamsCloud, user: str, kind: str, zone: str, **fields: Any) -> Payload:
    """An activity from `user`'s chat with the bot, as Teams sends it (unsigned)."""
    return teams_activities.activity(
        cloud.service_url, user, kind, zone=zone, from_name=person_name(user), **fields
    )


def person_name(user: str) -> str:
    """The name Teams gives a test's person."""
    return f"Person {user[-4:]}"


@dataclass
class TeamsBot:
    """Posts activities as Teams does, signed; reads what the fake Bot Connector received."""

    bot: RunningBot
    cloud: TeamsCloud
    zones: dict[str, str] = field(default_factory=dict)
    # The language Teams sends with each of a person's activities (English if not named).
    locales: dict[str, str] = field(default_factory=dict)

    @property
    def runtime(self) -> Any:
        return self.bot.runtime

    def conversation(self, user: str) -> str:
        return conversation(user)

    def activity(self, user: str, kind: str, **fields: Any) -> Payload:
        return activity(
            self.cloud,
            user,
            kind,
            self.zones.get(user, "Europe/Berlin"),
            locale=self.locales.get(user, teams_activities.LOCALE),
            **fields,
        )

    def _who(self, user: str) -> dict[str, str]:
        return {
            "zone": self.zones.get(user, "Europe/Berlin"),
            "from_name": person_name(user),
            "locale": self.locales.get(user, teams_activities.LOCALE),
        }

    def post(self, activity: Any, *, token: str | None = "signed") -> httpx.Response:
        headers: dict[str, str] = {}
        if token == "signed":
            headers["Authorization"] = f"Bearer {self.cloud.sign()}"
        elif token is not None:
            headers["Authorization"] = token
        return self.bot.http.post(f"{self.bot.url}/api/messages", json=activity, headers=headers)

    def say(self, user: str, text: str) -> httpx.Response:
        response = self.post(self.activity(user, "message", text=text, textFormat="plain"))
        self.settle()
        return response

    def install(self, user: str) -> httpx.Response:
        update = self.activity(
            user,
            "conversationUpdate",
            membersAdded=[{"id": f"28:{CLIENT_ID}"}],
        )
        response = self.post(update)
        self.settle()
        return response

    def click(self, user: str, sent: Sent, action: str) -> httpx.Response:
        """Press a button (Action.Execute) on a card the bot sent."""
        data = button_data(sent.card, action)
        invoke = teams_activities.card_action(
            self.cloud.service_url, user, sent.activity_id, data, verb=action, **self._who(user)
        )
        response = self.post(invoke)
        self.settle()
        return response

    def open_dialog(self, user: str, data: Payload) -> httpx.Response:
        invoke = teams_activities.dialog_open(self.cloud.service_url, user, data, **self._who(user))
        response = self.post(invoke)
        self.settle()
        return response

    def open_from(self, user: str, sent: Sent, action: str) -> httpx.Response:
        return self.open_dialog(user, button_data(sent.card, action))

    def submit(self, user: str, data: Payload) -> httpx.Response:
        invoke = teams_activities.dialog_submit(
            self.cloud.service_url, user, data, **self._who(user)
        )
        response = self.post(invoke)
        self.settle()
        return response

    def search(
        self, user: str, text: str, *, dataset: str = COLLEAGUES, **value: Any
    ) -> httpx.Response:
        """Type into a form's person field whose choices the bot serves (dynamic typeahead):
        the `application/search` invoke Teams sends, as Microsoft's page shows it."""
        invoke = self.activity(
            user,
            "invoke",
            name="application/search",
            value={
                "queryText": text,
                "queryOptions": {"skip": 0, "top": 15},
                "dataset": dataset,
                **value,
            },
        )
        return self.post(invoke)

    def answer_file(
        self,
        user: str,
        offer: Sent,
        action: str,
        *,
        upload_info: Payload | None = None,
        by: str | None = None,
    ) -> httpx.Response:
        """Accept or decline a file consent card the bot sent to `user` (as `by`, when someone
        else answers it); an accept carries a new upload session in the fake OneDrive unless
        `upload_info` names another."""
        card = attachment(offer, FILE_CONSENT)
        value: Payload = {
            "type": "fileUpload",
            "action": action,
            "context": card["content"]["acceptContext" if action == "accept" else "declineContext"],
        }
        if action == "accept":
            value["uploadInfo"] = upload_info or self.cloud.upload_session(card["name"])
        invoke = self.activity(
            by or user,
            "invoke",
            name="fileConsent/invoke",
            replyToId=offer.activity_id,
            value=value,
        )
        response = self.post(invoke)
        self.settle()
        return response

    def cards(self, user: str, count: int | None = None) -> list[Sent]:
        """What the bot sent to the person's chat (waiting for `count` of it)."""
        conversation = self.conversation(user)
        if count is not None:
            self.cloud.wait_for(lambda: len(self.cloud.to(conversation)) >= count)
            self.settle()
        return self.cloud.to(conversation)

    def settle(self) -> None:
        listeners = self.bot.runtime.teams_listeners
        assert listeners is not None
        future = asyncio.run_coroutine_threadsafe(listeners.settled(), self.bot.loop)
        future.result(timeout=30)

    def sweep(self) -> int:
        sent = self.bot.sweep()
        self.settle()
        return sent

    def ref(self, user: str) -> PersonRef:
        return PersonRef(platform="teams", workspace_id=TENANT, user_id=user)


TeamsFactory = Callable[..., TeamsBot]


@pytest.fixture
def start_teams(start_bot: BotFactory, cloud: TeamsCloud) -> TeamsFactory:
    """A deployment that serves Teams alone, as a Teams-only company runs it (no Slack
    settings at all); with `slack=True`, one that serves Slack too."""

    def start(*, slack: bool = False, **overrides: Any) -> TeamsBot:
        bot = start_bot(slack=slack, **{**teams_settings(cloud), **overrides})
        assert (bot.runtime.slack is not None) == slack
        return TeamsBot(bot=bot, cloud=cloud)

    return start


TAB_DOMAIN = "home.example.test"


@pytest.fixture
def start_tab(
    start_teams: TeamsFactory, cloud: TeamsCloud, monkeypatch: pytest.MonkeyPatch
) -> TeamsFactory:
    """A Teams deployment that serves the Home tab; the fake Entra ID signs its tokens
    (`cloud.sign_user`), for the audience the settings name. The bot fetches the tenant's keys
    over TLS from the fake login service, trusting its certificate and nothing else new."""
    monkeypatch.setenv("SSL_CERT_FILE", cloud.ca_file)

    def start(**overrides: Any) -> TeamsBot:
        teams = start_teams(teams_tab_domain=TAB_DOMAIN, **overrides)
        audience = teams.runtime.services.settings.teams_tab_audience
        assert audience is not None
        cloud.tab_audience = audience
        return teams

    return start


FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


def attachment(sent: Sent, content_type: str) -> Payload:
    """The one attachment of that type on a message the bot sent."""
    [found] = [
        a for a in sent.activity.get("attachments") or [] if a["contentType"] == content_type
    ]
    return dict(found)


def has_button(card: Payload, action: str) -> bool:
    try:
        button_data(card, action)
    except LookupError:
        return False
    return True


def card_text(card: Payload) -> str:
    """Every text a person reads on a card: texts, input labels, button titles."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "label", "title"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for key, value in node.items():
                if key != "data" and isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


__all__ = [
    "ALEX",
    "MORGAN",
    "SAM",
    "TeamsBot",
    "button_data",
    "card_text",
    "conversation",
    "has_button",
    "ids",
]

"""Each credential Azure offers a single-tenant bot, through the running bot against the fake
login service and identity endpoint: with only that credential, a person writes and their
first message arrives, sent with a token issued for that credential; refused, the message
waits, the log says why, and it goes out once the credential is accepted."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.core import ids
from bot.core.config import ConfigError
from bot.core.models import Checkin, CheckinStatus
from bot.core.teams_credentials import ManagedIdentity
from bot.teams.app_tokens import app_tokens
from tests.bot.teams.fakes import (
    BOT_RESOURCE,
    CLIENT_ID,
    CLIENT_SECRET,
    IDENTITY_HEADER,
    TENANT,
    TeamsCloud,
    bot_certificate,
)
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory, card_text

KINDS = ("secret", "certificate", "federated", "managed identity")
MSAL_IDENTITY_VARIABLES = (
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)


@pytest.fixture(autouse=True)
def no_identity_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """MSAL reads the host's identity endpoint from these: none of the machine's own may
    reach a test (and with none set, MSAL would ask 169.254.169.254, which the bot refuses)."""
    for name in MSAL_IDENTITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@dataclass
class Credential:
    """One kind of credential, given to the bot alone, and the fake's side of it."""

    kind: str
    cloud: TeamsCloud
    workdir: Path
    monkeypatch: pytest.MonkeyPatch
    trust: Callable[[], None] = field(default=lambda: None)

    def settings(self, *, accepted: bool = True) -> dict[str, Any]:
        """The bot's settings with this credential only; unless `accepted`, the fake does
        not (yet) take it, and `trust()` makes it."""
        others: dict[str, Any] = {"teams_client_secret": None}
        if self.kind == "secret":
            if not accepted:  # the secret was rotated in Azure and not yet here
                self.cloud.client_secret = "the-new-secret"
                self.trust = lambda: setattr(self.cloud, "client_secret", CLIENT_SECRET)
            return {}
        if self.kind == "certificate":
            path, certificate = bot_certificate(self.workdir)
            self.trust = lambda: self.cloud.trust_certificate(certificate)
            if accepted:
                self.trust()
            return {**others, "teams_certificate_path": path}
        if self.kind == "federated":
            token_file = self.workdir / "azure-identity-token"
            token_file.write_text("federated-token-1\n")
            self.trust = lambda: self.cloud.federated_tokens.add("federated-token-1")
            if accepted:
                self.trust()
            return {**others, "teams_federated_token_file": token_file}
        self.monkeypatch.setenv("IDENTITY_ENDPOINT", self.cloud.identity_endpoint)
        self.monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
        if not accepted:
            self.cloud.identity_header = "the-header-of-another-host"
            self.trust = lambda: setattr(self.cloud, "identity_header", IDENTITY_HEADER)
        return {**others, "teams_managed_identity": True}


@pytest.fixture
def credential(
    request: pytest.FixtureRequest,
    cloud: TeamsCloud,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Credential:
    return Credential(request.param, cloud, tmp_path, monkeypatch)


def _stage_rows(teams: TeamsBot) -> list[Checkin]:
    with Session(teams.runtime.engine) as session:
        query = select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_STAGE)
        return list(session.exec(query))


def _stage_row(teams: TeamsBot) -> Checkin:
    [row] = _stage_rows(teams)
    return row


def _how_the_token_was_asked_for(kind: str, cloud: TeamsCloud) -> None:
    if kind == "managed identity":
        assert cloud.token_requests == []  # nothing asked of the login service
        query, identity_header = cloud.identity_requests[0]
        assert identity_header == IDENTITY_HEADER
        assert query == {
            "api-version": "2019-08-01",
            "resource": BOT_RESOURCE,
            "client_id": CLIENT_ID,
        }
        return
    [first, *_] = cloud.token_requests
    assert first["tenant"] == TENANT and first["client_id"] == CLIENT_ID
    assert first["scope"] == f"{BOT_RESOURCE}/.default"
    if kind == "secret":
        assert "client_assertion" not in first
        return
    assert "client_secret" not in first
    if kind == "federated":
        assert first["client_assertion"] == "federated-token-1"  # the file's contents
        return
    header, claims = cloud.assertions[0]
    assert header["alg"] == "PS256" and "x5t#S256" in header and header["x5c"]
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == f"{cloud.login_url}/{TENANT}/oauth2/v2.0/token"


@pytest.mark.parametrize("credential", KINDS, indirect=True)
def test_with_only_one_credential_the_first_message_arrives(
    start_teams: TeamsFactory, credential: Credential
) -> None:
    teams = start_teams(**credential.settings())
    assert teams.say(ALEX, "notpromoted").status_code == 200
    _, stage = teams.cards(ALEX, 2)
    assert "Step 1 of 10" in card_text(stage.card)
    assert _stage_row(teams).status == CheckinStatus.SENT
    used = [token for _, _, token in teams.cloud.connector_calls]
    assert used and {teams.cloud.tokens.get(str(token)) for token in used} == {credential.kind}
    _how_the_token_was_asked_for(credential.kind, teams.cloud)


@pytest.mark.parametrize("credential", KINDS, indirect=True)
def test_a_refused_credential_keeps_the_message_and_the_log_says_why(
    start_teams: TeamsFactory, credential: Credential, captured: io.StringIO
) -> None:
    teams = start_teams(**credential.settings(accepted=False))
    assert teams.say(ALEX, "notpromoted").status_code == 200
    assert teams.cloud.sent == []
    row = _stage_row(teams)
    assert row.status == CheckinStatus.PENDING and row.attempts == 1
    assert "no token for the Bot Connector" in (row.last_error or "")
    reason = {
        "secret": "AADSTS7000215",
        "certificate": "AADSTS700027",
        "federated": "AADSTS70021",
        "managed identity": "wrong X-IDENTITY-HEADER",
    }[credential.kind]
    assert reason in (row.last_error or "")
    warnings = [
        record["message"]
        for record in map(json.loads, captured.getvalue().splitlines())
        if record["logger"] == "bot.teams.app_tokens" and record["level"] == "WARNING"
    ]
    assert len(warnings) == 1, warnings  # the reply and the message failed alike: one line
    kind_words = {"secret": "client secret", "federated": "federated token"}
    assert kind_words.get(credential.kind, credential.kind) in warnings[0]
    assert reason in warnings[0]

    credential.trust()
    teams.bot.clock.move_to(row.due_at)
    assert teams.sweep() == 1
    assert "Step 1 of 10" in card_text(teams.cards(ALEX, 1)[0].card)
    assert _stage_row(teams).status == CheckinStatus.SENT


def test_the_federated_token_file_is_read_again_when_it_rotates(
    start_teams: TeamsFactory, cloud: TeamsCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = Credential("federated", cloud, tmp_path, monkeypatch)
    cloud.token_lifetime = 120  # under MSAL's five minutes: each send asks for a new token
    teams = start_teams(**credential.settings())
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text("federated-token-2\n")  # the platform replaced it
    cloud.federated_tokens = {"federated-token-2"}  # and the old one is no longer taken
    asked_before = len(cloud.token_requests)
    assert teams.say(ALEX, "status").status_code == 200
    assert len(teams.cards(ALEX, 3)) == 3
    later = [request["client_assertion"] for request in cloud.token_requests[asked_before:]]
    assert later and set(later) == {"federated-token-2"}

    token_file.unlink()  # the platform failed to write it: the message waits, and says why
    teams.say(ALEX, "notpromoted")
    rows = [row for row in _stage_rows(teams) if row.status == CheckinStatus.PENDING]
    assert len(rows) == 1 and "cannot be read" in (rows[0].last_error or "")
    token_file.write_text("federated-token-2")
    teams.bot.clock.move_to(rows[0].due_at)
    assert teams.sweep() == 1


def test_a_managed_identity_without_an_identity_endpoint_stops_rather_than_ask_imds(
    cloud: TeamsCloud,
) -> None:
    """Without IDENTITY_ENDPOINT and IDENTITY_HEADER MSAL turns to 169.254.169.254: the bot
    refuses to start instead, before any request."""
    with pytest.raises(ConfigError, match="IDENTITY_ENDPOINT and IDENTITY_HEADER"):
        app_tokens(ManagedIdentity(CLIENT_ID, TENANT), cloud.login_url)
    assert cloud.identity_requests == [] and cloud.token_requests == []


@pytest.mark.parametrize("credential", KINDS, indirect=True)
def test_with_each_credential_the_forms_directory_search_gets_its_graph_token(
    start_teams: TeamsFactory, credential: Credential
) -> None:
    """The same credential gives the bot its Microsoft Graph tokens (audience: the Graph URL)
    for the asker's tenant; a managed identity only has its own tenant's, so a person of
    another allowed tenant finds no one rather than this tenant's people."""
    other = "12345678-aaaa-4bbb-8ccc-1234567890ab"
    robin = "0a1b2c3d-0000-4000-8000-0000000b0b1e"
    teams = start_teams(
        teams_directory_search="graph",
        teams_allowed_tenants=frozenset({other}),
        **credential.settings(),
    )
    cloud = teams.cloud
    cloud.directory[TENANT] = [{"id": ALEX, "displayName": "Alex Kim", "mail": "alex@x.example"}]
    cloud.directory[other] = [{"id": robin, "displayName": "Alex Other", "mail": "a@y.example"}]
    cloud.graph_roles[other] = {"User.Read.All"}
    teams.say(ALEX, "notpromoted")
    found = teams.search(ALEX, "alex").json()["value"]["results"]
    assert found == [{"title": "Alex Kim (alex@x.example)", "value": ALEX}]
    [(_, headers)] = cloud.graph_requests
    token = headers["authorization"].removeprefix("Bearer ")
    assert cloud.tokens[token] == credential.kind
    assert cloud.token_claims[token]["aud"] == cloud.graph_url

    def from_other(kind: str, **fields: Any) -> dict[str, Any]:
        activity = teams.activity(robin, kind, channelData={"tenant": {"id": other}}, **fields)
        activity["conversation"]["tenantId"] = other
        return activity

    teams.post(from_other("message", text="hi"))  # Robin has a chat with the bot
    teams.settle()
    invoke = from_other(
        "invoke",
        name="application/search",
        value={"queryText": "alex", "dataset": "notpromoted/colleagues"},
    )
    theirs = teams.post(invoke).json()["value"]["results"]
    if credential.kind == "managed identity":
        assert theirs == [] and len(cloud.graph_requests) == 1
    else:
        assert theirs == [{"title": "Alex Other (a@y.example)", "value": robin}]

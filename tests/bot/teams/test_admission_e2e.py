"""Only the bot's own tenants are served, and the bot sends only to Microsoft's hosts.

The attacks (issue 15, item 6): an activity from another tenant was accepted and the person
stored; an activity naming someone else's serviceUrl made the bot post there, with its Bot
Connector bearer token.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, Person, TeamsConversation
from tests.bot.teams.fakes import Recorder
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory

OTHER_TENANT = "12345678-aaaa-4bbb-8ccc-1234567890ab"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    stranger = Recorder()
    yield stranger
    stranger.stop()


def _stored(teams: TeamsBot) -> tuple[list[Person], list[TeamsConversation]]:
    with Session(teams.runtime.engine) as session:
        return list(session.exec(select(Person))), list(session.exec(select(TeamsConversation)))


def _from_tenant(teams: TeamsBot, kind: str, tenant: str, **fields: object) -> dict[str, object]:
    activity = teams.activity(ALEX, kind, **fields)
    activity["channelData"] = {"tenant": {"id": tenant}}
    activity["conversation"] = {**activity["conversation"], "tenantId": tenant}
    return activity


def test_an_activity_from_another_tenant_is_refused_and_nothing_is_stored(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    install = _from_tenant(
        teams,
        "conversationUpdate",
        OTHER_TENANT,
        membersAdded=[{"id": teams.activity(ALEX, "x")["recipient"]["id"]}],
    )
    message = _from_tenant(teams, "message", OTHER_TENANT, text="notpromoted")
    assert teams.post(install).status_code == 403
    assert teams.post(message).status_code == 403
    # Our tenant in one place and another in the other is not ours either.
    mixed = teams.activity(ALEX, "message", text="notpromoted")
    mixed["conversation"] = {**mixed["conversation"], "tenantId": OTHER_TENANT}
    assert teams.post(mixed).status_code == 403
    teams.settle()
    assert _stored(teams) == ([], [])
    assert teams.cloud.sent == []


def test_more_tenants_can_be_allowed(start_teams: TeamsFactory) -> None:
    teams = start_teams(teams_allowed_tenants=frozenset({OTHER_TENANT}))
    message = _from_tenant(teams, "message", OTHER_TENANT.upper(), text="notpromoted")
    assert teams.post(message).status_code == 200
    teams.settle()
    [person], [_conversation] = _stored(teams)
    assert person.workspace_id == OTHER_TENANT
    assert len(teams.cards(ALEX, 2)) == 2


def test_an_activity_naming_another_service_url_is_refused_before_anything_is_sent(
    start_teams: TeamsFactory, recorder: Recorder
) -> None:
    teams = start_teams()
    message = teams.activity(ALEX, "message", text="notpromoted", serviceUrl=recorder.service_url)
    # Even with a token that names the same URL, it is not a host the bot sends to.
    token = teams.cloud.sign(service_url=recorder.service_url)
    assert teams.post(message, token=f"Bearer {token}").status_code == 403
    install = teams.activity(
        ALEX,
        "conversationUpdate",
        serviceUrl=recorder.service_url,
        membersAdded=[{"id": teams.activity(ALEX, "x")["recipient"]["id"]}],
    )
    assert teams.post(install, token=f"Bearer {token}").status_code == 403
    teams.settle()
    assert recorder.requests == []
    assert _stored(teams) == ([], [])


def test_the_development_switch_still_sends_only_to_allowed_hosts(
    start_teams: TeamsFactory, recorder: Recorder
) -> None:
    teams = start_teams(teams_allow_unauthenticated=True)
    message = teams.activity(ALEX, "message", text="notpromoted", serviceUrl=recorder.service_url)
    assert teams.post(message, token=None).status_code == 403
    teams.settle()
    assert recorder.requests == []


def test_a_stored_reference_off_the_list_is_not_sent_to(
    start_teams: TeamsFactory, recorder: Recorder
) -> None:
    """A reference stored before the allow-list existed: the dispatcher does not post there."""
    teams = start_teams()
    teams.bot.clock.move_to(datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Europe/Berlin")))
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    with Session(teams.runtime.engine) as session:
        conversation = session.exec(select(TeamsConversation)).one()
        conversation.service_url = recorder.service_url
        session.add(conversation)
        nudge = session.exec(
            select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_GOALS_NUDGE)
        ).one()
        due = nudge.due_at
        session.commit()
    teams.bot.clock.move_to(due)
    teams.sweep()
    assert recorder.requests == []
    assert len(teams.cards(ALEX)) == 2

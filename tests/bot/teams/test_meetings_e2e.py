"""The manager flow between Teams users: invitation, template, answer; consent, roles, audit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.core import audit, ids
from bot.core.models import AuditEntry, FeedbackMeeting, ManagerGrant, MeetingStatus
from tests.bot.teams.harness import (
    ALEX,
    MORGAN,
    SAM,
    TeamsBot,
    TeamsFactory,
    card_text,
    has_button,
)

TEMPLATE: dict[str, Any] = {
    "thanks": "Thank you for applying.",
    "observed": "Your examples were strong but long.",
    "gaps": "Budget ownership.",
    "next_steps": "Own the Q3 budget\nPresent at the review",
    "growth": "",
}


def _dialog(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["task"]["type"] == "continue", answer
    card: dict[str, Any] = answer["task"]["value"]["card"]["content"]
    return card


def _invite(teams: TeamsBot, person: str, manager: str) -> dict[str, Any]:
    opened = teams.open_dialog(
        person,
        {"msteams": {"type": "task/fetch"}, "opener": ids.OPEN_MANAGER_INVITE, "value": "x"},
    )
    submit = _dialog(opened.json())["actions"][0]["data"]
    answer: dict[str, Any] = teams.submit(person, {**submit, "manager": manager}).json()
    return answer


def _audit(teams: TeamsBot) -> list[AuditEntry]:
    with Session(teams.runtime.engine) as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))  # type: ignore[arg-type]


def test_invited_manager_prepares_a_meeting_and_the_person_accepts(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.install(MORGAN)
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    morgan_before = len(teams.cards(MORGAN))

    answer = _invite(teams, ALEX, MORGAN)
    assert answer["task"]["type"] == "message" and "Invitation saved" in answer["task"]["value"]
    grant = teams.cards(MORGAN, morgan_before + 1)[-1]
    assert "Person a1e5 has invited you" in card_text(grant.card)  # named by their Teams name

    opened = teams.open_from(MORGAN, grant, ids.MEETING_PREPARE)
    form = _dialog(opened.json())
    assert "what would make Person a1e5 the right candidate" in card_text(form)
    submit = form["actions"][0]["data"]
    assert submit["person"] == ALEX

    today = date(2026, 11, 23)
    bad = teams.submit(MORGAN, {**submit, **TEMPLATE, "gaps": "", "meeting_on": "2026-11-01"})
    shown = card_text(_dialog(bad.json()))
    assert "Please fill this in" in shown and "Pick today or a later date." in shown

    alex_before = len(teams.cards(ALEX))
    days = {
        "meeting_on": (today + timedelta(days=3)).isoformat(),
        "follow_up_on": (today + timedelta(days=30)).isoformat(),
    }
    done = teams.submit(MORGAN, {**submit, **TEMPLATE, **days}).json()
    assert done["task"]["type"] == "message" and "Person a1e5" in done["task"]["value"]
    agenda = teams.cards(MORGAN)[-1]
    assert "Budget ownership." in card_text(agenda.card)
    offer = teams.cards(ALEX, alex_before + 1)[-1]
    assert "Person 0551 has prepared a feedback meeting" in card_text(offer.card)
    assert "Budget ownership." not in card_text(offer.card)  # only once they accept

    accepted = teams.click(ALEX, offer, ids.MEETING_ACCEPT).json()
    assert "Accepted." in card_text(accepted["value"])
    assert not has_button(accepted["value"], ids.MEETING_ACCEPT)
    with_agenda = teams.cards(ALEX, alex_before + 2)[-1]
    assert "Budget ownership." in card_text(with_agenda.card)
    goals = teams.open_from(ALEX, with_agenda, ids.MEETING_TO_GOALS)
    assert "Own the Q3 budget" in str(_dialog(goals.json()))

    with Session(teams.runtime.engine) as session:
        meeting = session.exec(select(FeedbackMeeting)).one()
        assert meeting.status == MeetingStatus.ACCEPTED and meeting.authority == "invited"
    actions = [(e.action, e.outcome, e.platform) for e in _audit(teams)]
    assert actions == [
        (audit.GRANT, audit.DONE, "teams"),
        (audit.PREPARE, audit.ALLOWED, "teams"),
        (audit.ACCEPT, audit.DONE, "teams"),
    ]


def test_nobody_prepares_a_meeting_uninvited_and_the_refusal_is_audited(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.install(SAM)
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    teams.say(SAM, "meeting")
    opener = teams.cards(SAM)[-1]
    pick = _dialog(teams.open_from(SAM, opener, ids.OPEN_MEETING_PICK).json())
    submit = pick["actions"][0]["data"]
    refused = teams.submit(SAM, {**submit, "person": ALEX})
    assert "someone who has invited you" in card_text(_dialog(refused.json()))
    # A crafted prepare button does not get past the check either.
    crafted = teams.open_dialog(
        SAM,
        {"opener": ids.MEETING_PREPARE, "value": ALEX},
    )
    assert "Nothing was sent" in crafted.json()["task"]["value"]
    [first, second] = _audit(teams)
    assert (first.actor, first.subject, first.outcome, first.reason) == (
        SAM,
        ALEX,
        audit.REFUSED,
        "not_invited",
    )
    assert second.reason == "not_invited"
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(FeedbackMeeting)).all() == []


def test_members_of_the_teams_managers_list_may_prepare_for_anyone(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams(teams_manager_ids=frozenset({SAM}))
    teams.install(SAM)
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    teams.say(SAM, "meeting")
    pick = _dialog(teams.open_from(SAM, teams.cards(SAM)[-1], ids.OPEN_MEETING_PICK).json())
    template = _dialog(teams.submit(SAM, {**pick["actions"][0]["data"], "person": ALEX}).json())
    assert template["actions"][0]["data"] == {"action": ids.MEETING_FORM, "person": ALEX}
    days = {"meeting_on": "2026-11-25", "follow_up_on": "2026-12-20"}
    done = teams.submit(SAM, {**template["actions"][0]["data"], **TEMPLATE, **days}).json()
    assert done["task"]["type"] == "message"
    assert [(e.action, e.reason) for e in _audit(teams)] == [(audit.PREPARE, "group")]


def test_a_manager_without_the_app_is_invited_and_the_invitation_waits_for_them(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    answer = _invite(teams, ALEX, MORGAN)  # Morgan never installed the app
    assert answer["task"]["type"] == "message", answer
    assert "if they haven't added Next Step yet, it waits for them" in answer["task"]["value"]
    not_an_id = _invite(teams, ALEX, "28:some-bot")
    assert "can't be reached" in card_text(_dialog(not_an_id))
    with Session(teams.runtime.engine) as session:
        assert [g.manager_user_id for g in session.exec(select(ManagerGrant))] == [MORGAN]
    assert teams.cards(MORGAN) == []
    teams.install(MORGAN)
    teams.cloud.wait_for(lambda: len(teams.cards(MORGAN)) >= 2)  # the welcome and the invitation
    grant = next(s for s in teams.cards(MORGAN, 2) if "has invited you" in card_text(s.card))
    assert "Person a1e5 has invited you" in card_text(grant.card)
    form = _dialog(teams.open_from(MORGAN, grant, ids.MEETING_PREPARE).json())
    assert "what would make Person a1e5 the right candidate" in card_text(form)

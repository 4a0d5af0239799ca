"""Inviting a manager in Teams: the inviter cannot tell whether the manager has the app, and an
invitation to a manager without it waits until they add it (issue 15, item 3).

Teams gives the bot no directory, so "has the app" is the only thing it knows of a colleague:
an answer that differed on it would tell the inviter whether their manager installed a bot for
people turned down for a role.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.core import ids
from bot.core.models import (
    AuditEntry,
    Checkin,
    CheckinStatus,
    Journey,
    JourneyStatus,
    ManagerGrant,
)
from handlers import manager_invitation
from tests.bot.teams.harness import ALEX, MORGAN, TeamsBot, TeamsFactory, card_text, has_button
from tests.bot.teams.test_meetings_e2e import _dialog

NEWCOMER = "0a1b2c3d-0000-4000-8000-0000000e3e11"  # a manager who never added the app
OTHER_NEWCOMER = "0a1b2c3d-0000-4000-8000-0000000e3e22"


def _submit_invitation(teams: TeamsBot, person: str, manager: str) -> httpx.Response:
    opened = teams.open_dialog(
        person,
        {"msteams": {"type": "task/fetch"}, "opener": ids.OPEN_MANAGER_INVITE, "value": "x"},
    )
    submit = _dialog(opened.json())["actions"][0]["data"]
    return teams.submit(person, {**submit, "manager": manager})


def _invitations_to(teams: TeamsBot, user: str) -> int:
    teams.settle()
    return sum(1 for sent in teams.cards(user) if "has invited you" in card_text(sent.card))


def _grant_rows(teams: TeamsBot) -> list[Checkin]:
    with Session(teams.runtime.engine) as session:
        return list(
            session.exec(
                select(Checkin)
                .where(Checkin.kind == ids.CHECKIN_KIND_MEETING_GRANT)
                .order_by(col(Checkin.id))
            )
        )


def _started(teams: TeamsBot) -> None:
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)


def test_the_inviter_reads_the_same_answer_whether_or_not_the_manager_has_the_app(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.install(MORGAN)  # Teams told the bot Morgan's name: "Person 0551"
    _started(teams)

    with_app = _submit_invitation(teams, ALEX, MORGAN)
    without_app = _submit_invitation(teams, ALEX, NEWCOMER)

    assert with_app.status_code == without_app.status_code == 200
    assert with_app.content == without_app.content  # byte for byte: nothing to tell them apart
    answer = with_app.json()
    assert answer["task"]["type"] == "message", answer
    assert "Person 0551" not in with_app.text and MORGAN not in with_app.text
    assert "can't be reached" not in with_app.text
    with Session(teams.runtime.engine) as session:
        grants = session.exec(select(ManagerGrant).order_by(col(ManagerGrant.id))).all()
    assert [g.manager_user_id for g in grants] == [MORGAN, NEWCOMER]
    # Anything but an Entra object id is still the calm form error.
    not_an_id = _submit_invitation(teams, ALEX, "28:some-bot").json()
    assert "can't be reached" in card_text(_dialog(not_an_id))


def test_the_invitation_waits_and_arrives_once_when_the_manager_adds_the_app(
    start_teams: TeamsFactory,
    engine: Engine,
) -> None:
    teams = start_teams(engine=engine)  # both databases: the queries are new
    _started(teams)
    assert _submit_invitation(teams, ALEX, NEWCOMER).json()["task"]["type"] == "message"
    assert _submit_invitation(teams, ALEX, OTHER_NEWCOMER).json()["task"]["type"] == "message"

    # Weeks of sweeps: the rows wait, no attempt is counted, nothing fails or is paused.
    start = teams.bot.clock.now
    for day in range(1, 15):
        teams.bot.clock.move_to(start + timedelta(days=day, minutes=1))
        teams.sweep()
    waiting = _grant_rows(teams)
    assert [(row.status, row.attempts, row.sent_at) for row in waiting] == [
        (CheckinStatus.PENDING, 0, None),
        (CheckinStatus.PENDING, 0, None),
    ]
    with Session(teams.runtime.engine) as session:
        journey = session.exec(select(Journey)).one()
    assert journey.status == JourneyStatus.ACTIVE  # Alex's journey goes on

    teams.install(NEWCOMER)
    teams.cloud.wait_for(lambda: _invitations_to(teams, NEWCOMER) >= 1)
    card = next(s for s in teams.cards(NEWCOMER) if "has invited you" in card_text(s.card))
    assert "Person a1e5 has invited you" in card_text(card.card)
    assert has_button(card.card, ids.MEETING_PREPARE)
    # The other manager just writes to the bot: that stores their chat too.
    teams.say(OTHER_NEWCOMER, "hello")
    teams.cloud.wait_for(lambda: _invitations_to(teams, OTHER_NEWCOMER) >= 1)

    teams.install(NEWCOMER)  # installed again, a sweep later: still one invitation
    teams.say(OTHER_NEWCOMER, "hello")
    teams.sweep()
    assert _invitations_to(teams, NEWCOMER) == 1
    assert _invitations_to(teams, OTHER_NEWCOMER) == 1
    assert [row.status for row in _grant_rows(teams)] == [CheckinStatus.SENT] * 2


def test_a_withdrawn_invitation_never_arrives(start_teams: TeamsFactory, engine: Engine) -> None:
    teams = start_teams(engine=engine)  # both databases: the queries are new
    _started(teams)
    _submit_invitation(teams, ALEX, NEWCOMER)
    with Session(teams.runtime.engine) as session:
        grant = session.exec(select(ManagerGrant)).one()
    # Teams has no App Home to withdraw from yet (README); Slack's button calls this handler.
    assert manager_invitation.withdraw_invitation(teams.runtime.services, teams.ref(ALEX), grant.id)
    assert [row.status for row in _grant_rows(teams)] == [CheckinStatus.CANCELLED]

    teams.install(NEWCOMER)
    teams.sweep()
    assert _invitations_to(teams, NEWCOMER) == 0

    # Invited again within the week: the answer is the usual "renewed", and since the first
    # one never reached them, this one waits for them and arrives, once.
    renewed = _submit_invitation(teams, ALEX, NEWCOMER).json()
    assert "Invitation renewed" in renewed["task"]["value"]
    teams.cloud.wait_for(lambda: _invitations_to(teams, NEWCOMER) >= 1)
    teams.sweep()
    assert _invitations_to(teams, NEWCOMER) == 1


def test_an_inviter_who_erases_their_data_leaves_no_waiting_invitation(
    start_teams: TeamsFactory,
    engine: Engine,
) -> None:
    teams = start_teams(engine=engine)  # both databases: the queries are new
    _started(teams)
    _submit_invitation(teams, ALEX, NEWCOMER)
    assert [row.status for row in _grant_rows(teams)] == [CheckinStatus.PENDING]
    teams.say(ALEX, "forget")
    prompt = teams.cards(ALEX, 3)[-1]
    teams.click(ALEX, prompt, ids.FORGET_CONFIRM)
    assert _grant_rows(teams) == []

    teams.install(NEWCOMER)
    teams.sweep()
    assert _invitations_to(teams, NEWCOMER) == 0


def test_waiting_invitations_count_towards_the_daily_limit(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    _started(teams)
    managers = [f"0a1b2c3d-0000-4000-8000-00000000d0d{number}" for number in range(1, 7)]
    teams.install(managers[0])  # one has the app; the rest wait for it
    answers = [_submit_invitation(teams, ALEX, manager).json() for manager in managers]

    assert all(answer["task"]["type"] == "message" for answer in answers[:5])
    refused = card_text(_dialog(answers[-1]))
    assert "as many invitations as I send in one day" in refused
    for manager in managers[1:]:
        teams.install(manager)
    teams.sweep()
    assert [_invitations_to(teams, manager) for manager in managers] == [1, 1, 1, 1, 1, 0]
    with Session(teams.runtime.engine) as session:
        last = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert last is not None and last.other == managers[-1] and last.reason == "daily_limit"

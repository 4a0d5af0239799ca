"""What Teams gains by the forms being declared once (issue 16): the `hours` word opens the
working-time dialog, and an invitation to a manager can be withdrawn from the chat. Through
the Teams endpoint, against the loopback Teams service."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, CheckinStatus, ManagerGrant, Person
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory, card_text, has_button

NEWCOMER = "0a1b2c3d-0000-4000-8000-0000000f0f11"  # a manager who has not added the app yet


def _dialog_card(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["task"]["type"] == "continue", answer
    card: dict[str, Any] = answer["task"]["value"]["card"]["content"]
    return card


def _field(card: dict[str, Any], name: str) -> dict[str, Any]:
    return next(element for element in card["body"] if element.get("id") == name)


def _started(teams: TeamsBot) -> None:
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)


def test_the_hours_word_opens_the_working_time_dialog(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    _started(teams)
    teams.say(ALEX, "hours")
    answer = teams.cards(ALEX, 3)[-1]
    assert "My messages reach you" in card_text(answer.card)
    assert has_button(answer.card, ids.OPEN_HOURS_FORM)

    form = _dialog_card(teams.open_from(ALEX, answer, ids.OPEN_HOURS_FORM).json())
    assert _field(form, "hours")["value"] == "09:00-17:00"
    submit = form["actions"][0]["data"]

    wrong = _dialog_card(teams.submit(ALEX, {**submit, "hours": "late", "days": "mon-fri"}).json())
    error_at = next(i for i, e in enumerate(wrong["body"]) if e.get("id") == "hours")
    assert wrong["body"][error_at + 1]["inlines"][0]["color"] == "Attention"
    assert _field(wrong, "hours")["value"] == "late"  # what was typed is kept

    saved = teams.submit(
        ALEX, {**submit, "hours": "08:00-16:00", "days": "mon-thu", "zone": "Europe/Berlin"}
    ).json()
    assert saved["task"]["type"] == "message"
    assert "08:00" in saved["task"]["value"] and "Europe/Berlin" in saved["task"]["value"]
    with Session(teams.runtime.engine) as session:
        person = session.exec(select(Person).where(Person.user_id == ALEX)).one()
    assert (person.work_hours, person.work_days, person.time_zone_override) == (
        "08:00-16:00",
        "mon-thu",
        "Europe/Berlin",
    )


def test_an_invitation_is_withdrawn_from_the_chat_and_never_arrives(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    _started(teams)
    opened = teams.open_dialog(
        ALEX, {"msteams": {"type": "task/fetch"}, "opener": ids.OPEN_MANAGER_INVITE}
    )
    submit = _dialog_card(opened.json())["actions"][0]["data"]
    answer = teams.submit(ALEX, {**submit, "manager": NEWCOMER}).json()
    assert "Invitation saved" in answer["task"]["value"]

    # Under the dialog's answer, the chat shows the invitation with its withdraw button.
    invited = teams.cards(ALEX, 3)[-1]
    assert has_button(invited.card, ids.MANAGER_REVOKE)
    with Session(teams.runtime.engine) as session:
        [waiting] = session.exec(
            select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_MEETING_GRANT)
        ).all()
    assert waiting.status == CheckinStatus.PENDING

    clicked = teams.click(ALEX, invited, ids.MANAGER_REVOKE).json()
    assert "Invitation withdrawn" in str(clicked["value"])
    assert not has_button(clicked["value"], ids.MANAGER_REVOKE)
    with Session(teams.runtime.engine) as session:
        [grant] = session.exec(select(ManagerGrant)).all()
        row = session.get(Checkin, waiting.id)
    assert grant.revoked_at is not None
    assert row is not None and row.status == CheckinStatus.CANCELLED

    # A second click on the old card changes nothing more.
    again = teams.click(ALEX, invited, ids.MANAGER_REVOKE).json()
    assert "expired" in str(again["value"])

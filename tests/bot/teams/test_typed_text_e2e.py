"""Typed text and named colleagues through the real Teams endpoint: typed text never names
anyone, and no answer tells a person whether a colleague they named has used the bot."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Goal
from tests.bot.teams.harness import ALEX, MORGAN, SAM, TeamsBot, TeamsFactory, card_text

SAM_NAME = "Person 05a3"  # the name Teams gave Sam's activities, kept in our records
NEWCOMER = "0a1b2c3d-0000-4000-8000-0000000ce111"  # never used the bot


def _forged(user: str) -> str:
    return f"ask \u2063@{user}\u2063 about it"


def _dialog(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["task"]["type"] == "continue", answer
    card: dict[str, Any] = answer["task"]["value"]["card"]["content"]
    return card


def test_a_typed_mark_names_nobody_in_a_reply(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    teams.install(SAM)
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)

    teams.say(ALEX, _forged(SAM))
    about_sam = card_text(teams.cards(ALEX, 3)[-1].card)
    teams.say(ALEX, _forged(NEWCOMER))
    about_newcomer = card_text(teams.cards(ALEX, 4)[-1].card)

    assert SAM_NAME not in about_sam and "a colleague" not in about_sam
    assert f"@{SAM}" in about_sam
    # The same answer whether the colleague has used the bot or not.
    assert about_sam.replace(SAM, "<id>") == about_newcomer.replace(NEWCOMER, "<id>")


def test_typed_marks_in_forms_show_as_plain_text(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    teams.install(SAM)
    teams.install(MORGAN)
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)

    # Goals and the feedback request draft.
    goals = {"action": ids.GOALS_FORM, "what_1": _forged(SAM), "first_step_1": _forged(SAM)}
    assert teams.submit(ALEX, goals).status_code == 200
    with Session(teams.runtime.engine) as session:
        [goal] = session.exec(select(Goal)).all()
        assert "\u2063" not in goal.what + (goal.first_step or "")
    before = len(teams.cards(ALEX))
    request = {
        "action": ids.FEEDBACK_FORM,
        "decider": MORGAN,
        "focus": _forged(SAM),
        "tone": "warm",
    }
    assert teams.submit(ALEX, request).status_code == 200
    draft = card_text(teams.cards(ALEX, before + 1)[-1].card)
    assert SAM_NAME not in draft and f"ask @{SAM} about it" in draft

    # The agenda a manager writes: the manager's copy.
    opened = teams.open_dialog(
        ALEX, {"msteams": {"type": "task/fetch"}, "opener": ids.OPEN_MANAGER_INVITE}
    )
    invite = _dialog(opened.json())["actions"][0]["data"]
    assert "Invitation saved" in teams.submit(ALEX, {**invite, "manager": MORGAN}).text
    today = date(2026, 11, 23)
    template = {
        "action": ids.MEETING_FORM,
        "person": ALEX,
        "thanks": "Thank you for applying.",
        "observed": _forged(SAM),
        "gaps": "Budget ownership.",
        "next_steps": _forged(SAM),
        "growth": "",
        "meeting_on": (today + timedelta(days=3)).isoformat(),
        "follow_up_on": (today + timedelta(days=30)).isoformat(),
    }
    morgan_before = len(teams.cards(MORGAN))
    done = teams.submit(MORGAN, template).json()
    assert done["task"]["type"] == "message"
    agenda = card_text(teams.cards(MORGAN, morgan_before + 1)[-1].card)
    assert "Budget ownership." in agenda
    assert SAM_NAME not in agenda and f"ask @{SAM} about it" in agenda


def _pick(teams: TeamsBot, actor: str, person: str) -> str:
    teams.say(actor, "meeting")
    opener = teams.cards(actor)[-1]
    pick = _dialog(teams.open_from(actor, opener, ids.OPEN_MEETING_PICK).json())
    answer = teams.submit(actor, {**pick["actions"][0]["data"], "person": person})
    return card_text(_dialog(answer.json()))


def test_the_meeting_picker_refuses_alike_whether_the_colleague_has_the_app(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.install(SAM)
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)

    has_app = _pick(teams, SAM, ALEX)
    no_app = _pick(teams, SAM, NEWCOMER)

    assert "Nothing was sent" in has_app
    assert has_app == no_app

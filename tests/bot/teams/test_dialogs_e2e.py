"""The forms as Teams dialogs: the same validation as in Slack, errors shown in the dialog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, FeedbackNote, FeedbackRequest, Goal
from tests.bot.teams.harness import ALEX, MORGAN, TeamsBot, TeamsFactory, button_data, card_text

BERLIN = ZoneInfo("Europe/Berlin")


def _to_stage(teams: TeamsBot, stage_number: int) -> None:
    """Click "next" until the stage with this number has arrived."""
    teams.say(ALEX, "notpromoted")
    sent = teams.cards(ALEX, 2)[-1]
    for number in range(2, stage_number + 1):
        teams.click(ALEX, sent, ids.STAGE_NEXT)
        sent = teams.cards(ALEX, number + 1)[-1]
    assert f"Step {stage_number} of 10" in card_text(sent.card)


def _dialog_card(answer: dict[str, object]) -> dict[str, object]:
    task = answer["task"]
    assert isinstance(task, dict) and task["type"] == "continue"
    card = task["value"]["card"]["content"]
    assert isinstance(card, dict)
    return card


def test_the_feedback_helper_validates_in_the_dialog_then_sends_the_draft(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    _to_stage(teams, 3)
    stage = teams.cards(ALEX)[-1]
    opened = teams.open_from(ALEX, stage, ids.OPEN_FEEDBACK_FORM)
    assert opened.status_code == 200
    form = _dialog_card(opened.json())
    assert "Who made the decision?" in card_text(form)
    submit = form["actions"][0]["data"]  # type: ignore[index]

    missing = teams.submit(ALEX, {**submit, "focus": "what the role needed", "tone": "warm"})
    again = _dialog_card(missing.json())
    assert "Pick the person who made the decision." in card_text(again)
    assert "what the role needed" in str(again)  # what was typed is kept

    before = len(teams.cards(ALEX))
    saved = teams.submit(ALEX, {**submit, "decider": MORGAN.upper(), "tone": "short"})
    assert saved.status_code == 200 and not saved.content  # the dialog closes
    draft = teams.cards(ALEX, before + 1)[-1]
    assert "A draft you can adapt and send yourself" in card_text(draft.card)
    with Session(teams.runtime.engine) as session:
        request = session.exec(select(FeedbackRequest)).one()
        assert request.decider_user_id == MORGAN and request.tone == "short"


def test_the_goals_form_from_the_check_in_saves_goals_and_retires_the_check_in(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.bot.clock.move_to(datetime(2026, 11, 23, 9, 30, tzinfo=BERLIN))
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    with Session(teams.runtime.engine) as session:
        due = (
            session.exec(select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_GOALS_NUDGE))
            .one()
            .due_at
        )
    teams.bot.clock.move_to(due)
    teams.sweep()
    nudge = teams.cards(ALEX)[-1]
    assert "Shall we write your goals down?" in card_text(nudge.card)

    opened = teams.open_from(ALEX, nudge, ids.NUDGE_WRITE_GOALS)
    form = _dialog_card(opened.json())
    submit = form["actions"][0]["data"]  # type: ignore[index]
    assert submit["checkin"] == button_data(nudge.card, ids.NUDGE_WRITE_GOALS)["checkin"]

    yesterday = (due - timedelta(days=1)).astimezone(UTC).date().isoformat()
    wrong = teams.submit(ALEX, {**submit, "first_step_1": "ask Sam", "by_when_2": yesterday})
    shown = card_text(_dialog_card(wrong.json()))
    assert "Add the goal this first step belongs to." in shown
    assert "Pick a date that is still ahead of you." in shown

    before = len(teams.cards(ALEX))
    done = teams.submit(ALEX, {**submit, "what_1": "Lead a project", "first_step_1": "ask Sam"})
    assert done.status_code == 200
    saved = teams.cards(ALEX, before + 1)[-1]
    assert "Lead a project" in card_text(saved.card)
    assert teams.cloud.wait_for(lambda: len(nudge.updates) == 1)
    assert "✓" in card_text(nudge.card)
    with Session(teams.runtime.engine) as session:
        assert [g.what for g in session.exec(select(Goal))] == ["Lead a project"]


def test_notes_dialog_needs_one_box_filled(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    submit = {"action": ids.NOTES_FORM}  # what the notes dialog's button carries
    empty = teams.submit(ALEX, {**submit, "keep": "  "})
    assert "Write something in at least one of the two boxes." in card_text(
        _dialog_card(empty.json())
    )
    saved = teams.submit(ALEX, {**submit, "keep": "ask for stretch work"})
    assert saved.json()["task"]["type"] == "message"
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(FeedbackNote)).one().keep == "ask for stretch work"


def test_a_goals_command_answers_with_a_button_that_opens_the_dialog(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    teams.say(ALEX, "goals")
    answer = teams.cards(ALEX, 3)[-1]
    data = button_data(answer.card, ids.OPEN_GOALS_FORM)
    assert data["msteams"] == {"type": "task/fetch"}
    form = _dialog_card(teams.open_dialog(ALEX, data).json())
    assert "Goal 1" in card_text(form)

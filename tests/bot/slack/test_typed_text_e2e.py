"""Typed text through the real Slack endpoint: it never becomes a mention, and characters a
database refuses (a NUL byte) are dropped rather than turned into an error.

The bot names people with an invisible mark around "@<id>" (messages.model.mention), which
the renderer turns into a Slack mention. Someone who types that mark themselves must read it
as plain text, wherever the text shows up again: the Home, a draft, the agenda a manager gets.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import FeedbackNote, Goal, Person
from tests.bot.slack.test_meetings_e2e import (
    MANAGER,
    PERSON,
    _begin,
    _home,
    _invite,
    _meeting_command,
    _opened,
    _submit,
    _template_values,
)
from tests.conftest import BotFactory, text_of

OTHER = "U0OTHER"
FORGED = f"ask \u2063@{OTHER}\u2063 about it"
SHOWN = f"ask @{OTHER} about it"
REAL_MENTION = f"<@{OTHER}>"


def _form(callback_id: str) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "private_metadata": "{}", "blocks": []}


def _as_text(blocks: list[dict[str, Any]]) -> str:
    return text_of(blocks)


def test_typed_mention_marks_show_as_plain_text_everywhere(start_bot: BotFactory) -> None:
    bot = start_bot()
    _begin(bot)

    # The command's own text: the "I didn't recognise" answer quotes it.
    answer = bot.command(PERSON, f"\u2063@{OTHER}\u2063").json()
    assert REAL_MENTION not in json.dumps(answer)
    assert f"@{OTHER}" in json.dumps(answer)

    # Goals and notes, as the Home shows them.
    goals = {
        "what_1": {"type": "plain_text_input", "value": FORGED},
        "first_step_1": {"type": "plain_text_input", "value": FORGED},
        "by_when_1": {"type": "datepicker", "selected_date": None},
    }
    assert _submit(bot, PERSON, _form(ids.GOALS_FORM), goals) is None
    notes = {"keep": {"value": FORGED}, "work_on": {"value": ""}}
    assert _submit(bot, PERSON, _form(ids.NOTES_FORM), notes)["response_action"] == "update"
    home = _home(bot, PERSON)
    assert REAL_MENTION not in json.dumps(home.blocks)
    assert SHOWN in _as_text(home.blocks)

    # The feedback request draft, sent as a DM.
    before = len(bot.standin.dms_to(PERSON))
    request = {
        "decider": {"type": "users_select", "selected_user": "U0BOSS"},
        "focus": {"type": "plain_text_input", "value": FORGED},
        "tone": {"type": "radio_buttons", "selected_option": {"value": "warm"}},
    }
    assert _submit(bot, PERSON, _form(ids.FEEDBACK_FORM), request) is None
    draft = bot.dms(PERSON, before + 1)[-1]
    assert REAL_MENTION not in json.dumps(draft.blocks)
    assert SHOWN in _as_text(draft.blocks)

    # The agenda a manager prepares: the manager's copy, and the person's once they accept.
    _invite(bot, MANAGER)
    views = len(bot.standin.opened_views)
    _meeting_command(bot, MANAGER, PERSON)
    template = _opened(bot, views + 1)
    saved = _submit(bot, MANAGER, template, _template_values(observed=FORGED, next_steps=FORGED))
    assert saved["response_action"] == "update"
    assert REAL_MENTION not in json.dumps(saved["view"])
    agenda = bot.dms(MANAGER, 2)[-1]
    assert REAL_MENTION not in json.dumps(agenda.blocks)
    assert SHOWN in _as_text(agenda.blocks)
    offer = bot.dms(PERSON, before + 2)[-1]
    assert bot.click(PERSON, offer, ids.MEETING_ACCEPT).status_code == 200
    accepted = bot.dms(PERSON, before + 3)[-1]
    assert REAL_MENTION not in json.dumps(accepted.blocks)
    assert SHOWN in _as_text(accepted.blocks)
    # Nobody was named, so nobody else heard anything.
    assert bot.standin.dms_to(OTHER) == []


def test_a_nul_byte_in_typed_text_is_dropped_on_postgresql(
    start_bot: BotFactory, postgres_engine: Engine
) -> None:
    bot = start_bot(engine=postgres_engine)
    _begin(bot)
    goals = {
        "what_1": {"type": "plain_text_input", "value": "Lead\x00 the planning"},
        "why_1": {"type": "plain_text_input", "value": "line one\nline\ttwo\x07"},
        "first_step_1": {"type": "plain_text_input", "value": "Ask\x00"},
        "by_when_1": {"type": "datepicker", "selected_date": None},
    }
    assert _submit(bot, PERSON, _form(ids.GOALS_FORM), goals) is None
    notes = {"keep": {"value": "keep\x00 this"}, "work_on": {"value": ""}}
    saved = _submit(bot, PERSON, _form(ids.NOTES_FORM), notes)
    assert saved["response_action"] == "update" and "Saved privately" in json.dumps(saved)
    # The command text too: the person reads the normal answer to "status".
    answer = bot.command(PERSON, "stat\x00us").json()
    assert "You're on step 1 of 10" in answer["text"]
    with Session(postgres_engine) as session:
        [goal] = session.exec(select(Goal)).all()
        assert (goal.what, goal.why, goal.first_step) == (
            "Lead the planning",
            "line one\nline\ttwo",
            "Ask",
        )
        [note] = session.exec(select(FeedbackNote).where(FeedbackNote.keep == "keep this")).all()
        assert note.keep == "keep this"


def test_marks_stored_before_the_cleaning_still_name_nobody(start_bot: BotFactory) -> None:
    """Rows written by an older version, mark and all, show as plain text too."""
    bot = start_bot()
    _begin(bot)
    with Session(bot.runtime.engine) as session:
        person = session.exec(select(Person).where(Person.user_id == PERSON)).one()
        now = bot.clock.now
        session.add(Goal(person_id=person.id or 0, what=FORGED, created_at=now, updated_at=now))
        session.add(FeedbackNote(person_id=person.id or 0, keep=FORGED, created_at=bot.clock.now))
        session.commit()
    home = _home(bot, PERSON)
    assert REAL_MENTION not in json.dumps(home.blocks)
    assert SHOWN in _as_text(home.blocks)

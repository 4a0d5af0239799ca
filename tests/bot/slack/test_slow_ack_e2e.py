"""When our work before an acknowledgement takes longer than Bolt's 3 s wait (a database that
is slow for a moment, a machine under overload), Bolt moves on to the next listener that
matches. No second listener may then run the same command again, or take a form's answer."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, Journey, Person
from bot.demo import slack_requests
from bot.slack import listeners
from handlers import journey_controls, journey_routes
from handlers.command import run_command
from tests.conftest import TEAM, BotFactory, text_of

USER = "U0SLOW"
PAST_BOLTS_WAIT_SECONDS = 3.5


def _slowly(work: Any, calls: list[str]) -> Any:
    def slow(*args: Any, **kwargs: Any) -> Any:
        calls.append(work.__name__)
        time.sleep(PAST_BOLTS_WAIT_SECONDS)  # in the blocking-work thread, as a slow query
        return work(*args, **kwargs)

    return slow


def test_a_command_acknowledged_late_runs_once(
    start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    slow = _slowly(run_command, calls)
    monkeypatch.setattr(journey_routes, "run_command", slow)
    bot = start_bot()

    assert bot.command(USER).status_code == 200  # late, and not a 500
    bot.settle()

    assert calls == ["run_command"]
    [dm] = bot.dms(USER, 1)
    assert "Step 1 of 10" in text_of(dm.blocks)
    with Session(bot.runtime.engine) as session:
        assert len(session.exec(select(Journey)).all()) == 1
        stages = session.exec(select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_STAGE))
        assert len(stages.all()) == 1
    assert len(bot.standin.dms_to(USER)) == 1


def test_a_form_acknowledged_late_is_not_taken_by_the_catch_all(
    start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving a form answers in its acknowledgement; the catch-all that only acknowledges
    must not take the request while the form's own listener is still saving."""
    caught: list[str] = []

    async def counted_ack_only(self: listeners.SlackListeners, ack: Any) -> None:
        caught.append("ack_only")
        await ack()

    monkeypatch.setattr(listeners.SlackListeners, "ack_only", counted_ack_only)
    bot = start_bot()
    bot.command(USER)
    bot.dms(USER, 1)
    calls: list[str] = []
    monkeypatch.setattr(
        journey_controls, "set_working_time", _slowly(journey_controls.set_working_time, calls)
    )
    values = {
        "hours": {"type": "plain_text_input", "value": "08:00-16:00"},
        "days": {"type": "plain_text_input", "value": "mon-thu"},
        "zone": {"type": "plain_text_input", "value": ""},
    }
    form = {"type": "modal", "callback_id": ids.HOURS_FORM, "blocks": []}
    body, kind = slack_requests.view_submission(
        user_id=USER, team_id=TEAM, view=form, values=values
    )

    assert bot.post(body, kind).status_code == 200
    bot.settle()

    assert calls == ["set_working_time"]
    assert caught == []
    with Session(bot.runtime.engine) as session:
        [person] = session.exec(select(Person))
    assert (person.work_hours, person.work_days) == ("08:00-16:00", "mon-thu")

"""The home tab's controls and the data export, through the real endpoint."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Journey, JourneyStatus, Person
from bot.demo import slack_requests
from bot.demo.slack_standin_records import PostedMessage
from tests.bot.slack.app_home import as_dict, home_after_pressing, open_home
from tests.conftest import BotFactory, text_of

USER = "U0RIA"
LONDON = ZoneInfo("Europe/London")


def _buttons(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_home_shows_where_you_are_what_comes_next_and_your_controls(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.clock.move_to(datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    bot.command(USER)
    bot.dms(USER, 1)
    view = open_home(bot, USER, "Ev1")
    text = text_of(view["blocks"])
    assert "step 1 of 10" in text
    assert "Next from me, on Thursday at 09:30: A quiet check-in about feedback" in text
    forms = [
        ids.OPEN_FEEDBACK_FORM,
        ids.OPEN_GOALS_FORM,
        ids.OPEN_HOURS_FORM,
        ids.OPEN_LANGUAGE_FORM,
        ids.OPEN_MANAGER_INVITE,
    ]
    assert _buttons(view) == [*forms, ids.HOME_PAUSE, ids.HOME_EXPORT, ids.HOME_ERASE]
    erase = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]][-1]
    assert erase["style"] == "danger" and erase["confirm"]["confirm"]["text"] == "Erase"

    paused = home_after_pressing(bot, USER, view, ids.HOME_PAUSE)
    assert "paused" in text_of(paused["blocks"])
    assert _buttons(paused) == [*forms, ids.HOME_RESUME, ids.HOME_EXPORT, ids.HOME_ERASE]
    resumed = home_after_pressing(bot, USER, paused, ids.HOME_RESUME)
    assert ids.HOME_PAUSE in _buttons(resumed)
    assert len(bot.dms(USER, 2)) == 2  # resuming brings the current step back


def test_erase_from_home_removes_everything(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    bot.dms(USER, 1)
    view = open_home(bot, USER, "Ev1")
    after = home_after_pressing(bot, USER, view, ids.HOME_ERASE)
    assert _buttons(after) == [ids.HOME_START]  # a newcomer's welcome again
    with Session(bot.runtime.engine) as session:
        assert list(session.exec(select(Person))) == []


def test_export_sends_a_complete_json_file_to_the_dm(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    bot.click(USER, first, ids.STAGE_NEXT)
    bot.dms(USER, 2)
    reply = bot.command(USER, "export").json()
    assert "in a file" in reply["text"]
    assert bot.standin.wait_for(lambda: len(bot.standin.shared_files) == 1)
    [shared] = bot.standin.shared_files
    assert shared["channel"] == f"D{USER}"
    data = json.loads(shared["content"])
    assert data["person"]["user"] == USER and data["person"]["time_zone"] == "Europe/London"
    [journey] = data["journeys"]
    assert journey["status"] == JourneyStatus.ACTIVE and journey["step"] == "professional"
    kinds = [m["kind"] for m in journey["messages"]]
    assert kinds.count("stage") == 2 and "feedback_nudge" in kinds
    assert journey["messages"][0]["your_answer"] == ids.STAGE_NEXT
    assert data["goals"] == []
    # From the home tab too; someone unknown gets a plain answer and no file.
    home_after_pressing(bot, USER, open_home(bot, USER, "Ev2"), ids.HOME_EXPORT)
    assert bot.standin.wait_for(lambda: len(bot.standin.shared_files) == 2)
    assert "nothing to export" in bot.command("U0NOBODY", "export").json()["text"]
    bot.settle()
    assert len(bot.standin.shared_files) == 2
    with Session(bot.runtime.engine) as session:
        assert len(list(session.exec(select(Journey)))) == 1


def test_working_time_and_time_zone_from_home(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    bot.dms(USER, 1)
    view = open_home(bot, USER, "Ev1")
    home_as_message = PostedMessage(
        channel="", ts="", text="", blocks=view["blocks"], metadata=None
    )
    body, kind = slack_requests.button_click(
        user_id=USER,
        team_id="T0TEST",
        message=home_as_message,
        action_id=ids.OPEN_HOURS_FORM,
        value="home",
        response_url=bot.standin.response_url(USER),
    )
    bot.post(body, kind)
    form = as_dict(bot.standin.wait_for_calls("views.open", 1)[0].args["view"])
    assert form["callback_id"] == ids.HOURS_FORM
    assert form["blocks"][0]["element"]["initial_value"] == "09:00-17:00"

    def submit(hours: str, days: str, zone: str) -> Any:
        values = {
            "hours": {"type": "plain_text_input", "value": hours},
            "days": {"type": "plain_text_input", "value": days},
            "zone": {"type": "plain_text_input", "value": zone},
        }
        body, kind = slack_requests.view_submission(
            user_id=USER, team_id="T0TEST", view=form, values=values
        )
        response = bot.post(body, kind)
        return response.json() if response.content else None

    errors = submit("9 to 5", "weekdays", "Mars/Olympus")["errors"]
    assert set(errors) == {"hours", "days", "zone"}
    saved = submit("08:00-16:00", "mon-thu", "America/Chicago")
    assert saved["response_action"] == "update"
    assert "08:00–16:00" in json.dumps(saved["view"], ensure_ascii=False)
    with Session(bot.runtime.engine) as session:
        [person] = session.exec(select(Person))
    assert (person.work_hours, person.work_days, person.time_zone_override) == (
        "08:00-16:00",
        "mon-thu",
        "America/Chicago",
    )
    assert person.time_zone == "Europe/London"  # what Slack says stays, the choice wins
    # Leaving the zone empty follows Slack again.
    submit("08:00-16:00", "mon-thu", "")
    with Session(bot.runtime.engine) as session:
        [person] = session.exec(select(Person))
    assert person.time_zone_override is None

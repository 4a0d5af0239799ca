"""Check-ins days later, through the real endpoint: timing in the person's zone, the buttons,
the goals form, working hours."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, CheckinStatus, Goal, Person
from bot.demo import slack_requests
from bot.demo.slack_standin_records import PostedMessage
from tests.conftest import BotFactory, RunningBot, text_of

USER = "U0NOOR"
LONDON = ZoneInfo("Europe/London")


def _rows(bot: RunningBot, kind: str) -> list[Checkin]:
    with Session(bot.runtime.engine) as session:
        query = select(Checkin).where(Checkin.kind == kind).order_by(Checkin.id)  # type: ignore[arg-type]
        return list(session.exec(query))


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _start(bot: RunningBot, when: datetime, zone: str = "Europe/London") -> PostedMessage:
    bot.standin.add_user(USER, tz=zone)
    bot.clock.move_to(when)
    bot.command(USER)
    return bot.dms(USER, 1)[0]


def _sweep_at(bot: RunningBot, moment: datetime) -> list[PostedMessage]:
    before = len(bot.standin.dms_to(USER))
    bot.clock.move_to(moment)
    bot.sweep()
    return bot.standin.dms_to(USER)[before:]


def test_monday_start_gives_the_feedback_nudge_thursday_and_goals_the_next_wednesday(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    _start(bot, datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    [goals] = _rows(bot, ids.CHECKIN_KIND_GOALS_NUDGE)
    assert _local(feedback.due_at, "Europe/London").date() == date(2026, 11, 26)  # Thursday
    assert _local(goals.due_at, "Europe/London").date() == date(2026, 12, 2)  # next Wednesday
    for row in (feedback, goals):
        local = _local(row.due_at, "Europe/London")
        assert (
            datetime(2026, 1, 1, 9, 30).time() <= local.time() < datetime(2026, 1, 1, 9, 40).time()
        )

    assert _sweep_at(bot, datetime(2026, 11, 26, 9, 29, tzinfo=LONDON)) == []
    [nudge] = _sweep_at(bot, feedback.due_at)
    assert "Have you asked for feedback yet?" in text_of(nudge.blocks)
    assert [
        e["action_id"] for b in nudge.blocks if b["type"] == "actions" for e in b["elements"]
    ] == [ids.NUDGE_ASKED, ids.NUDGE_HELP, ids.NUDGE_LATER, ids.NUDGE_DECLINE]
    assert nudge.text == "You have a new message from Next Step"
    [goals_message] = _sweep_at(bot, goals.due_at)
    assert "Shall we write your goals down?" in text_of(goals_message.blocks)
    # Each went out once.
    assert _sweep_at(bot, goals.due_at + timedelta(hours=1)) == []


def test_a_friday_start_skips_the_weekend(start_bot: BotFactory) -> None:
    bot = start_bot()
    _start(bot, datetime(2026, 11, 27, 14, 0, tzinfo=LONDON))
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert _local(feedback.due_at, "Europe/London").date() == date(2026, 12, 2)  # Wednesday


def test_counting_across_the_european_daylight_saving_change(start_bot: BotFactory) -> None:
    bot = start_bot()
    # Thursday 26 March 2026, 10:00 in Berlin (UTC+1); clocks go forward on Sunday 29 March.
    _start(bot, datetime(2026, 3, 26, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")), "Europe/Berlin")
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    local = _local(feedback.due_at, "Europe/Berlin")
    assert local.date() == date(2026, 3, 31) and local.hour == 10
    assert feedback.due_at.astimezone(UTC).hour == 8  # UTC+2 now, not 9


def test_counting_across_the_us_daylight_saving_change(start_bot: BotFactory) -> None:
    bot = start_bot()
    # Thursday 29 October 2026, 10:00 in New York (EDT); clocks go back on Sunday 1 November.
    _start(
        bot, datetime(2026, 10, 29, 10, 0, tzinfo=ZoneInfo("America/New_York")), "America/New_York"
    )
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    local = _local(feedback.due_at, "America/New_York")
    assert local.date() == date(2026, 11, 3) and local.hour == 10
    assert feedback.due_at.astimezone(UTC).hour == 15  # EST is UTC-5


def test_people_far_east_and_far_west_count_their_own_days(start_bot: BotFactory) -> None:
    bot = start_bot()
    # 20:00 UTC on Monday 23 Nov is already Tuesday 09:00 in Auckland (UTC+13).
    _start(bot, datetime(2026, 11, 23, 20, 0, tzinfo=UTC), "Pacific/Auckland")
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert _local(feedback.due_at, "Pacific/Auckland").date() == date(2026, 11, 27)  # Friday there


def test_honolulu(start_bot: BotFactory) -> None:
    bot = start_bot()
    # 02:00 UTC on Tuesday 24 Nov is still Monday 16:00 in Honolulu (UTC-10).
    _start(bot, datetime(2026, 11, 24, 2, 0, tzinfo=UTC), "Pacific/Honolulu")
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    local = _local(feedback.due_at, "Pacific/Honolulu")
    assert local.date() == date(2026, 11, 26) and local.hour == 16  # Thursday there


def test_something_due_at_night_waits_for_the_morning_and_keeps_its_tries(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    _start(bot, datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    assert len(_rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)) == 1
    # The bot was down on Thursday; it comes back at 02:00 on Friday.
    night = datetime(2026, 11, 27, 2, 0, tzinfo=LONDON)
    assert _sweep_at(bot, night) == []
    [waiting] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    morning = datetime(2026, 11, 27, 9, 0, tzinfo=LONDON)
    assert waiting.status == CheckinStatus.PENDING and waiting.attempts == 0
    assert morning <= waiting.due_at < morning + timedelta(minutes=10)
    assert len(_sweep_at(bot, waiting.due_at)) == 1


def _buttons(message: PostedMessage) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def _nudge(bot: RunningBot) -> PostedMessage:
    _start(bot, datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    [nudge] = _sweep_at(bot, feedback.due_at)
    return nudge


def _opened_view(bot: RunningBot, count: int) -> dict[str, Any]:
    view = bot.standin.wait_for_calls("views.open", count)[count - 1].args["view"]
    loaded = json.loads(view) if isinstance(view, str) else view
    assert isinstance(loaded, dict)
    return loaded


def test_feedback_help_opens_the_request_form_and_sends_a_draft(start_bot: BotFactory) -> None:
    bot = start_bot()
    nudge = _nudge(bot)
    bot.click(USER, nudge, ids.NUDGE_HELP)
    view = _opened_view(bot, 1)
    assert view["callback_id"] == ids.FEEDBACK_FORM
    assert _buttons(nudge) == [ids.NUDGE_ASKED, ids.NUDGE_HELP, ids.NUDGE_LATER, ids.NUDGE_DECLINE]

    def submit(decider: str | None, focus: str, tone: str) -> Any:
        values: dict[str, dict[str, Any]] = {
            "decider": {"type": "users_select", "selected_user": decider},
            "focus": {"type": "plain_text_input", "value": focus},
            "tone": {"type": "radio_buttons", "selected_option": {"value": tone}},
        }
        return _submit(bot, view, values)

    assert submit(None, "", "warm")["errors"] == {
        "decider": "Pick the person who made the decision."
    }
    assert "not yourself" in submit(USER, "", "warm")["errors"]["decider"]
    assert submit("U0BOSS", "x" * 501, "warm")["errors"] == {"focus": "500 characters at most."}
    assert submit("U0BOSS", "which <experience> & skills the role needed", "formal") is None
    draft = bot.dms(USER, 3)[2]
    text = text_of(draft.blocks)
    assert "Kind regards" in text and "right candidate in future" in text
    assert "which &lt;experience&gt; &amp; skills the role needed" in text
    assert "```" in text  # a box that copies as it stands
    followups = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP)
    assert len(followups) == 1
    # A second request sends a second draft but asks only once how it went.
    assert submit("U0BOSS", "", "short") is None
    assert "Thanks for considering me" in text_of(bot.dms(USER, 4)[3].blocks)
    assert len(_rows(bot, ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP)) == 1


def test_private_notes_after_the_feedback_conversation(start_bot: BotFactory) -> None:
    bot = start_bot()
    nudge = _nudge(bot)
    bot.click(USER, nudge, ids.NUDGE_ASKED)
    bot.wait_updated(nudge)
    bot.settle()
    [followup] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP)
    [message] = _sweep_at(bot, followup.due_at)
    bot.click(USER, message, ids.NUDGE_NOTES)
    view = _opened_view(bot, 1)
    assert view["callback_id"] == ids.NOTES_FORM
    empty = {"keep": {"value": ""}, "work_on": {"value": " "}}
    assert _submit(bot, view, empty)["errors"] == {
        "keep": "Write something in at least one of the two boxes."
    }
    saved = _submit(bot, view, {"keep": {"value": "Shorter answers"}, "work_on": {"value": ""}})
    assert saved["response_action"] == "update"
    assert "Saved privately" in json.dumps(saved["view"])
    body, kind = slack_requests.event_callback(
        team_id="T0TEST",
        event={"type": "app_home_opened", "user": USER, "tab": "home"},
        event_id="EvNotes",
    )
    bot.post(body, kind)
    home = bot.standin.wait_for_calls("views.publish", 1)[-1].args["view"]
    assert "To keep: Shorter answers" in (home if isinstance(home, str) else json.dumps(home))


def test_yes_i_asked_schedules_the_how_did_it_go_check_in(start_bot: BotFactory) -> None:
    bot = start_bot()
    nudge = _nudge(bot)
    bot.click(USER, nudge, ids.NUDGE_ASKED)
    assert bot.wait_updated(nudge)
    assert _buttons(nudge) == [] and "Well done for asking" in text_of(nudge.blocks)
    bot.settle()
    [followup] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP)
    assert _local(followup.due_at, "Europe/London").date() == date(2026, 12, 1)  # 3 working days
    [message] = _sweep_at(bot, followup.due_at)
    assert _buttons(message) == [ids.NUDGE_HELPED, ids.NUDGE_HARD, ids.NUDGE_NONE, ids.NUDGE_NOTES]
    bot.click(USER, message, ids.NUDGE_NONE)
    assert bot.wait_updated(message)
    assert "no need to chase" in text_of(message.blocks)


def test_not_yet_asks_again_two_working_days_later(start_bot: BotFactory) -> None:
    bot = start_bot()
    nudge = _nudge(bot)
    bot.click(USER, nudge, ids.NUDGE_LATER)
    assert bot.wait_updated(nudge)
    assert "I'll ask again on Monday at 09:" in text_of(nudge.blocks)
    bot.settle()
    rows = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert [r.status for r in rows] == [CheckinStatus.SENT, CheckinStatus.PENDING]
    [again] = _sweep_at(bot, rows[1].due_at)
    assert "Have you asked for feedback yet?" in text_of(again.blocks)


def test_a_check_in_answer_counts_once_and_not_for_someone_else(start_bot: BotFactory) -> None:
    bot = start_bot()
    nudge = _nudge(bot)
    answered = len(bot.standin.responses)
    bot.click("U0OTHER", nudge, ids.NUDGE_DECLINE)
    # The other person reads privately that the button expired; Alex's message is untouched.
    assert bot.standin.wait_for(lambda: len(bot.standin.responses) > answered)
    assert "expired" in str(bot.standin.responses[-1]["blocks"])
    bot.settle()
    assert nudge.updates == 0
    assert _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)[0].answered_at is None


def _goals_values(*goals: tuple[str, str, str | None]) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {}
    for number, (what, step, when) in enumerate(goals, start=1):
        values[f"what_{number}"] = {"type": "plain_text_input", "value": what}
        values[f"first_step_{number}"] = {"type": "plain_text_input", "value": step}
        values[f"by_when_{number}"] = {"type": "datepicker", "selected_date": when}
    return values


def _submit(bot: RunningBot, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> Any:
    body, kind = slack_requests.view_submission(
        user_id=USER, team_id="T0TEST", view=view, values=values
    )
    response = bot.post(body, kind)
    assert response.status_code == 200
    return response.json() if response.content else None


def test_the_goals_form_validates_inline_and_saves(start_bot: BotFactory) -> None:
    bot = start_bot()
    _start(bot, datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    [offer] = _rows(bot, ids.CHECKIN_KIND_GOALS_NUDGE)
    # The feedback check-in, overdue by then, comes in the same sweep.
    _feedback, goals_message = _sweep_at(bot, offer.due_at)
    assert "Shall we write your goals down?" in text_of(goals_message.blocks)
    bot.click(USER, goals_message, ids.NUDGE_WRITE_GOALS)
    [opened] = bot.standin.wait_for_calls("views.open", 1)
    assert opened.args["trigger_id"]
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == ids.GOALS_FORM and len(view["title"]["text"]) <= 24
    # Three goals at most: the form has three, and saving it replaces the active ones.
    goal_fields = [
        b["block_id"] for b in view["blocks"] if b.get("block_id", "").startswith("what_")
    ]
    assert goal_fields == ["what_1", "what_2", "what_3"]

    assert _submit(bot, view, {}) == {
        "response_action": "errors",
        "errors": {"what_1": "Write at least one goal."},
    }
    errors = _submit(
        bot, view, _goals_values(("Lead planning", "", "2026-01-01"), ("", "Read a book", None))
    )
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"by_when_1", "what_2"}
    assert _submit(bot, view, _goals_values(("x" * 301, "", None)))["errors"] == {
        "what_1": "300 characters at most."
    }

    assert (
        _submit(
            bot,
            view,
            _goals_values(
                ("Lead the next planning round", "Ask to shadow it", "2027-03-31"),
                ("Finish a course", "", None),
            ),
        )
        is None
    )
    bot.settle()
    with Session(bot.runtime.engine) as session:
        goals = list(session.exec(select(Goal)))
    assert [(g.what, g.first_step, g.by_when) for g in goals] == [
        ("Lead the next planning round", "Ask to shadow it", date(2027, 3, 31)),
        ("Finish a course", None, None),
    ]
    saved = bot.dms(USER, 4)[3]
    assert "Lead the next planning round (by Mar 31, 2027)" in text_of(saved.blocks)
    assert bot.wait_updated(goals_message)
    assert _buttons(goals_message) == []
    progress = _rows(bot, ids.CHECKIN_KIND_GOAL_PROGRESS)
    written = bot.clock()
    assert [(r.due_at - written).days for r in progress] == [14, 42]
    [check] = _sweep_at(bot, progress[0].due_at)
    assert "Finish a course" in text_of(check.blocks)
    bot.click(USER, check, ids.NUDGE_STUCK)
    assert bot.wait_updated(check)
    assert "mentor" in text_of(check.blocks)


def test_goals_subcommand_opens_the_form_filled_with_current_goals(start_bot: BotFactory) -> None:
    bot = start_bot()
    _start(bot, datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    response = bot.command(USER, "goals")
    assert response.status_code == 200
    [opened] = bot.standin.wait_for_calls("views.open", 1)
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert _submit(bot, view, _goals_values(("Speak at the team meeting", "", None))) is None
    bot.settle()
    bot.command(USER, "goals")
    second = bot.standin.wait_for_calls("views.open", 2)[1].args["view"]
    assert "Speak at the team meeting" in (
        second if isinstance(second, str) else json.dumps(second)
    )


def test_personal_working_hours_move_what_is_scheduled(start_bot: BotFactory) -> None:
    bot = start_bot()
    _start(bot, datetime(2026, 11, 23, 7, 30, tzinfo=LONDON))
    [before] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    # Started before working hours: Thursday at the start of them.
    assert _local(before.due_at, "Europe/London").hour == 9
    reply = bot.command(USER, "hours 07:00-15:00 mon-thu").json()
    assert "07:00–15:00" in reply["text"] and "Friday" not in reply["text"]
    [after] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    local = _local(after.due_at, "Europe/London")
    assert local.date() == date(2026, 11, 26) and local.hour == 7
    assert "couldn't read" in bot.command(USER, "hours soon").json()["text"]
    assert "07:00–15:00" in bot.command(USER, "hours").json()["text"]


def test_learning_the_time_zone_later_moves_the_check_ins(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.standin.add_user(USER, tz="Pacific/Auckland")
    bot.clock.move_to(datetime(2026, 11, 23, 20, 0, tzinfo=UTC))
    bot.command(USER)  # the first message fetches the zone from users.info
    bot.dms(USER, 1)
    with Session(bot.runtime.engine) as session:
        [person] = session.exec(select(Person))
    assert person.time_zone == "Pacific/Auckland"
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    assert _local(feedback.due_at, "Pacific/Auckland").date() == date(2026, 11, 27)


def test_pause_holds_check_ins_and_stop_cancels_them(start_bot: BotFactory) -> None:
    bot = start_bot()
    _start(bot, datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    [feedback] = _rows(bot, ids.CHECKIN_KIND_FEEDBACK_NUDGE)
    bot.command(USER, "pause")
    assert _sweep_at(bot, feedback.due_at + timedelta(minutes=1)) == []
    bot.command(USER, "resume")
    bot.dms(USER, 2)  # resume brings the current step back
    nudge = _sweep_at(bot, feedback.due_at + timedelta(minutes=2))
    assert len(nudge) == 1 and "feedback" in text_of(nudge[0].blocks)
    bot.command(USER, "stop")
    assert {r.status for r in _rows(bot, ids.CHECKIN_KIND_GOALS_NUDGE)} == {CheckinStatus.CANCELLED}
    assert _sweep_at(bot, datetime(2026, 12, 20, 10, 0, tzinfo=LONDON)) == []


def test_forget_erases_goals_and_everything_scheduled(start_bot: BotFactory) -> None:
    bot = start_bot()
    _start(bot, datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    bot.command(USER, "goals")
    [opened] = bot.standin.wait_for_calls("views.open", 1)
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert _submit(bot, view, _goals_values(("Mentor a new joiner", "", None))) is None
    bot.settle()
    prompt = bot.command(USER, "forget").json()
    message = PostedMessage(channel="C0", ts="1.0", text="", blocks=prompt["blocks"], metadata=None)
    bot.click(USER, message, ids.FORGET_CONFIRM, ephemeral=True)
    assert bot.standin.wait_for(lambda: len(bot.standin.responses) == 1)
    with Session(bot.runtime.engine) as session:
        assert list(session.exec(select(Goal))) == []
        assert list(session.exec(select(Checkin))) == []
        assert list(session.exec(select(Person))) == []
    assert _sweep_at(bot, datetime(2026, 12, 20, 10, 0, tzinfo=LONDON)) == []


def _goals_written(bot: RunningBot, *goals: str) -> list[Checkin]:
    _start(bot, datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    bot.command(USER, "goals")
    view = _opened_view(bot, 1)
    values = _goals_values(*((what, "", None) for what in goals))
    assert _submit(bot, view, values) is None
    bot.settle()
    return _rows(bot, ids.CHECKIN_KIND_GOAL_PROGRESS)


def test_stuck_brings_guidance_a_week_later_and_a_private_note(start_bot: BotFactory) -> None:
    bot = start_bot()
    progress = _goals_written(bot, "Run a planning session")
    [check] = [
        m for m in _sweep_at(bot, progress[0].due_at) if "How are your goals" in text_of(m.blocks)
    ]
    assert _buttons(check) == [
        ids.NUDGE_ON_TRACK,
        ids.NUDGE_STUCK,
        ids.NUDGE_DONE,
        ids.NUDGE_LET_GO,
    ]
    before = len(bot.standin.dms_to(USER))
    bot.click(USER, check, ids.NUDGE_STUCK)
    assert bot.wait_updated(check)
    assert _buttons(check) == [ids.OPEN_PROGRESS_NOTE]  # the answer, and a way to add a note
    guidance = bot.dms(USER, before + 1)[before]
    assert "mentor" in text_of(guidance.blocks)
    assert _buttons(guidance) == [ids.OPEN_GOALS_FORM, ids.PROGRESS_LATER]

    bot.click(USER, guidance, ids.PROGRESS_LATER)
    assert bot.wait_updated(guidance)
    assert "I'll ask again how it's going" in text_of(guidance.blocks)
    bot.settle()
    rows = _rows(bot, ids.CHECKIN_KIND_GOAL_PROGRESS)
    assert len(rows) == 3 and (rows[-1].due_at - bot.clock()).days in (6, 7)

    bot.click(USER, check, ids.OPEN_PROGRESS_NOTE)
    view = _opened_view(bot, 2)
    assert view["callback_id"] == ids.PROGRESS_NOTE_FORM
    assert _submit(bot, view, {"note": {"value": "x" * 1001}})["errors"] == {
        "note": "1000 characters at most."
    }
    saved = _submit(bot, view, {"note": {"value": "The data part is hard"}})
    assert saved["response_action"] == "update"
    body, kind = slack_requests.event_callback(
        team_id="T0TEST",
        event={"type": "app_home_opened", "user": USER, "tab": "home"},
        event_id="EvP",
    )
    bot.post(body, kind)
    home = json.dumps(bot.standin.wait_for_calls("views.publish", 1)[-1].args["view"])
    assert "you said: Stuck. The data part is hard" in home and "Run a planning session" in home
    assert _rows(bot, ids.CHECKIN_KIND_GOAL_PROGRESS)[0].note == "The data part is hard"


def test_done_and_let_go_close_the_goals(start_bot: BotFactory) -> None:
    bot = start_bot()
    progress = _goals_written(bot, "Give a talk", "Finish the course")
    [check] = [
        m for m in _sweep_at(bot, progress[0].due_at) if "How are your goals" in text_of(m.blocks)
    ]
    bot.click(USER, check, ids.NUDGE_DONE)
    assert bot.wait_updated(check)
    bot.settle()
    with Session(bot.runtime.engine) as session:
        assert {g.status for g in session.exec(select(Goal))} == {"done"}

"""The journey through the real HTTP endpoint, with signed requests, against the stand-in."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus, Person
from bot.demo.slack_standin_records import PostedMessage
from tests.conftest import BotFactory, RunningBot, responded_after, text_of

USER = "U0ALEX"


def _texts(message: PostedMessage) -> str:
    return text_of(message.blocks)


def _journeys(bot: RunningBot) -> list[Journey]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(Journey).order_by(Journey.id)))  # type: ignore[arg-type]


def _checkins(bot: RunningBot, kind: str = ids.CHECKIN_KIND_STAGE) -> list[Checkin]:
    """The journey's rows of one kind: stage messages unless asked otherwise."""
    with Session(bot.runtime.engine) as session:
        rows = session.exec(select(Checkin).where(Checkin.kind == kind).order_by(Checkin.id))  # type: ignore[arg-type]
        return list(rows)


def _has_buttons(message: PostedMessage) -> bool:
    return any(block.get("type") == "actions" for block in message.blocks)


def test_command_answers_privately_and_sends_the_first_stage(start_bot: BotFactory) -> None:
    bot = start_bot()
    response = bot.command(USER)
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert "direct message" in reply["text"]

    [dm] = bot.dms(USER, 1)
    assert dm.channel == f"D{USER}"
    assert dm.text == "You have a new message from Next Step"
    assert "Step 1 of 10" in _texts(dm)
    assert "weighing on you" in _texts(dm)  # the safety net on the first stage
    assert _has_buttons(dm)
    [checkin] = _checkins(bot)
    assert dm.metadata == {
        "event_type": ids.MESSAGE_METADATA_TYPE,
        "event_payload": {"checkin_id": checkin.id},
    }
    assert checkin.status == CheckinStatus.SENT and checkin.message_ts == dm.ts
    # Nothing was ever posted anywhere but the person's DM.
    assert {c.args["channel"] for c in bot.standin.calls_to("chat.postMessage")} == {f"D{USER}"}


def test_notification_text_never_mentions_the_subject(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    message = bot.dms(USER, 1)[0]
    for _ in range(10):
        bot.click(USER, message, ids.STAGE_NEXT)
        bot.wait_updated(message)
        messages = bot.dms(USER, len(bot.standin.dms_to(USER)) + 1)
        message = messages[-1]
    for dm in bot.standin.dms_to(USER):
        lowered = dm.text.lower()
        assert not any(word in lowered for word in ("promot", "reject", "job", "role", "interview"))


def test_typing_the_command_again_resumes_and_never_starts_a_second_journey(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    again = bot.command(USER).json()
    assert "Welcome back" in again["text"]
    second = bot.dms(USER, 2)[1]
    assert "Step 1 of 10" in _texts(second)
    # The older copy loses its buttons, so two live copies never pile up.
    assert bot.wait_updated(first)
    assert not _has_buttons(first)
    assert len(_journeys(bot)) == 1
    # Its buttons, if a client still shows them, have expired.
    bot.click(USER, second, ids.STAGE_NEXT)
    assert len(bot.dms(USER, 3)) == 3
    assert "Step 2 of 10" in _texts(bot.standin.dms_to(USER)[2])


def test_next_step_updates_the_message_in_place_and_sends_the_next_stage(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    assert bot.click(USER, first, ids.STAGE_NEXT).status_code == 200
    assert bot.wait_updated(first)
    assert not _has_buttons(first)
    assert "You moved on to the next step" in _texts(first)
    second = bot.dms(USER, 2)[1]
    assert "Step 2 of 10" in _texts(second)


def test_the_whole_journey_ends_with_a_closing_message_and_can_start_again(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.command(USER)
    message = bot.dms(USER, 1)[0]
    for step in range(1, 11):
        assert f"Step {step} of 10" in _texts(message)
        bot.click(USER, message, ids.STAGE_NEXT)
        message = bot.dms(USER, step + 1)[step]
    assert "every step" in _texts(message)
    assert not _has_buttons(message)
    [journey] = _journeys(bot)
    assert journey.status == JourneyStatus.COMPLETED
    bot.command(USER)
    assert "Step 1 of 10" in _texts(bot.dms(USER, 12)[11])
    assert [j.status for j in _journeys(bot)] == [JourneyStatus.COMPLETED, JourneyStatus.ACTIVE]


def test_remind_me_tomorrow_comes_back_at_the_start_of_the_next_working_day(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.standin.add_user(USER, tz="America/New_York")
    # Friday 2026-11-27 15:00 in New York.
    bot.clock.move_to(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    bot.click(USER, first, ids.STAGE_SNOOZE)
    assert bot.wait_updated(first)
    assert "on Monday at 09:00" in _texts(first)
    bot.settle()
    [pending] = [c for c in _checkins(bot) if c.status == CheckinStatus.PENDING]
    # 09:00 in New York, spread over the first ten minutes.
    start = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    assert start <= pending.due_at < start + timedelta(minutes=10)

    bot.clock.move_to(start - timedelta(minutes=1))
    assert bot.sweep() == 0
    bot.clock.move_to(pending.due_at)
    assert bot.sweep() == 1
    again = bot.dms(USER, 2)[1]
    assert "Step 1 of 10" in _texts(again)
    assert bot.sweep() == 0


def test_stop_cancels_everything_and_the_next_command_starts_afresh(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    bot.click(USER, first, ids.STAGE_SNOOZE)
    bot.wait_updated(first)
    bot.settle()
    assert bot.command(USER, "stop").json()["text"].startswith("Stopped")
    assert {c.status for c in _checkins(bot)} == {CheckinStatus.SENT, CheckinStatus.CANCELLED}
    for kind in (ids.CHECKIN_KIND_FEEDBACK_NUDGE, ids.CHECKIN_KIND_GOALS_NUDGE):
        assert [c.status for c in _checkins(bot, kind)] == [CheckinStatus.CANCELLED]
    bot.clock.move_to(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert bot.sweep() == 0
    bot.command(USER)
    assert "Step 1 of 10" in _texts(bot.dms(USER, 2)[1])
    assert [j.status for j in _journeys(bot)] == [JourneyStatus.STOPPED, JourneyStatus.ACTIVE]


def test_stop_button_ends_the_journey(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    bot.click(USER, first, ids.STAGE_STOP)
    assert bot.wait_updated(first)
    assert "You stopped here" in _texts(first)
    bot.settle()
    assert _journeys(bot)[0].status == JourneyStatus.STOPPED
    assert len(bot.standin.dms_to(USER)) == 1


def test_two_clicks_at_once_have_one_effect(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def click() -> None:
        barrier.wait()
        statuses.append(bot.click(USER, first, ids.STAGE_NEXT).status_code)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.settle()
    assert statuses == [200, 200, 200, 200]
    assert len(bot.standin.dms_to(USER)) == 2
    assert first.updates == 1
    assert "You moved on" in _texts(first)


def test_old_or_unknown_buttons_are_acknowledged_and_say_they_expired(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    for action, value in (
        (ids.STAGE_NEXT, "999999"),
        (ids.STAGE_NEXT, "not-a-number"),
        ("legacy_button", "x"),
    ):
        answered = len(bot.standin.responses)
        response = bot.click(USER, first, action, value=value)
        assert response.status_code == 200
        # A button that names no row of Alex's says so privately; the message stays as it is
        # (only a row's own message is ever edited, see test_forged_clicks_e2e.py).
        assert bot.standin.wait_for(responded_after(bot, answered))
        assert "This button has expired" in str(bot.standin.responses[-1]["blocks"])
        assert bot.standin.responses[-1]["replace_original"] in (False, "false")
    # Another person's click on Alex's message changes nothing of Alex's.
    second_bot_message = bot.dms(USER, 1)[0]
    response = bot.click(
        "U0OTHER", second_bot_message, ids.STAGE_NEXT, value=str(_checkins(bot)[0].id)
    )
    assert response.status_code == 200
    bot.settle()
    assert _journeys(bot)[0].stage_id == "pause"
    assert first.updates == 0 and _has_buttons(first)


def test_person_who_left_gets_a_private_note_and_the_journey_pauses(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.standin.add_user(USER, deleted=True)
    bot.command(USER)
    bot.settle()
    assert bot.standin.wait_for(lambda: len(bot.standin.responses) == 1)
    assert "couldn't send you a direct message" in bot.standin.responses[0]["text"]
    assert _journeys(bot)[0].status == JourneyStatus.PAUSED
    assert _checkins(bot)[0].status == CheckinStatus.FAILED


def test_people_are_keyed_by_platform_workspace_and_user(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    bot.dms(USER, 1)
    with Session(bot.runtime.engine) as session:
        [person] = session.exec(select(Person))
    assert (person.platform, person.workspace_id, person.user_id) == ("slack", "T0TEST", USER)
    assert person.time_zone == "Europe/London" and person.locale == "en-GB"

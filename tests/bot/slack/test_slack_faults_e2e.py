"""Slack API faults while sending: the journey stays consistent, nothing arrives twice."""

from __future__ import annotations

import socket
from datetime import timedelta

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus
from bot.demo.slack_standin_records import Failure
from tests.conftest import BotFactory, RunningBot, text_of

USER = "U0KIM"


def _checkin(bot: RunningBot) -> Checkin:
    """The latest stage message row."""
    with Session(bot.runtime.engine) as session:
        query = select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_STAGE).order_by(Checkin.id)  # type: ignore[arg-type]
        return list(session.exec(query))[-1]


def test_rate_limit_waits_for_retry_after_and_sends_once(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.standin.fail_next("chat.postMessage", Failure(status=429, retry_after=1))
    bot.command(USER)
    [dm] = bot.dms(USER, 1, timeout=10)
    assert "Step 1 of 10" in text_of(dm.blocks)
    assert len(bot.standin.calls_to("chat.postMessage")) == 2  # the 429, then the retry
    assert _checkin(bot).status == CheckinStatus.SENT


def test_a_rate_limit_that_outlasts_the_retries_goes_back_to_the_outbox(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.standin.fail_next("chat.postMessage", Failure(status=429, retry_after=0), times=2)
    bot.command(USER)
    bot.standin.wait_for_calls("chat.postMessage", 2)
    bot.settle()
    row = _checkin(bot)
    assert row.status == CheckinStatus.PENDING
    assert row.last_error == "rate limited"
    assert bot.standin.dms_to(USER) == []
    # The next sweep after the wait delivers it, once.
    bot.clock.move_to(row.due_at)
    assert bot.sweep() == 1
    assert len(bot.standin.dms_to(USER)) == 1
    assert bot.sweep() == 0


def test_server_errors_back_off_and_then_deliver(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.standin.fail_next("chat.postMessage", Failure(status=500, error="internal_error"), times=2)
    bot.command(USER)
    bot.standin.wait_for_calls("chat.postMessage", 1)
    bot.settle()
    first = _checkin(bot)
    assert first.status == CheckinStatus.PENDING and first.attempts == 1
    backoff = first.due_at - bot.clock()
    assert backoff >= timedelta(seconds=30)
    bot.clock.move_to(first.due_at)
    assert bot.sweep() == 0  # the second 500
    second = _checkin(bot)
    assert second.due_at - bot.clock() > backoff  # the wait grows
    bot.clock.move_to(second.due_at)
    assert bot.sweep() == 1
    assert len(bot.standin.dms_to(USER)) == 1


def test_a_send_gives_up_after_the_attempt_limit(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.standin.fail_next("chat.postMessage", Failure(status=500, error="internal_error"), times=20)
    bot.command(USER)
    bot.standin.wait_for_calls("chat.postMessage", 1)
    bot.settle()
    for _ in range(20):
        row = _checkin(bot)
        if row.status != CheckinStatus.PENDING:
            break
        bot.clock.move_to(row.due_at)
        bot.sweep()
    row = _checkin(bot)
    assert row.status == CheckinStatus.FAILED
    assert row.attempts == bot.runtime.dispatcher.max_attempts
    assert bot.standin.dms_to(USER) == []


def test_a_timeout_is_retried_later_and_not_lost(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.slack_timeout(1)
    bot.standin.fail_next("users.info", Failure(delay=1.5))
    bot.standin.fail_next("conversations.open", Failure(delay=1.5))
    bot.command(USER)
    bot.standin.wait_for_calls("conversations.open", 1, timeout=10)
    bot.settle()
    row = _checkin(bot)
    assert row.status == CheckinStatus.PENDING
    bot.clock.move_to(row.due_at)
    assert bot.sweep() == 1
    assert len(bot.standin.dms_to(USER)) == 1


def test_a_profile_lookup_failure_does_not_block_the_message(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.standin.fail_next("users.info", Failure(status=500, error="internal_error"), times=3)
    bot.command(USER)
    assert len(bot.dms(USER, 1)) == 1


def test_a_bot_user_cannot_be_messaged_and_the_journey_pauses(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.standin.add_user(USER, is_bot=True)
    bot.command(USER)
    bot.standin.wait_for_calls("conversations.open", 1)
    bot.settle()
    with Session(bot.runtime.engine) as session:
        [journey] = session.exec(select(Journey))
    assert journey.status == JourneyStatus.PAUSED
    assert _checkin(bot).status == CheckinStatus.FAILED


def test_a_failed_click_update_leaves_the_journey_consistent(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command(USER)
    first = bot.dms(USER, 1)[0]
    bot.standin.fail_next("chat.update", Failure(status=500, error="internal_error"), times=3)
    assert bot.click(USER, first, ids.STAGE_NEXT).status_code == 200
    second = bot.dms(USER, 2)[1]
    assert "Step 2 of 10" in text_of(second.blocks)
    with Session(bot.runtime.engine) as session:
        [journey] = session.exec(select(Journey))
    assert journey.stage_id == "professional"


def test_connection_refused_is_retried_later_and_not_lost(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.command("U0FIRST")  # Bolt checks its token once, at the first request
    bot.dms("U0FIRST", 1)
    working = bot.slack.client.base_url
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    bot.slack.client.base_url = f"http://127.0.0.1:{port}/api/"
    bot.command(USER)
    bot.settle()
    row = _checkin(bot)
    assert row.status == CheckinStatus.PENDING and row.attempts == 1
    assert row.due_at - bot.clock() >= timedelta(seconds=30)  # backed off
    assert bot.standin.dms_to(USER) == []
    bot.slack.client.base_url = working
    bot.clock.move_to(row.due_at)
    assert bot.sweep() == 1
    assert len(bot.standin.dms_to(USER)) == 1
    assert bot.sweep() == 0

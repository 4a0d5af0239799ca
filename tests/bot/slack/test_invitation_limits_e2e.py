"""Invitations cannot make the bot message a colleague over and over (through the real Slack
endpoint): one invitation message per inviter and manager a week, five managers a day."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.models import AuditEntry, ManagerGrant
from tests.bot.slack.test_meetings_e2e import (
    MANAGER,
    PERSON,
    _begin,
    _invite,
    _start,
    _withdraw,
)
from tests.conftest import BotFactory, RunningBot

INVITATION = "An invitation to a feedback meeting"


def _invitations_to(bot: RunningBot, user: str) -> int:
    bot.settle()
    return sum(1 for m in bot.standin.dms_to(user) if INVITATION in str(m.blocks[:1]))


def _later(bot: RunningBot, delta: timedelta) -> None:
    bot.clock.move_to(bot.clock.now + delta)


def _grant_rows(bot: RunningBot) -> list[AuditEntry]:
    with Session(bot.runtime.engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.action == audit.GRANT)
                .order_by(col(AuditEntry.id))
            ).all()
        )


def _live_grants(bot: RunningBot, manager: str) -> int:
    with Session(bot.runtime.engine) as session:
        rows = session.exec(
            select(ManagerGrant).where(
                ManagerGrant.manager_user_id == manager, col(ManagerGrant.revoked_at).is_(None)
            )
        ).all()
        return len(rows)


def test_invite_and_withdraw_ten_times_messages_the_manager_once_a_week(
    start_bot: BotFactory,
) -> None:
    bot = _start(start_bot)
    _begin(bot)
    answers = []
    for _ in range(10):
        answers.append(_invite(bot, MANAGER))
        _withdraw(bot, MANAGER)
        _later(bot, timedelta(seconds=2))
    assert _invitations_to(bot, MANAGER) == 1
    assert "Invitation sent" in str(answers[0])
    # Each renewal is granted, quietly, and the person is told why nobody was messaged.
    assert all("Invitation renewed" in str(answer) for answer in answers[1:])
    reasons = [row.reason for row in _grant_rows(bot)]
    assert reasons == [None] + [audit.RENEWED] * 9
    # Invited again while quiet, the manager may prepare the meeting.
    _invite(bot, MANAGER)
    assert _live_grants(bot, MANAGER) == 1
    _withdraw(bot, MANAGER)

    # A week after the first message, an invitation messages the manager again.
    _later(bot, timedelta(days=7))
    assert "Invitation sent" in str(_invite(bot, MANAGER))
    assert _invitations_to(bot, MANAGER) == 2


def test_at_most_five_managers_a_day_and_the_sixth_is_refused_and_audited(
    start_bot: BotFactory,
) -> None:
    bot = _start(start_bot)
    _begin(bot)
    targets = [f"U0TARGET{number}" for number in range(1, 7)]
    answers = []
    for target in targets:
        answers.append(_invite(bot, target))
        _later(bot, timedelta(minutes=10))
    assert [_invitations_to(bot, target) for target in targets] == [1, 1, 1, 1, 1, 0]
    refusal = answers[-1]
    assert refusal["response_action"] == "errors"
    assert "as many invitations as I send in one day" in refusal["errors"]["manager"]
    last = _grant_rows(bot)[-1]
    assert (last.actor, last.other, last.outcome, last.reason) == (
        PERSON,
        targets[-1],
        audit.REFUSED,
        audit.DAILY_LIMIT,
    )
    assert _live_grants(bot, targets[-1]) == 0

    # A day after the first, there is room for one more.
    _later(bot, timedelta(hours=23, minutes=1))
    assert "Invitation sent" in str(_invite(bot, targets[-1]))
    assert _invitations_to(bot, targets[-1]) == 1

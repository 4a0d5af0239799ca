"""A person's export and erase reach only their own workspace's audit rows (through the real
Slack endpoint): a user id is unique within a workspace, not across them."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from bot.core import audit, ids
from bot.core.models import AuditEntry
from bot.core.person_ref import PersonRef
from bot.demo.slack_standin_records import PostedMessage
from tests.bot.slack.test_meetings_e2e import MANAGER, PERSON, _begin, _invite, _start
from tests.conftest import BotFactory, RunningBot

ELSEWHERE = "T0ELSEWHERE"
THEIR_MANAGER = "U0THEIRBOSS"


def _someone_else_with_the_same_id(bot: RunningBot) -> None:
    """A grant made in another workspace by a user who happens to have the same id."""
    with Session(bot.runtime.engine) as session:
        audit.record(
            session,
            at=bot.clock.now,
            actor=PersonRef("slack", ELSEWHERE, PERSON),
            subject=PERSON,
            other=THEIR_MANAGER,
            action=audit.GRANT,
            outcome=audit.DONE,
        )
        session.commit()


def _rows(bot: RunningBot, workspace: str) -> list[AuditEntry]:
    with Session(bot.runtime.engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.workspace_id == workspace)
                .order_by(col(AuditEntry.id))
            ).all()
        )


def test_export_and_erase_stay_in_the_persons_workspace(start_bot: BotFactory) -> None:
    bot = _start(start_bot)
    _begin(bot)
    _invite(bot, MANAGER)
    _someone_else_with_the_same_id(bot)

    assert "in a file" in bot.command(PERSON, "export").json()["text"]
    assert bot.standin.wait_for(lambda: len(bot.standin.shared_files) == 1)
    trail = json.loads(bot.standin.shared_files[0]["content"])["audit_trail"]
    assert len(trail) == 1
    assert MANAGER in json.dumps(trail) and THEIR_MANAGER not in json.dumps(trail)

    prompt = bot.command(PERSON, "forget").json()
    confirm = PostedMessage(channel="", ts="", text="", blocks=prompt["blocks"], metadata=None)
    assert bot.click(PERSON, confirm, ids.FORGET_CONFIRM, ephemeral=True).status_code == 200
    bot.settle()

    [own] = _rows(bot, "T0TEST")
    assert PERSON not in (own.actor, own.subject)
    [theirs] = _rows(bot, ELSEWHERE)
    assert (theirs.actor, theirs.subject, theirs.other) == (PERSON, PERSON, THEIR_MANAGER)

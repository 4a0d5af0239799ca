"""Clicks whose payload names a message the button's row was never posted as (issue 15, item 5).

With the signing secret anyone can sign a block_actions payload naming any channel, message ts
and blocks. A button only ever edits the message the bot recorded for its row, drawn again by
the bot: the forged channel, ts and blocks choose nothing.
"""

from __future__ import annotations

from typing import Any

from bot.core import ids
from bot.demo import slack_requests
from bot.demo.slack_standin_records import PostedMessage
from tests.conftest import TEAM, BotFactory, RunningBot, responded_after, text_of

ALEX = "U0ALEX"
BLAKE = "U0BLAKE"
FORGED = [{"type": "section", "text": {"type": "mrkdwn", "text": "FORGED: you are let go"}}]


def _forged_click(
    bot: RunningBot, user: str, named: PostedMessage, action_id: str, value: str
) -> int:
    """`user` clicks `action_id` with `value`, the payload naming `named`'s channel and ts and
    carrying forged blocks."""
    message = PostedMessage(
        channel=named.channel, ts=named.ts, text="FORGED", blocks=FORGED, metadata=None
    )
    body, kind = slack_requests.button_click(
        user_id=user,
        team_id=TEAM,
        message=message,
        action_id=action_id,
        value=value,
        response_url=bot.standin.response_url(user),
    )
    return bot.post(body, kind).status_code


def _updates_of(bot: RunningBot, message: PostedMessage) -> list[dict[str, Any]]:
    return [
        call.args
        for call in bot.standin.calls_to("chat.update")
        if call.args.get("channel") == message.channel and call.args.get("ts") == message.ts
    ]


def _two_people_on_step_one(
    start_bot: BotFactory,
) -> tuple[RunningBot, PostedMessage, PostedMessage]:
    bot = start_bot()
    bot.command(ALEX)
    bot.command(BLAKE)
    [alex_dm] = bot.dms(ALEX, 1)
    [blake_dm] = bot.dms(BLAKE, 1)
    return bot, alex_dm, blake_dm


def test_a_click_naming_another_persons_message_edits_nothing(start_bot: BotFactory) -> None:
    bot, alex_dm, blake_dm = _two_people_on_step_one(start_bot)
    blake_before = [dict(block) for block in blake_dm.blocks]
    alex_row = slack_requests.button_of(alex_dm, ids.STAGE_NEXT)
    blake_row = slack_requests.button_of(blake_dm, ids.STAGE_NEXT)

    # Alex's own row with Blake's message named; then Blake's row with Blake's message.
    for value in (alex_row, blake_row):
        answered = len(bot.standin.responses)
        assert _forged_click(bot, ALEX, blake_dm, ids.STAGE_NEXT, value) == 200
        bot.settle()
        assert _updates_of(bot, blake_dm) == []
        assert blake_dm.updates == 0 and blake_dm.blocks == blake_before
        # Alex is told calmly, and privately, that the button expired.
        assert bot.standin.wait_for(responded_after(bot, answered))
        assert "expired" in str(bot.standin.responses[-1])

    # Neither journey moved: the forged click answered nothing either.
    assert len(bot.standin.dms_to(ALEX)) == 1 and len(bot.standin.dms_to(BLAKE)) == 1
    assert alex_dm.updates == 0


def test_a_real_click_updates_its_own_message_with_blocks_the_bot_builds(
    start_bot: BotFactory,
) -> None:
    bot, alex_dm, blake_dm = _two_people_on_step_one(start_bot)
    alex_row = slack_requests.button_of(alex_dm, ids.STAGE_NEXT)
    # The payload names Alex's own message, as Slack would, but its blocks are forged.
    assert _forged_click(bot, ALEX, alex_dm, ids.STAGE_NEXT, alex_row) == 200
    assert bot.wait_updated(alex_dm)
    shown = text_of(alex_dm.blocks)
    assert "FORGED" not in shown and "FORGED" not in alex_dm.text
    assert "Step 1 of 10" in shown and "You moved on to the next step" in shown
    assert not any(block.get("type") == "actions" for block in alex_dm.blocks)
    assert "Step 2 of 10" in text_of(bot.dms(ALEX, 2)[-1].blocks)
    assert blake_dm.updates == 0

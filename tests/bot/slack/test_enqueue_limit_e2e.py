"""One person cannot fill the outbox (through the real Slack endpoint): the feedback form sent
25 times in a row queues twenty drafts, the rest are answered kindly on the form, and someone
else's command still gets its message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core import ids
from handlers.enqueue_limit import PER_MINUTE, TEXT_KEY
from messages.loader import load_content
from tests.bot.slack.test_meetings_e2e import PERSON, _submit
from tests.conftest import BotFactory, text_of

OTHER = "U0OTHER"
EN = load_content().for_locale("en", "slack")
DRAFT_TITLE = EN.checkins["feedback_request"]["title"]
FORM = {"type": "modal", "callback_id": ids.FEEDBACK_FORM, "private_metadata": "{}", "blocks": []}
REQUEST: dict[str, dict[str, Any]] = {
    "decider": {"type": "users_select", "selected_user": "U0BOSS"},
    "focus": {"type": "plain_text_input", "value": "how I came across in the panel"},
    "tone": {"type": "radio_buttons", "selected_option": {"value": "warm"}},
}


def test_the_feedback_form_sent_25_times_queues_twenty_drafts_and_answers_the_rest_kindly(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    assert bot.command(PERSON).status_code == 200
    bot.dms(PERSON, 1)
    bot.clock.move_to(bot.clock.now + timedelta(seconds=61))  # the first step is a minute old

    answers = [_submit(bot, PERSON, FORM, REQUEST) for _ in range(25)]

    assert answers[:PER_MINUTE] == [None] * PER_MINUTE  # accepted: the form closes
    for refused in answers[PER_MINUTE:]:
        assert refused == {"response_action": "errors", "errors": {"decider": EN.text(TEXT_KEY)}}
    bot.dms(PERSON, 1 + PER_MINUTE)
    drafts = [m for m in bot.standin.dms_to(PERSON) if DRAFT_TITLE in text_of(m.blocks)]
    assert len(drafts) == PER_MINUTE

    # Another person, in the same minute, is answered and messaged as ever.
    assert bot.command(OTHER).status_code == 200
    assert len(bot.dms(OTHER, 1)) == 1
    assert len(bot.standin.dms_to(PERSON)) == 1 + PER_MINUTE

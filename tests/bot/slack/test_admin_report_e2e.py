"""The HR report on the App Home: admins see it under their own home, nobody else does."""

from __future__ import annotations

import json

from tests.bot.slack.app_home import open_home
from tests.conftest import BotFactory, text_of

ADMIN = "U0HRADMIN"
PERSON = "U0PERSON"


def test_admins_see_the_report_and_others_do_not(start_bot: BotFactory) -> None:
    bot = start_bot(admin_users=frozenset({ADMIN}), report_min_cell=3)
    for number in range(4):
        bot.command(f"U0P{number}")
        bot.dms(f"U0P{number}", 1)
    # The clock moves a month on: November is complete, and four people started then.
    bot.clock.move_to(bot.clock.now.replace(month=12, day=2))
    admin_view = open_home(bot, ADMIN, "EvAdmin")
    text = text_of(admin_view["blocks"])
    assert "Across the company (only HR admins see this)" in text
    assert "A count under 3 is hidden" in text
    november = [
        line for line in text.replace("```", "\n").splitlines() if line.startswith("2026-11")
    ]
    # "<3", escaped for mrkdwn as every text is.
    assert november[0].split() == ["2026-11", "4", "&lt;3", "&lt;3", "&lt;3", "&lt;3"]
    assert {"type": "divider"} in admin_view["blocks"]
    for user in (f"U0P{n}" for n in range(4)):
        assert user not in json.dumps(admin_view)

    person_view = open_home(bot, PERSON, "EvPerson")
    assert "Across the company" not in text_of(person_view["blocks"])
    assert {"type": "divider"} not in person_view["blocks"]

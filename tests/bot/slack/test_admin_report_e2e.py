"""The HR report on the App Home: admins see it under their own home, nobody else does."""

from __future__ import annotations

import json
from typing import Any

from bot.demo import slack_requests
from tests.conftest import TEAM, BotFactory, RunningBot, text_of

ADMIN = "U0HRADMIN"
PERSON = "U0PERSON"


def _home(bot: RunningBot, user: str, event_id: str) -> dict[str, Any]:
    count = len(bot.standin.calls_to("views.publish"))
    body, kind = slack_requests.event_callback(
        team_id=TEAM,
        event={"type": "app_home_opened", "user": user, "channel": "D0", "tab": "home"},
        event_id=event_id,
    )
    assert bot.post(body, kind).status_code == 200
    view = bot.standin.wait_for_calls("views.publish", count + 1)[-1].args["view"]
    loaded = json.loads(view) if isinstance(view, str) else view
    assert isinstance(loaded, dict)
    return loaded


def test_admins_see_the_report_and_others_do_not(start_bot: BotFactory) -> None:
    bot = start_bot(admin_users=frozenset({ADMIN}), report_min_cell=3)
    for number in range(4):
        bot.command(f"U0P{number}")
        bot.dms(f"U0P{number}", 1)
    # The clock moves a month on: November is complete, and four people started then.
    bot.clock.move_to(bot.clock.now.replace(month=12, day=2))
    admin_view = _home(bot, ADMIN, "EvAdmin")
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

    person_view = _home(bot, PERSON, "EvPerson")
    assert "Across the company" not in text_of(person_view["blocks"])
    assert {"type": "divider"} not in person_view["blocks"]

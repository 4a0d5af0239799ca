"""The App Home as the tests open and press it through the real endpoint: the view Slack
would show after `app_home_opened`, a button pressed on it, a form it opens."""

from __future__ import annotations

import json
from typing import Any

from bot.demo import slack_requests
from bot.demo.slack_standin_records import PostedMessage
from tests.conftest import TEAM, RunningBot


def open_home(bot: RunningBot, user: str, event_id: str) -> dict[str, Any]:
    """The view published for `user` when they open the Home tab."""
    count = len(bot.standin.calls_to("views.publish"))
    body, kind = slack_requests.event_callback(
        team_id=TEAM,
        event={"type": "app_home_opened", "user": user, "channel": "D0", "tab": "home"},
        event_id=event_id,
    )
    assert bot.post(body, kind).status_code == 200
    return as_dict(bot.standin.wait_for_calls("views.publish", count + 1)[-1].args["view"])


def latest_home(bot: RunningBot) -> dict[str, Any]:
    return as_dict(bot.standin.calls_to("views.publish")[-1].args["view"])


def press_on_home(
    bot: RunningBot, user: str, view: dict[str, Any], action: str, value: str | None = None
) -> None:
    """Press a button of the Home's view (its value, unless `value` says otherwise)."""
    home = PostedMessage(channel="", ts="", text="", blocks=view["blocks"], metadata=None)
    body, kind = slack_requests.button_click(
        user_id=user,
        team_id=TEAM,
        message=home,
        action_id=action,
        value=value if value is not None else slack_requests.button_of(home, action),
        response_url=bot.standin.response_url(user),
    )
    assert bot.post(body, kind).status_code == 200


def home_after_pressing(
    bot: RunningBot, user: str, view: dict[str, Any], action: str
) -> dict[str, Any]:
    """The Home as it is drawn again after a button on it was pressed."""
    count = len(bot.standin.calls_to("views.publish"))
    press_on_home(bot, user, view, action)
    return as_dict(bot.standin.wait_for_calls("views.publish", count + 1)[-1].args["view"])


def open_form_from(bot: RunningBot, user: str, view: dict[str, Any], action: str) -> dict[str, Any]:
    """The modal a button of the Home opens."""
    count = len(bot.standin.calls_to("views.open"))
    press_on_home(bot, user, view, action, "home")
    return as_dict(bot.standin.wait_for_calls("views.open", count + 1)[-1].args["view"])


def as_dict(view: Any) -> dict[str, Any]:
    loaded = json.loads(view) if isinstance(view, str) else view
    assert isinstance(loaded, dict)
    return loaded

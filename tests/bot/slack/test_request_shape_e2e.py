"""Signed requests whose shape once confused the edge or Bolt (issue 15, items 7 and 8).

- Two Content-Type headers: the guard read the first and Bolt the last (a 500).
- A form's state.values in any JSON shape: one reader assumed the shape (a 500).
- A command with the word "payload" anywhere in its body: slack-bolt 1.30 took it for an
  interactivity payload and the command silently did nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest

from bot.core import ids
from bot.demo import slack_requests
from bot.slack.form_render import build_modal
from handlers.form_specs import FORMS as SPECS
from messages.content import LocaleContent
from messages.form import draw
from tests.conftest import SECRET, TEAM, BotFactory, RunningBot, text_of

USER = "U0ALEX"
UNAVAILABLE = "can't reach my records"

# -- two Content-Type headers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content_types",
    [
        (slack_requests.FORM, slack_requests.JSON),
        (slack_requests.JSON, slack_requests.FORM),
        (slack_requests.FORM,) * 2,
    ],
    ids=["form-then-json", "json-then-form", "form-twice"],
)
def test_a_signed_request_with_two_content_types_is_refused_with_400(
    start_bot: BotFactory, content_types: tuple[str, ...]
) -> None:
    bot = start_bot()
    body, _ = slack_requests.slash_command(
        user_id=USER, team_id=TEAM, response_url=bot.standin.response_url(USER)
    )
    signed = slack_requests.signed_headers(SECRET, body, content_type=slack_requests.FORM)
    headers = [("content-type", kind) for kind in content_types] + [
        (name, value) for name, value in signed.items() if name != "content-type"
    ]
    response = bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 400
    assert "content-type" in response.text
    bot.settle()
    assert bot.standin.dms_to(USER) == []


def test_a_repeated_signature_header_is_refused_with_400(start_bot: BotFactory) -> None:
    bot = start_bot()
    body, kind = slack_requests.slash_command(
        user_id=USER, team_id=TEAM, response_url=bot.standin.response_url(USER)
    )
    signed = slack_requests.signed_headers(SECRET, body, content_type=kind)
    headers = [*signed.items(), ("x-slack-signature", "v0=" + "0" * 64)]
    response = bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 400


# -- any JSON shape in a form's state.values ------------------------------------------------


def _modal(form_id: str) -> Callable[[LocaleContent], dict[str, Any]]:
    context = {"person": "U0SOMEONE"} if form_id == ids.MEETING_FORM else {}
    return lambda locale: build_modal(draw(SPECS[form_id], locale, context=context))


# Every form there is, as Slack draws it.
FORMS: dict[str, Callable[[LocaleContent], dict[str, Any]]] = {
    form_id: _modal(form_id) for form_id in SPECS
}

SHAPES: dict[str, Any] = {
    "list": [{"what_1": {"value": {"value": "x"}}}],
    "string": "what_1",
    "number": 5,
    "true": True,
    "block-is-list": {block: [] for block in ("what_1", "decider", "keep", "hours", "note")},
    "element-is-string": {
        block: {"value": "typed"} for block in ("what_1", "decider", "keep", "zone", "person")
    },
    "value-is-object": {
        block: {"value": {"value": {"nested": 1}, "selected_date": [2026], "selected_user": 7}}
        for block in ("what_1", "by_when_1", "decider", "keep", "hours", "person", "manager")
    },
    "option-is-list": {"tone": {"value": {"selected_option": ["warm"]}}},
}


def _submit_shape(bot: RunningBot, view: dict[str, Any], state_values: Any) -> Any:
    body, kind = slack_requests.view_submission(
        user_id=USER, team_id=TEAM, view=view, values={}, state_values=state_values
    )
    return bot.post(body, kind)


@pytest.mark.parametrize("callback_id", sorted(FORMS))
def test_every_form_answers_any_state_shape_calmly(start_bot: BotFactory, callback_id: str) -> None:
    bot = start_bot()
    locale = bot.runtime.services.content.for_locale(None, "slack")
    view = FORMS[callback_id](locale)
    assert view["callback_id"] == callback_id
    for name, shape in SHAPES.items():
        response = _submit_shape(bot, view, shape)
        assert response.status_code == 200, (name, response.text)
        assert UNAVAILABLE not in response.text, name
        if response.content:
            assert response.json()["response_action"] in ("errors", "update"), name
    bot.settle()


def _with_state(view: dict[str, Any], state: Any) -> tuple[bytes, str]:
    """A submission of `view` whose state (not only its values) is `state`."""
    body, kind = slack_requests.view_submission(user_id=USER, team_id=TEAM, view=view, values={})
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    payload["view"]["state"] = state
    return urlencode({"payload": json.dumps(payload)}).encode(), kind


@pytest.mark.parametrize("callback_id", sorted(FORMS))
def test_a_view_whose_state_is_not_an_object_is_answered_calmly(
    start_bot: BotFactory, callback_id: str
) -> None:
    bot = start_bot()
    view = FORMS[callback_id](bot.runtime.services.content.for_locale(None, "slack"))
    states: list[Any] = [[], "values", 3, {"values": None}]
    for state in states:
        response = bot.post(*_with_state(view, state))
        assert response.status_code == 200, (state, response.text)
        assert UNAVAILABLE not in response.text


# -- commands whose body mentions "payload" -------------------------------------------------


@pytest.mark.parametrize(
    ("channel_name", "user_name", "text"),
    [("payload-team", None, ""), ("general", "payloadpat", ""), ("general", None, "hours payload")],
    ids=["channel", "user", "text"],
)
def test_a_command_mentioning_payload_runs(
    start_bot: BotFactory, channel_name: str, user_name: str | None, text: str
) -> None:
    bot = start_bot()
    body, kind = slack_requests.slash_command(
        user_id=USER,
        team_id=TEAM,
        text=text,
        response_url=bot.standin.response_url(USER),
        channel_name=channel_name,
        user_name=user_name,
    )
    assert b"payload" in body
    response = bot.post(body, kind)
    assert response.status_code == 200
    assert response.content, "the command was acknowledged without an answer"
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    if text:
        assert "couldn't read that" in answer["text"]
    else:
        assert "direct message" in answer["text"]
        [dm] = bot.dms(USER, 1)
        # A real interactivity payload still reaches its listener.
        assert bot.click(USER, dm, ids.STAGE_NEXT).status_code == 200
        assert bot.wait_updated(dm)
        assert "You moved on to the next step" in text_of(dm.blocks)

"""Fuzzing the running endpoint: validly signed bodies of every wrong shape never get a 500.

Each example is signed with the right secret, so it passes the signature check and reaches
the shape checks, Bolt and the listeners. The server must answer every one below 500, and keep
answering: after the run, /healthz is 200 and a real command still starts a journey.
(response_url is never fuzzed: Slack signs it, and the bot answers there; the loopback guard
would rightly fail a test that made it post to an address a fuzzer invented.)
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import ids
from tests.conftest import TEAM, BotFactory, RunningBot, text_of

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("NOTPROMOTED_FUZZ_EXAMPLES", "150"))
FORM = "application/x-www-form-urlencoded"

# JSON values of any shape, with unicode, huge strings and odd numbers among them.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.text(min_size=3000, max_size=6000, alphabet=st.characters(codec="utf-8")),
    st.sampled_from(["U0FUZZ", "T0TEST", "", "0", "-1", "9" * 40, "<@U0FUZZ>", "\u2063@U1\u2063"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# Names Slack's payloads use, so that fuzzed dicts look like the real thing in the wrong ways.
KEYS = st.sampled_from(
    [
        "type",
        "user",
        "team",
        "actions",
        "view",
        "state",
        "values",
        "callback_id",
        "private_metadata",
        "trigger_id",
        "message",
        "channel",
        "container",
        "action_id",
        "value",
        "event",
        "event_id",
        "id",
        "text",
        "blocks",
    ]
)
TYPES = st.sampled_from(
    [
        "block_actions",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "block_suggestion",
        "event_callback",
        "url_verification",
        "app_home_opened",
        "mystery",
    ]
)
ACTIONS = st.sampled_from(
    [
        ids.STAGE_NEXT,
        ids.NUDGE_ASKED,
        ids.MEETING_ACCEPT,
        ids.MEETING_PREPARE,
        ids.MANAGER_REVOKE,
        ids.GOAL_DONE,
        ids.HOME_ERASE,
        ids.OPEN_MANAGER_INVITE,
        "unknown_action",
    ]
)
CALLBACKS = st.sampled_from(
    [ids.GOALS_FORM, ids.MEETING_FORM, ids.MANAGER_INVITE_FORM, ids.MEETING_PICK_FORM, "x"]
)


@st.composite
def slack_shaped(draw: st.DrawFn) -> dict[str, Any]:
    """A payload with Slack's outline and any of its parts missing, mistyped or absurd."""
    payload: dict[str, Any] = {"type": draw(TYPES)}
    if draw(st.booleans()):
        payload["user"] = draw(
            st.one_of(
                st.fixed_dictionaries({"id": st.sampled_from(["U0FUZZ", "U0PERSON"])}),
                json_values,
            )
        )
    if draw(st.booleans()):
        payload["team"] = draw(st.one_of(st.just({"id": TEAM}), json_values))
    if draw(st.booleans()):
        payload["actions"] = draw(
            st.one_of(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "action_id": ACTIONS,
                            "value": st.one_of(st.text(max_size=30), json_values),
                        }
                    ),
                    max_size=2,
                ),
                json_values,
            )
        )
    if draw(st.booleans()):
        payload["view"] = draw(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "callback_id": CALLBACKS,
                        "private_metadata": st.one_of(st.text(max_size=60), st.just('{"person":')),
                        "state": st.fixed_dictionaries(
                            {"values": st.dictionaries(KEYS, json_values, max_size=4)}
                        ),
                    }
                ),
                json_values,
            )
        )
    if draw(st.booleans()):
        payload["callback_id"] = draw(st.one_of(st.just(ids.MEETING_SHORTCUT), json_values))
    extra = draw(st.dictionaries(KEYS, json_values, max_size=4))
    return {**extra, **payload}


def _command_body(fields: dict[str, Any]) -> bytes:
    return urlencode({k: str(v) for k, v in fields.items()}).encode()


bodies = st.one_of(
    # Interactivity: a form field named payload holding JSON of the wrong shape.
    slack_shaped().map(lambda p: (urlencode({"payload": json.dumps(p)}).encode(), FORM)),
    # Events API: JSON bodies, shaped or not.
    slack_shaped().map(lambda p: (json.dumps(p).encode(), "application/json")),
    json_values.map(lambda v: (json.dumps(v).encode(), "application/json")),
    # Slash commands with fields missing, empty, huge or strange.
    st.dictionaries(
        st.sampled_from(["command", "text", "user_id", "team_id", "trigger_id", "channel_id"]),
        st.one_of(st.text(max_size=200), st.sampled_from(["/notpromoted", "meeting <@U0X|x>"])),
        max_size=7,
    ).map(lambda f: (_command_body(f), FORM)),
    # Anything at all, under any content type.
    st.tuples(
        st.binary(max_size=2000),
        st.sampled_from(
            [FORM, "application/json", "text/plain", "multipart/form-data", "", "application/x"]
        ),
    ),
)


def test_signed_bodies_of_any_shape_never_get_a_500(start_bot: BotFactory) -> None:
    bot = start_bot()
    statuses: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not os.environ.get("NOTPROMOTED_FUZZ_RANDOM"),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(bodies)
    def post(body_and_type: tuple[bytes, str]) -> None:
        body, content_type = body_and_type
        response = bot.post(body, content_type)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (response.status_code, body[:300], content_type)

    post()
    bot.settle()
    assert statuses, "nothing was sent"
    print(f"\nfuzzing: answers by status {dict(sorted(statuses.items()))}")
    _still_answers(bot)


def _still_answers(bot: RunningBot) -> None:
    assert bot.http.get(f"{bot.url}/healthz").status_code == 200
    assert bot.command("U0AFTER").status_code == 200
    [first] = bot.dms("U0AFTER", 1)
    assert "Step 1 of 10" in text_of(first.blocks)

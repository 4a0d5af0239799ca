"""bot.slack.guard: the shape check on signed bodies, and the signature check."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from bot.slack.guard import is_signed, malformed_reason, signature_for, slack_body

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
SECRET = "guard-test-secret"
NOW = 1_800_000_000


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def payload_body(payload: Any) -> bytes:
    return form(payload=json.dumps(payload))


def json_body(data: Any) -> bytes:
    return json.dumps(data).encode()


def block_actions(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U1", "team_id": "T1"},
        "team": {"id": "T1"},
        "channel": {"id": "D1"},
        "container": {"type": "message", "message_ts": "1.2"},
        "message": {"ts": "1.2", "text": "hi"},
        "actions": [
            {"action_id": "stage_next", "block_id": "choices", "value": "7", "type": "button"}
        ],
    }
    payload.update(changes)
    return payload


def event_callback(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event": {"type": "app_home_opened", "user": "U1", "tab": "home"},
    }
    data.update(changes)
    return data


# -- sound bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(
            form(command="/notpromoted", user_id="U1", team_id="T1", text="status"),
            FORM,
            id="slash-command",
        ),
        pytest.param(
            form(command="/notpromoted", user_id="U1", team_id="T1"),
            "",
            id="slash-command-no-content-type",
        ),
        pytest.param(payload_body(block_actions()), FORM, id="block-actions"),
        pytest.param(
            payload_body(
                {"type": "view_closed", "user": {"id": "U1"}, "view": {"callback_id": ""}}
            ),
            FORM,
            id="view-closed",
        ),
        pytest.param(
            json_body({"type": "url_verification", "challenge": "abc", "token": "t"}),
            JSON,
            id="url-verification",
        ),
        pytest.param(json_body(event_callback()), JSON, id="event-callback"),
        pytest.param(json_body(event_callback()), "text/plain", id="event-callback-sniffed-json"),
        pytest.param(
            json_body({"type": "app_rate_limited", "team_id": "T1"}), JSON, id="other-json"
        ),
        pytest.param(b"ssl_check=1&token=abc", FORM, id="ssl-check"),
    ],
)
def test_sound_bodies_pass(body: bytes, content_type: str) -> None:
    assert malformed_reason(body, content_type) is None


# -- malformed bodies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        pytest.param(b"\xff\xfe\x00command", FORM, "UTF-8", id="not-utf8"),
        pytest.param(form(foo="bar"), FORM, "no command", id="form-without-command"),
        pytest.param(b"", FORM, "no command", id="empty-body"),
        pytest.param(b"a=1&&&==", FORM, "form", id="not-form-encoded"),
        pytest.param(
            form(command="/notpromoted", team_id="T1"), FORM, "user_id", id="command-no-user"
        ),
        pytest.param(
            form(command="/notpromoted", user_id="U1", team_id=""),
            FORM,
            "team_id",
            id="command-empty-team",
        ),
        pytest.param(form(payload="{not json"), FORM, "not JSON", id="payload-not-json"),
        pytest.param(payload_body([]), FORM, "type", id="payload-list"),
        pytest.param(payload_body({"user": {"id": "U1"}}), FORM, "type", id="payload-no-type"),
        pytest.param(
            payload_body(block_actions(user=None)), FORM, "user", id="block-actions-no-user"
        ),
        pytest.param(
            payload_body(block_actions(user={"id": 5})), FORM, "user", id="user-id-not-str"
        ),
        pytest.param(payload_body(block_actions(team="T1")), FORM, "team", id="team-not-dict"),
        pytest.param(
            payload_body(block_actions(actions={"action_id": "x"})),
            FORM,
            "actions",
            id="actions-not-list",
        ),
        pytest.param(payload_body(block_actions(actions=[])), FORM, "actions", id="actions-empty"),
        pytest.param(
            payload_body(block_actions(actions=[{"value": "7"}])),
            FORM,
            "action",
            id="action-id-missing",
        ),
        pytest.param(
            payload_body(block_actions(actions=[{"action_id": "a", "value": 7}])),
            FORM,
            "action",
            id="action-value-not-str",
        ),
        pytest.param(
            payload_body(block_actions(channel="D1")), FORM, "channel", id="channel-not-dict"
        ),
        pytest.param(
            payload_body({"type": "view_submission", "user": {"id": "U1"}}),
            FORM,
            "view",
            id="view-submission-no-view",
        ),
        pytest.param(
            json_body(event_callback(event_id=None)), JSON, "event_id", id="event-no-event-id"
        ),
        pytest.param(
            json_body(event_callback(event={"user": "U1"})),
            JSON,
            "event type",
            id="event-no-type",
        ),
        pytest.param(
            json_body(event_callback(event={"type": "app_home_opened", "user": ["U1"]})),
            JSON,
            "user",
            id="event-user-not-str",
        ),
        pytest.param(json_body({"type": "url_verification"}), JSON, "challenge", id="no-challenge"),
        pytest.param(b"[]", JSON, "type", id="json-list"),
        pytest.param(b'{"challenge": "abc"}', JSON, "type", id="json-without-type"),
        pytest.param(b'{"type": 3}', JSON, "type", id="json-type-not-str"),
        pytest.param(b"{not json", "", "not JSON", id="sniffed-json-broken"),
        # Found by fuzzing the running endpoint: each was a 500 inside Bolt.
        pytest.param(
            b'{"type": "block_actions", "view": null}', JSON, "JSON body of type", id="json-action"
        ),
        pytest.param(
            payload_body({"type": "shortcut", "user": {"id": "U1"}, "callback_id": []}),
            FORM,
            "callback_id",
            id="callback-id-not-str",
        ),
        pytest.param(
            payload_body(
                {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "g"}}
            ),
            FORM,
            "view type",
            id="view-submission-no-view-type",
        ),
        pytest.param(
            payload_body({"type": "message_action", "user": {"id": "U1"}, "view": None}),
            FORM,
            "view",
            id="view-not-dict",
        ),
        pytest.param(
            payload_body({"type": "shortcut", "user": {"id": "U1"}, "response_urls": "x"}),
            FORM,
            "response_urls",
            id="response-urls-not-list",
        ),
        pytest.param(
            json_body(event_callback(event={"type": "message", "message": "hi"})),
            JSON,
            "message",
            id="event-message-not-dict",
        ),
    ],
)
def test_malformed_bodies_have_a_reason(body: bytes, content_type: str, reason: str) -> None:
    result = malformed_reason(body, content_type)
    assert isinstance(result, str)
    assert reason in result


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(), st.text())
def test_malformed_reason_never_raises(body: bytes, content_type: str) -> None:
    result = malformed_reason(body, content_type)
    assert result is None or (isinstance(result, str) and result)


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.dictionaries(
        st.sampled_from(["command", "user_id", "team_id", "text", "channel_name", "user_name"]),
        st.text(),
    ),
    st.sampled_from([FORM, "", "text/plain"]),
)
def test_a_sound_form_is_read_as_its_fields_whatever_they_say(
    fields: dict[str, str], content_type: str
) -> None:
    """slack_body reads a command's fields even where Bolt's parse_body sees "payload" in the
    raw text and answers {} (bot/slack/bolt_request.py)."""
    body = urlencode(fields).encode()
    if malformed_reason(body, content_type) is None:
        assert slack_body(body, content_type) == fields


def test_a_command_mentioning_payload_is_read_as_a_command() -> None:
    fields = {"command": "/notpromoted", "user_id": "U1", "team_id": "T1", "text": "payload"}
    body = urlencode(fields).encode()
    assert malformed_reason(body, FORM) is None
    assert slack_body(body, FORM) == fields
    payload = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "a"}]}
    assert slack_body(payload_body(payload), FORM) == payload


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b'{"type": ' + b"[" * 100_000, JSON, id="json"),
        pytest.param(b"payload=" + b"%5B" * 100_000, FORM, id="payload"),
    ],
)
def test_deeply_nested_json_is_malformed_not_a_crash(body: bytes, content_type: str) -> None:
    assert isinstance(malformed_reason(body, content_type), str)


# -- signatures --------------------------------------------------------------------------


def signed_headers(body: bytes, *, timestamp: int = NOW, secret: str = SECRET) -> dict[str, str]:
    """Headers signed by slack_sdk's own implementation: an independent oracle."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return {"x-slack-request-timestamp": str(timestamp), "x-slack-signature": signature}


BODY = form(command="/notpromoted", user_id="U1", team_id="T1")


def test_correct_signature_is_signed() -> None:
    assert is_signed(SECRET, BODY, signed_headers(BODY), now=NOW) is True


def test_signature_matches_slack_sdk() -> None:
    expected = SignatureVerifier(SECRET).generate_signature(timestamp=str(NOW), body=BODY)
    assert signature_for(SECRET, str(NOW), BODY) == expected
    # Raw bytes, whatever their encoding (slack_sdk itself would try to decode them).
    raw = b"\xff\xfe"
    digest = hmac.new(SECRET.encode(), b"v0:1:" + raw, hashlib.sha256).hexdigest()
    assert signature_for(SECRET, "1", raw) == f"v0={digest}"


def test_wrong_secret_is_not_signed() -> None:
    headers = signed_headers(BODY, secret="another-secret")
    assert is_signed(SECRET, BODY, headers, now=NOW) is False


def test_empty_secret_is_never_signed() -> None:
    # A signature made with the empty key must not pass when no secret is configured.
    headers = {
        "x-slack-request-timestamp": str(NOW),
        "x-slack-signature": signature_for("", str(NOW), BODY),
    }
    assert is_signed("", BODY, headers, now=NOW) is False


def test_changed_body_is_not_signed() -> None:
    headers = signed_headers(BODY)
    assert is_signed(SECRET, BODY + b"&text=forget", headers, now=NOW) is False


@pytest.mark.parametrize("missing", ["x-slack-request-timestamp", "x-slack-signature"])
def test_missing_header_is_not_signed(missing: str) -> None:
    headers = signed_headers(BODY)
    del headers[missing]
    assert is_signed(SECRET, BODY, headers, now=NOW) is False
    assert is_signed(SECRET, BODY, {}, now=NOW) is False


def test_timestamp_six_minutes_old_is_not_signed() -> None:
    headers = signed_headers(BODY, timestamp=NOW - 360)
    assert is_signed(SECRET, BODY, headers, now=NOW) is False


def test_timestamp_four_minutes_old_is_signed() -> None:
    headers = signed_headers(BODY, timestamp=NOW - 240)
    assert is_signed(SECRET, BODY, headers, now=NOW) is True


def test_timestamp_six_minutes_ahead_is_not_signed() -> None:
    headers = signed_headers(BODY, timestamp=NOW + 360)
    assert is_signed(SECRET, BODY, headers, now=NOW) is False


@pytest.mark.parametrize("timestamp", ["", "abc", "-1", "1.5", " 1800000000"])
def test_non_numeric_timestamp_is_not_signed(timestamp: str) -> None:
    headers = signed_headers(BODY)
    headers["x-slack-request-timestamp"] = timestamp
    assert is_signed(SECRET, BODY, headers, now=NOW) is False


def test_superscript_digit_timestamp_is_not_signed() -> None:
    headers = signed_headers(BODY)
    headers["x-slack-request-timestamp"] = "\xb2"
    assert is_signed(SECRET, BODY, headers, now=NOW) is False

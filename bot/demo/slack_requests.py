"""Requests shaped and signed as Slack sends them, for the demo and the tests."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from bot.core.ids import COMMAND
from bot.demo.slack_standin_records import PostedMessage
from bot.slack.guard import signature_for


def signed_headers(
    secret: str, body: bytes, *, content_type: str, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature_for(secret, stamp, body),
    }


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def slash_command(
    *,
    user_id: str,
    team_id: str,
    text: str = "",
    response_url: str,
    channel_id: str = "C0GENERAL",
    channel_name: str = "general",
    user_name: str | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> tuple[bytes, str]:
    """`enterprise_id` for a workspace in an Enterprise Grid org; `org_wide` when the app is
    installed for the whole org."""
    fields = {
        "token": "unused-verification-token",
        "team_id": team_id,
        "team_domain": "standin",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": COMMAND,
        "text": text,
        "api_app_id": "A0NEXTSTEP",
        "is_enterprise_install": "true" if org_wide else "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.1.trigger",
        **({"enterprise_id": enterprise_id} if enterprise_id else {}),
    }
    return urlencode(fields).encode(), FORM


def button_click(
    *,
    user_id: str,
    team_id: str,
    message: PostedMessage,
    action_id: str,
    value: str,
    response_url: str,
    ephemeral: bool = False,
) -> tuple[bytes, str]:
    """A button press; `ephemeral` for buttons on a message only the person sees."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": "A0NEXTSTEP",
        "token": "unused-verification-token",
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": f"{int(time.time())}.2.trigger",
        "team": {"id": team_id, "domain": "standin"},
        "channel": {"id": message.channel, "name": "directmessage"},
        "message": {
            "type": "message",
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
            "bot_id": "B0BOT",
        },
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "choices",
                "type": "button",
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def event_callback(
    *,
    team_id: str,
    event: dict[str, Any],
    event_id: str,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> tuple[bytes, str]:
    authorization = {
        "enterprise_id": enterprise_id,
        "team_id": None if org_wide else team_id,
        "user_id": "U0BOT",
        "is_bot": True,
        "is_enterprise_install": org_wide,
    }
    body = {
        "token": "unused-verification-token",
        "team_id": team_id,
        "api_app_id": "A0NEXTSTEP",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [authorization],
        **({"enterprise_id": enterprise_id} if enterprise_id else {}),
    }
    return json.dumps(body).encode(), JSON


def button_of(message: PostedMessage, action_id: str) -> str:
    """The value of a button in a posted message, as a person would press it."""
    for block in message.blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element.get("value", ""))
    raise LookupError(f"no {action_id} button in that message")


def view_submission(
    *,
    user_id: str,
    team_id: str,
    view: dict[str, Any],
    values: dict[str, dict[str, Any]],
    state_values: Any = None,
) -> tuple[bytes, str]:
    """A modal submitted with `values` ({block_id: element value}) filled in; `state_values`,
    when given, is sent as the view's state.values just as it is (whatever its shape)."""
    state = (
        {block_id: {"value": value} for block_id, value in values.items()}
        if state_values is None
        else state_values
    )
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "standin"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": "A0NEXTSTEP",
        "token": "unused-verification-token",
        "trigger_id": f"{int(time.time())}.3.trigger",
        "view": {
            **view,
            "id": "V0FORM",
            "team_id": team_id,
            "state": {"values": state},
            "hash": "1.abc",
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def global_shortcut(*, user_id: str, team_id: str, callback_id: str) -> tuple[bytes, str]:
    """A global shortcut chosen from Slack's shortcut menu."""
    payload: dict[str, Any] = {
        "type": "shortcut",
        "token": "unused-verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": "standin"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "is_enterprise_install": False,
        "callback_id": callback_id,
        "trigger_id": f"{int(time.time())}.4.trigger",
    }
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM

"""Activities as Teams sends them to a bot from a person's personal chat with it (unsigned:
the stand-in signs the request), and the data of a card's buttons, for the demo and tests."""

from __future__ import annotations

import itertools
from typing import Any

from bot.demo.teams_standin_records import CLIENT_ID, TENANT, Payload

# The language the demo's people use, as Teams sends it with each activity.
LOCALE = "en-GB"

_ids = itertools.count(1)


def conversation(user: str) -> str:
    """The id of the person's chat with the bot."""
    return f"a:personal-{user}"


def activity(
    service_url: str,
    user: str,
    kind: str,
    *,
    zone: str,
    from_name: str,
    locale: str = LOCALE,
    **fields: Any,
) -> Payload:
    """An activity from `user`'s chat with the bot (`user` is their Entra object id)."""
    return {
        "type": kind,
        "id": f"f:{next(_ids)}",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "localTimestamp": "2026-11-23T11:00:00.000+01:00",
        "localTimezone": zone,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{user}", "name": from_name, "aadObjectId": user},
        "conversation": {
            "conversationType": "personal",
            "tenantId": TENANT,
            "id": conversation(user),
        },
        "recipient": {"id": f"28:{CLIENT_ID}", "name": "Next Step"},
        "locale": locale,
        "entities": [{"type": "clientInfo", "locale": locale, "timezone": zone}],
        "channelData": {"tenant": {"id": TENANT}},
        **fields,
    }


def message(
    service_url: str, user: str, text: str, *, zone: str, from_name: str, locale: str = LOCALE
) -> Payload:
    """What the person writes to the bot."""
    return activity(
        service_url,
        user,
        "message",
        zone=zone,
        from_name=from_name,
        locale=locale,
        text=text,
        textFormat="plain",
    )


def app_added(
    service_url: str, user: str, *, zone: str, from_name: str, locale: str = LOCALE
) -> Payload:
    """The person added the app: the bot joins their personal chat."""
    return activity(
        service_url,
        user,
        "conversationUpdate",
        zone=zone,
        from_name=from_name,
        locale=locale,
        membersAdded=[{"id": f"28:{CLIENT_ID}"}],
    )


def card_action(
    service_url: str,
    user: str,
    activity_id: str,
    data: Payload,
    *,
    zone: str,
    from_name: str,
    locale: str = LOCALE,
    verb: str | None = None,
) -> Payload:
    """A press of an Action.Execute button on the card `activity_id` (its verb is the action
    its data names, unless `verb` says otherwise)."""
    value = {
        "action": {"type": "Action.Execute", "verb": verb or data.get("action"), "data": data},
        "trigger": "manual",
    }
    return activity(
        service_url,
        user,
        "invoke",
        zone=zone,
        from_name=from_name,
        locale=locale,
        name="adaptiveCard/action",
        replyToId=activity_id,
        value=value,
    )


def dialog_open(
    service_url: str, user: str, data: Payload, *, zone: str, from_name: str, locale: str = LOCALE
) -> Payload:
    """A button that opens a dialog (an Action.Submit with task/fetch) was pressed."""
    value = {"data": data, "context": {"theme": "default"}}
    return activity(
        service_url,
        user,
        "invoke",
        zone=zone,
        from_name=from_name,
        locale=locale,
        name="task/fetch",
        value=value,
    )


def dialog_submit(
    service_url: str, user: str, data: Payload, *, zone: str, from_name: str, locale: str = LOCALE
) -> Payload:
    """A dialog's Action.Submit: its data with the values of its inputs."""
    return activity(
        service_url,
        user,
        "invoke",
        zone=zone,
        from_name=from_name,
        locale=locale,
        name="task/submit",
        value={"data": data},
    )


def button_of(card: Payload, action: str) -> Payload:
    """The button on a card that does `action` (a choice or a dialog opener)."""
    for button in actions_of(card):
        data = button.get("data") or {}
        if data.get("action") == action or data.get("opener") == action:
            return button
    raise LookupError(f"no {action} button on the card")


def button_data(card: Payload, action: str) -> Payload:
    """The data of the button on a card that does `action`."""
    return dict(button_of(card, action).get("data") or {})


def actions_of(node: Any) -> list[Payload]:
    """Every Action.Execute and Action.Submit on a card, in the order a person reads them."""
    found: list[Payload] = []
    if isinstance(node, dict):
        if node.get("type") in ("Action.Execute", "Action.Submit"):
            found.append(node)
        for value in node.values():
            found += actions_of(value)
    elif isinstance(node, list):
        for item in node:
            found += actions_of(item)
    return found

"""The Slack app manifest: one command, the fewest scopes that work, HTTP or Socket Mode."""

from __future__ import annotations

import json
from typing import Any

from bot.core.ids import COMMAND, MEETING_SHORTCUT

# Every Web API method the bot calls, and the bot scope it needs (None: no scope needed).
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    # Installing in several workspaces: the code for a token, and refreshing rotated tokens.
    "oauth.v2.access": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    # Whether someone is in NOTPROMOTED_MANAGER_USERGROUP.
    "usergroups.list": "usergroups:read",
    "views.publish": None,
    "views.open": None,
    "conversations.history": "im:history",
    # files_upload_v2, for the data export: these two calls and an upload to the URL given.
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
# Called with the app-level token in Socket Mode, not the bot token.
APP_TOKEN_METHODS: dict[str, str] = {"apps.connections.open": "connections:write"}


def bot_scopes() -> list[str]:
    scopes = {scope for scope in METHOD_SCOPES.values() if scope}
    return sorted(scopes | {"commands"})


def build_manifest(
    display_name: str, *, base_url: str | None, token_rotation: bool = False
) -> dict[str, Any]:
    """base_url None gives the Socket Mode variant, with no request URLs.

    With a base URL the OAuth redirect is listed too, for installing in several workspaces;
    `token_rotation` turns on Slack's expiring tokens (which can't be turned off again).
    """
    command: dict[str, Any] = {
        "command": COMMAND,
        "description": "A private companion for what comes next",
        "usage_hint": "[help | status | pause | resume | stop | forget | meeting @person]",
        "should_escape": True,
    }
    # Removing the app sends both uninstall events; they need no scope.
    events: dict[str, Any] = {
        "bot_events": ["app_home_opened", "app_uninstalled", "tokens_revoked"]
    }
    oauth: dict[str, Any] = {"scopes": {"bot": bot_scopes()}}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if base_url:
        endpoint = f"{base_url.rstrip('/')}/slack/events"
        command["url"] = endpoint
        events["request_url"] = endpoint
        interactivity["request_url"] = endpoint
        oauth["redirect_urls"] = [f"{base_url.rstrip('/')}/slack/oauth_redirect"]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": display_name,
            "description": "A quiet, private companion for the days after a career setback.",
            "background_color": "#2f3e46",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": display_name, "always_online": False},
            "slash_commands": [command],
            "shortcuts": [
                {
                    "name": "Plan a feedback meeting",
                    "type": "global",
                    "callback_id": MEETING_SHORTCUT,
                    "description": "Prepare a feedback meeting for someone from a template",
                }
            ],
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": base_url is None,
            "token_rotation_enabled": token_rotation,
        },
    }


def manifest_json(display_name: str, *, base_url: str | None, token_rotation: bool = False) -> str:
    manifest = build_manifest(display_name, base_url=base_url, token_rotation=token_rotation)
    return json.dumps(manifest, indent=2)

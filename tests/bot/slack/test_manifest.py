"""bot.slack.manifest: the HTTP and Socket Mode manifests, and scopes that match the code."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.ids import COMMAND
from bot.slack.manifest import (
    APP_TOKEN_METHODS,
    METHOD_SCOPES,
    bot_scopes,
    build_manifest,
    manifest_json,
)

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("bot", "handlers", "scheduler")
METHOD_NAME = re.compile(
    r"^(auth|chat|conversations|users|views|apps|files|reactions|team|usergroups|im|oauth)"
    r"_[A-Za-z]+$"
)
ENDPOINT = "https://bot.example.com/slack/events"
# slack-sdk helpers that stand for several Web API methods.
COMPOSITE_METHODS = {
    "files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal"),
}


@pytest.fixture(scope="module")
def http_manifest() -> dict[str, Any]:
    return build_manifest("Next Step", base_url="https://bot.example.com")


@pytest.fixture(scope="module")
def socket_manifest() -> dict[str, Any]:
    return build_manifest("Next Step", base_url=None)


# -- the HTTP manifest -------------------------------------------------------------------


def test_http_slash_command(http_manifest: dict[str, Any]) -> None:
    commands = http_manifest["features"]["slash_commands"]
    assert len(commands) == 1
    command = commands[0]
    assert command["command"] == "/notpromoted" == COMMAND
    assert command["should_escape"] is True
    assert command["url"] == ENDPOINT


def test_http_event_subscriptions(http_manifest: dict[str, Any]) -> None:
    events = http_manifest["settings"]["event_subscriptions"]
    assert events["bot_events"] == ["app_home_opened", "app_uninstalled", "tokens_revoked"]
    assert events["request_url"] == ENDPOINT


def test_http_oauth_redirect_and_token_rotation(http_manifest: dict[str, Any]) -> None:
    assert http_manifest["oauth_config"]["redirect_urls"] == [
        "https://bot.example.com/slack/oauth_redirect"
    ]
    assert http_manifest["settings"]["token_rotation_enabled"] is False
    rotating = build_manifest("Next Step", base_url="https://bot.example.com", token_rotation=True)
    assert rotating["settings"]["token_rotation_enabled"] is True


def test_http_interactivity(http_manifest: dict[str, Any]) -> None:
    interactivity = http_manifest["settings"]["interactivity"]
    assert interactivity == {"is_enabled": True, "request_url": ENDPOINT}


def test_http_is_not_socket_mode(http_manifest: dict[str, Any]) -> None:
    assert http_manifest["settings"]["socket_mode_enabled"] is False


def test_app_home_tabs(http_manifest: dict[str, Any]) -> None:
    home = http_manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True


def test_display_name_is_used(http_manifest: dict[str, Any]) -> None:
    assert http_manifest["display_information"]["name"] == "Next Step"
    assert http_manifest["features"]["bot_user"]["display_name"] == "Next Step"
    custom = build_manifest("Pathfinder", base_url=None)
    assert custom["features"]["bot_user"]["display_name"] == "Pathfinder"


@pytest.mark.parametrize("base_url", ["https://bot.example.com/", "https://bot.example.com//"])
def test_trailing_slashes_in_base_url_are_dropped(base_url: str) -> None:
    manifest = build_manifest("Next Step", base_url=base_url)
    assert manifest["features"]["slash_commands"][0]["url"] == ENDPOINT
    assert manifest["settings"]["event_subscriptions"]["request_url"] == ENDPOINT


def test_manifest_json_round_trips() -> None:
    text = manifest_json("Next Step", base_url="https://bot.example.com")
    assert json.loads(text) == build_manifest("Next Step", base_url="https://bot.example.com")


# -- the Socket Mode manifest ------------------------------------------------------------


def walk_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_keys(item)


def test_socket_mode_has_no_request_urls(socket_manifest: dict[str, Any]) -> None:
    keys = set(walk_keys(socket_manifest))
    assert "url" not in keys
    assert "request_url" not in keys
    assert "slash_commands" in keys  # the walk reached the nested dicts
    assert "://" not in json.dumps(socket_manifest)


def test_socket_mode_is_enabled(socket_manifest: dict[str, Any]) -> None:
    settings = socket_manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    ]
    assert "redirect_urls" not in socket_manifest["oauth_config"]
    assert socket_manifest["features"]["slash_commands"][0]["command"] == COMMAND


def test_walk_keys_finds_urls_in_the_http_manifest(http_manifest: dict[str, Any]) -> None:
    keys = set(walk_keys(http_manifest))
    assert {"url", "request_url"} <= keys


# -- scopes match the Web API methods the code calls -------------------------------------


def _is_client(node: ast.expr) -> bool:
    """`client`, `self.client`, `runtime.client`, `web_client`: an AsyncWebClient-like value."""
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    else:
        return False
    return name.lower().endswith("client")


def called_methods() -> dict[str, list[str]]:
    """Slack method name -> where it is used, for every `<client>.<family>_<name>` attribute.

    Attributes, not only calls: the sender passes `self.client.users_info` to a helper.
    """
    found: dict[str, list[str]] = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in COMPOSITE_METHODS
                    and _is_client(node.value)
                ):
                    for method in COMPOSITE_METHODS[node.attr]:
                        found.setdefault(method, []).append(
                            f"{path.relative_to(ROOT)}:{node.lineno}"
                        )
                if (
                    isinstance(node, ast.Attribute)
                    and METHOD_NAME.match(node.attr)
                    and _is_client(node.value)
                ):
                    method = node.attr.replace("_", ".")
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(method, []).append(where)
    return found


@pytest.fixture(scope="module")
def methods() -> dict[str, list[str]]:
    return called_methods()


def test_the_scan_finds_the_known_calls(methods: dict[str, list[str]]) -> None:
    assert methods
    assert {
        "chat.postMessage",
        "conversations.open",
        "users.info",
        "views.publish",
        "chat.update",
    } <= set(methods)


def test_method_name_conversion() -> None:
    assert METHOD_NAME.match("chat_postMessage")
    assert METHOD_NAME.match("apps_connections_open") is None  # two underscores: not matched
    assert "chat_postMessage".replace("_", ".") == "chat.postMessage"
    assert not METHOD_NAME.match("team_id_x")
    tree = ast.parse("self.team_id\nclient.chat_update()\nself.client.users_info")
    attrs = [
        n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and METHOD_NAME.match(n.attr)
    ]
    assert sorted(n.attr for n in attrs if _is_client(n.value)) == ["chat_update", "users_info"]


def test_every_called_method_has_a_known_scope(methods: dict[str, list[str]]) -> None:
    unknown = {
        method: where
        for method, where in methods.items()
        if method not in METHOD_SCOPES and method not in APP_TOKEN_METHODS
    }
    assert unknown == {}


def test_every_needed_scope_is_in_the_manifest(
    methods: dict[str, list[str]], http_manifest: dict[str, Any]
) -> None:
    granted = set(http_manifest["oauth_config"]["scopes"]["bot"])
    for method in methods:
        scope = METHOD_SCOPES.get(method)
        if scope is not None:
            assert scope in granted, f"{method} needs {scope}"


def test_manifest_bot_scopes_are_the_fewest_that_work(
    methods: dict[str, list[str]],
    http_manifest: dict[str, Any],
    socket_manifest: dict[str, Any],
) -> None:
    needed = {
        scope
        for method in methods
        if method in METHOD_SCOPES and (scope := METHOD_SCOPES[method]) is not None
    }
    assert needed == {
        "chat:write",
        "files:write",
        "im:history",
        "im:write",
        "users:read",
        "usergroups:read",
    }
    expected = sorted(needed | {"commands"})
    assert http_manifest["oauth_config"]["scopes"]["bot"] == expected
    assert socket_manifest["oauth_config"]["scopes"]["bot"] == expected
    assert bot_scopes() == expected


def test_app_token_scope_is_not_a_bot_scope(http_manifest: dict[str, Any]) -> None:
    assert APP_TOKEN_METHODS == {"apps.connections.open": "connections:write"}
    assert "connections:write" not in http_manifest["oauth_config"]["scopes"]["bot"]

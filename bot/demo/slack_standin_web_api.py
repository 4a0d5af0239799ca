"""The Slack stand-in's answers to the Web API methods a bot calls (auth.test, users.info,
chat.postMessage, views.publish, ...), apart from its state, tokens and server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.demo.slack_standin_records import (
    IssuedToken,
    Payload,
    PostedMessage,
    StandInTeam,
    StandInUser,
)


class WebApiMethods:
    """One `_<method>` per Web API method (`chat.postMessage` is `_chat_postMessage`), which
    SlackStandIn.handle calls holding its lock."""

    # What they read and change, kept by SlackStandIn.
    team_id: str
    bot_user_id: str
    default_tz: str
    users: dict[str, StandInUser]
    messages: list[PostedMessage]
    home_views: dict[str, Payload]
    opened_views: list[Payload]
    uploads: dict[str, bytes]
    shared_files: list[Payload]
    socket_url: str | None
    usergroups: dict[str, list[str]]
    missing_users: set[str]
    clock: Callable[[], float]
    teams: dict[str, StandInTeam]
    _last_ts: float
    _caller: IssuedToken | None

    if TYPE_CHECKING:

        @property
        def base_url(self) -> str: ...

    def _next_ts(self) -> str:
        """Slack's message ts: the posting time in seconds, unique within the stand-in."""
        self._last_ts = max(self.clock(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _user(self, user_id: str) -> StandInUser | None:
        if user_id in self.missing_users:
            return None
        user = self.users.get(user_id)
        if user is None and user_id.startswith(("U", "W")):
            user = StandInUser(id=user_id, tz=self.default_tz, team_id=self.team_id)
            self.users[user_id] = user
        return user

    def _auth_test(self, _args: Payload) -> Payload:
        caller = self._caller
        team = self.teams.get(caller.team_id or "") if caller else self.teams[self.team_id]
        enterprise_id = caller.enterprise_id if caller else None
        return {
            "ok": True,
            "team_id": team.id if team else None,
            "enterprise_id": enterprise_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0BOT",
            "team": team.name if team else None,
            "user": "next-step",
            "url": "https://standin.invalid/",
            "is_enterprise_install": caller is not None and caller.team_id is None,
        }

    def _users_info(self, args: Payload) -> Payload:
        user = self._user(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        info: Payload = {
            "id": user.id,
            "team_id": user.team_id,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "tz": user.tz,
            "tz_offset": 0,
        }
        if str(args.get("include_locale", "")).lower() in ("true", "1"):
            info["locale"] = user.locale
        return {"ok": True, "user": info}

    def _usergroups_list(self, args: Payload) -> Payload:
        with_users = str(args.get("include_users", "")).lower() in ("true", "1")
        groups: list[Payload] = []
        for number, (handle, members) in enumerate(sorted(self.usergroups.items()), start=1):
            group: Payload = {"id": f"S{number:08d}", "team_id": self.team_id, "handle": handle}
            if with_users:
                group["users"] = list(members)
            groups.append(group)
        return {"ok": True, "usergroups": groups}

    def _conversations_open(self, args: Payload) -> Payload:
        users = str(args.get("users", ""))
        user = self._user(users)
        if user is None or "," in users:
            return {"ok": False, "error": "user_not_found"}
        if user.deleted:
            return {"ok": False, "error": "user_disabled"}
        if user.is_bot:
            return {"ok": False, "error": "cannot_dm_bot"}
        return {"ok": True, "channel": {"id": _dm_channel(user.id)}}

    def _chat_postMessage(self, args: Payload) -> Payload:
        channel = str(args.get("channel", ""))
        if not channel.startswith("D"):
            return {"ok": False, "error": "channel_not_found"}
        user = self.users.get(channel[1:])
        if user is not None and user.deleted:
            return {"ok": False, "error": "account_inactive"}
        ts = self._next_ts()
        metadata = _json_field(args.get("metadata"))
        message = PostedMessage(
            channel=channel,
            ts=ts,
            text=str(args.get("text", "")),
            blocks=_json_field(args.get("blocks")) or [],
            metadata=metadata,
        )
        self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"text": message.text, "blocks": message.blocks, "ts": ts},
        }

    def _chat_update(self, args: Payload) -> Payload:
        for message in self.messages:
            if message.channel == args.get("channel") and message.ts == args.get("ts"):
                message.text = str(args.get("text", message.text))
                message.blocks = _json_field(args.get("blocks")) or message.blocks
                message.updates += 1
                return {"ok": True, "channel": message.channel, "ts": message.ts}
        return {"ok": False, "error": "message_not_found"}

    def _chat_postEphemeral(self, args: Payload) -> Payload:
        return {"ok": True, "message_ts": self._next_ts()}

    def _files_getUploadURLExternal(self, args: Payload) -> Payload:
        file_id = f"F{len(self.uploads) + len(self.shared_files) + 1:05d}"
        self.uploads.setdefault(file_id, b"")
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: Payload) -> Payload:
        files = _json_field(args.get("files")) or []
        shared = []
        for entry in files:
            data = self.uploads.get(str(entry.get("id")))
            if data is None:
                return {"ok": False, "error": "file_not_found"}
            shared.append(
                {
                    "id": entry["id"],
                    "title": entry.get("title"),
                    "channel": args.get("channel_id"),
                    "comment": args.get("initial_comment"),
                    "content": data,
                }
            )
        self.shared_files.extend(shared)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    def _views_open(self, args: Payload) -> Payload:
        view = _json_field(args.get("view")) or {}
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        self.opened_views.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.opened_views):04d}", **view}}

    def _views_publish(self, args: Payload) -> Payload:
        view = _json_field(args.get("view")) or {}
        self.home_views[str(args.get("user_id"))] = view
        return {"ok": True, "view": {"id": "V0HOME", **view}}

    def _conversations_history(self, args: Payload) -> Payload:
        channel = args.get("channel")
        oldest = float(args.get("oldest") or 0)
        found = [
            {
                "type": "message",
                "ts": m.ts,
                "text": m.text,
                "bot_id": "B0BOT",
                **({"metadata": m.metadata} if m.metadata else {}),
            }
            for m in reversed(self.messages)
            if m.channel == channel and float(m.ts) >= oldest
        ]
        return {"ok": True, "messages": found, "has_more": False}

    def _apps_connections_open(self, _args: Payload) -> Payload:
        if self.socket_url is None:
            return {"ok": False, "error": "socket_mode_not_available"}
        return {"ok": True, "url": self.socket_url}


def _dm_channel(user_id: str) -> str:
    return f"D{user_id}"


def _json_field(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value

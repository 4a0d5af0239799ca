"""What the Slack stand-in records and is arranged with: calls, workspaces, issued tokens, queued
failures, users and posted messages; apart so tests can name them without the stand-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Payload = dict[str, Any]


@dataclass
class Call:
    method: str
    args: Payload
    token: str | None
    team_id: str | None = None  # the workspace the token belongs to


@dataclass
class StandInTeam:
    id: str
    name: str
    enterprise_id: str | None = None
    # Installed for the whole Grid org rather than this one workspace.
    org_wide: bool = False


@dataclass
class IssuedToken:
    """A token oauth.v2.access gave out, and what became of it."""

    team_id: str | None
    enterprise_id: str | None
    kind: str  # "bot" or "refresh"
    expires_at: float | None = None  # wall-clock seconds; None never expires
    revoked: bool = False
    spent: bool = False  # a refresh token already used


@dataclass
class Failure:
    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class StandInUser:
    id: str
    tz: str = "Europe/London"
    locale: str = "en-GB"
    deleted: bool = False
    is_bot: bool = False
    team_id: str = "T0DEMO"


@dataclass
class PostedMessage:
    channel: str
    ts: str
    text: str
    blocks: list[Payload]
    metadata: Payload | None
    updates: int = 0

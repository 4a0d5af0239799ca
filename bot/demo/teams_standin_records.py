"""What the Teams stand-in records and who it plays: the app registration's ids, and the
activities the bot posted; apart so tests and the demo can name them without the stand-in."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

Payload = dict[str, Any]

# The bot's app registration in Entra ID, and the tenant it lives in.
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "stand-in-teams-client-secret"  # noqa: S105 (the stand-in's own)
TENANT = "99999999-8888-7777-6666-555555555555"
# Who signs what Teams sends a bot, and the key it signs with.
ISSUER = "https://api.botframework.com"
KEY_ID = "stand-in-signing-key"
# The resource the bot asks the login service for tokens to.
BOT_RESOURCE = "https://api.botframework.com"

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class Sent:
    """An activity the bot posted (or updated) in a conversation."""

    conversation_id: str
    activity_id: str
    activity: Payload
    updates: list[Payload] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def latest(self) -> Payload:
        return self.updates[-1] if self.updates else self.activity

    @property
    def card(self) -> Payload:
        """The latest version of the card it carries (empty if it carries none)."""
        for attachment in self.latest.get("attachments") or []:
            if attachment.get("contentType") == ADAPTIVE_CARD:
                content: Payload = attachment.get("content") or {}
                return content
        return {}

    @property
    def text(self) -> str:
        return str(self.latest.get("text") or "")

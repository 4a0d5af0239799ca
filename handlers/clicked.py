"""The message a click came from, drawn again from what the bot made it of: what a click may
change, never what its payload claims (a payload is the clicker's to forge)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from handlers import locale_lookup
from handlers.neutral_messages import forget_prompt, home_message
from handlers.outbox import SentCopy, meeting_offer_row, recompose_own, sent_copy
from handlers.replies import row_id
from messages.model import Message


class ClickedOn(Enum):
    """Where a route's buttons are drawn, so that an adapter can redraw the clicked message."""

    NOTHING = "nothing"  # a form opener, the Home's own controls: nothing to redraw
    ROW = "row"  # a message the bot sent from the outbox; the value is its row id
    MEETING_OFFER = "meeting_offer"  # the value is the meeting's id; its offer row was sent
    FORGET_PROMPT = "forget_prompt"  # the private prompt the `forget` command answers with
    WELCOME = "welcome"  # the welcome (the Home's message) sent when a chat begins


@dataclass(frozen=True)
class ClickedMessage:
    message: Message
    # Where it was posted, for a row the bot sent (None for a private answer of its own).
    copy: SentCopy | None = None


def clicked_message(
    services: Services, ref: PersonRef, where: ClickedOn, value: str
) -> ClickedMessage | None:
    """The clicked message as the bot drew it, if the person's own; else None."""
    if where is ClickedOn.FORGET_PROMPT:
        locale = locale_lookup.person_locale(services, ref)
        return ClickedMessage(forget_prompt(locale, services.settings))
    if where is ClickedOn.WELCOME:
        locale = locale_lookup.person_locale(services, ref)
        return ClickedMessage(home_message(locale, services.settings, status_line=None))
    if where is ClickedOn.NOTHING:
        return None
    row = row_id(value)
    if where is ClickedOn.MEETING_OFFER:
        row = meeting_offer_row(services, ref, row)
    copy = sent_copy(services, ref, row)
    if copy is not None:
        return ClickedMessage(copy.message, copy)
    message = recompose_own(services, ref, row)
    return ClickedMessage(message) if message is not None else None

"""What a handler returns: a neutral message for the person and the outbox rows to send now."""

from __future__ import annotations

from dataclasses import dataclass

from messages.model import Message


@dataclass(frozen=True)
class CommandReply:
    """The private answer to a command, and check-in rows the adapter should send at once."""

    message: Message
    send_now: tuple[int, ...] = ()
    open_goals_form: bool = False


@dataclass(frozen=True)
class ChoiceReply:
    """The answer to a button: `note` replaces the buttons of the clicked message.

    `note` is None when another click on the same message already took effect, so the
    message is left for that click to update.
    """

    note: str | None
    send_now: tuple[int, ...] = ()

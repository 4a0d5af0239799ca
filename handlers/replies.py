"""What a handler returns: a neutral message for the person and the outbox rows to send now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.core.models import Checkin, Journey, Person
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from messages.model import Button, Message


@dataclass(frozen=True)
class CommandReply:
    """The private answer to a command, and check-in rows the adapter should send at once."""

    message: Message
    send_now: tuple[int, ...] = ()
    open_form: str | None = None
    send_export: bool = False


@dataclass(frozen=True)
class ChoiceReply:
    """The answer to a button: `note` replaces the buttons of the clicked message.

    `note` is None when the message stays as it is: another click on it already took effect
    (that click updates it), or the answer keeps the buttons (a draft was sent, a form opens).
    `open_form` names a form (ids.GOALS_FORM, FEEDBACK_FORM, NOTES_FORM) the adapter opens.
    """

    note: str | None
    send_now: tuple[int, ...] = ()
    open_form: str | None = None
    # Buttons to show under the note, in place of the ones that were there.
    follow_up: tuple[Button, ...] = ()


@dataclass(frozen=True)
class FormAnswer:
    """Errors by form field, or the text that replaces the form once saved."""

    errors: dict[str, str]
    saved: str = ""
    send_now: tuple[int, ...] = ()


@dataclass(frozen=True)
class Clicked:
    """A clicked check-in row that belongs to the person who clicked it."""

    person: Person
    checkin: Checkin
    journey: Journey


def find_clicked(session: Session, ref: PersonRef, checkin_id: int | None) -> Clicked | None:
    """The row a button points at, if it is the clicking person's own; else None."""
    person = people.find_person(session, ref=ref)
    checkin = session.get(Checkin, checkin_id) if checkin_id is not None else None
    journey = (
        session.get(Journey, checkin.journey_id)
        if checkin is not None and checkin.journey_id is not None
        else None
    )
    if person is None or checkin is None or journey is None or journey.person_id != person.id:
        return None
    return Clicked(person=person, checkin=checkin, journey=journey)


def row_ids(*rows: Checkin | None) -> tuple[int, ...]:
    """The ids of the outbox rows a handler wrote, for `send_now`."""
    return tuple(row.id for row in rows if row is not None and row.id is not None)


def row_id(value: object) -> int | None:
    """A row id as a button or a form carries it (a number, or its ASCII digits); else None.
    The value is the clicker's to forge: anything else is no row at all."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 10**17 else None
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 18 else None

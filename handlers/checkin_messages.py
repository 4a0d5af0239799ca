"""The check-in messages that come days later, built from checkins.toml."""

from __future__ import annotations

from bot.core import ids
from bot.core.config import Settings
from handlers.neutral_messages import notification
from messages.content import LocaleContent
from messages.model import Bullets, Button, Message, parse_text

# The buttons of each check-in, in order, with the key of their label in checkins.toml.
BUTTONS: dict[str, tuple[tuple[str, str], ...]] = {
    ids.CHECKIN_KIND_FEEDBACK_NUDGE: (
        (ids.NUDGE_ASKED, "button_asked"),
        (ids.NUDGE_HELP, "button_help"),
        (ids.NUDGE_LATER, "button_later"),
        (ids.NUDGE_DECLINE, "button_decline"),
    ),
    ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP: (
        (ids.NUDGE_HELPED, "button_helped"),
        (ids.NUDGE_HARD, "button_hard"),
        (ids.NUDGE_NONE, "button_none"),
        (ids.NUDGE_NOTES, "button_notes"),
    ),
    ids.CHECKIN_KIND_GOALS_NUDGE: (
        (ids.NUDGE_WRITE_GOALS, "button_write"),
        (ids.NUDGE_NOT_NOW, "button_later"),
    ),
    ids.CHECKIN_KIND_GOAL_STUCK: (
        (ids.OPEN_GOALS_FORM, "button_reshape"),
        (ids.PROGRESS_LATER, "button_later"),
    ),
    ids.CHECKIN_KIND_GOAL_PROGRESS: (
        (ids.NUDGE_ON_TRACK, "button_on_track"),
        (ids.NUDGE_STUCK, "button_stuck"),
        (ids.NUDGE_DONE, "button_done"),
        (ids.NUDGE_LET_GO, "button_let_go"),
    ),
}


def checkin_message(
    kind: str,
    *,
    locale: LocaleContent,
    settings: Settings,
    checkin_id: int,
    goals: list[str] | None = None,
) -> Message:
    """The message for a check-in row of `kind` (not a stage)."""
    section = kind
    blocks = (
        list(parse_text(locale.checkin(section, "body")))
        if "body" in locale.checkins[section]
        else []
    )
    todo = None
    if kind == ids.CHECKIN_KIND_LOOKING_BACK:
        todo = locale.checkin(section, "todo")
    elif kind == ids.CHECKIN_KIND_GOAL_PROGRESS and goals:
        blocks.append(Bullets(tuple(goals)))
    buttons = tuple(
        Button(
            action,
            locale.checkin(section, label),
            str(checkin_id),
            "primary" if index == 0 else None,
        )
        for index, (action, label) in enumerate(BUTTONS.get(kind, ()))
    )
    return Message(
        notification=notification(locale, settings),
        title=locale.checkin(section, "title"),
        blocks=tuple(blocks),
        todo=todo,
        todo_lead=locale.text("todo_lead") if todo else None,
        buttons=buttons,
    )

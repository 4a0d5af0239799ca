"""Dialogs (task modules): the forms as Adaptive Cards, and their submitted data read back.

Every form is validated by the same handler as in Slack; its errors come back as a text
under the field, in the same dialog, with what was typed kept. People are picked with
Teams' people picker, which answers with Entra ID object ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    DateInput,
    QueryData,
    RichTextBlock,
    SubmitAction,
    TextInput,
    TextRun,
)
from microsoft_teams.cards.core import CardElement

from bot.core import ids
from bot.teams.activity_reading import aad_id
from bot.teams.cards import Card, card_attachment
from handlers.feedback import FOCUS_LIMIT, NOTE_LIMIT, TONES
from handlers.goals import MAX_GOALS, TEXT_LIMIT, GoalDraft
from handlers.meeting_preparation import FIELD_LIMIT, MeetingDraft
from messages.content import LocaleContent
from messages.model import clean_typed

Errors = Mapping[str, str]
Values = Mapping[str, Any]

PEOPLE = "graph.microsoft.com/users"


def build_dialog(title: str, card: Card) -> dict[str, Any]:
    """The invoke answer that shows (or keeps showing) a dialog with this card."""
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": title[:100],
                "width": "medium",
                "height": "large",
                "card": card_attachment(card),
            },
        }
    }


def build_dialog_message(text: str) -> dict[str, Any]:
    """The invoke answer that closes the form and shows a short message instead."""
    return {"task": {"type": "message", "value": text[:1000]}}


def build_goals_form(
    locale: LocaleContent,
    goals: list[GoalDraft],
    *,
    from_checkin: int | None,
    errors: Errors | None = None,
    typed: Values | None = None,
) -> Card:
    form = locale.checkins["goals_form"]
    body: list[CardElement] = [_text(form["intro"])]
    for number in range(1, MAX_GOALS + 1):
        current = next((g for g in goals if g.number == number), None)
        initial = {
            f"what_{number}": current.what if current else "",
            f"why_{number}": current.why if current else "",
            f"first_step_{number}": current.first_step if current else "",
            f"by_when_{number}": current.by_when.isoformat() if current and current.by_when else "",
        }
        values = {**initial, **{k: v for k, v in (typed or {}).items() if k in initial}}
        body += _field(
            _line(f"what_{number}", form["what_label"].format(number=number), form["what_hint"]),
            values,
            errors,
        )
        body += _field(
            _line(f"why_{number}", form["why_label"].format(number=number), form["why_hint"]),
            values,
            errors,
        )
        body += _field(
            _line(
                f"first_step_{number}",
                form["first_step_label"].format(number=number),
                form["first_step_hint"],
            ),
            values,
            errors,
        )
        body += _field(
            DateInput(id=f"by_when_{number}", label=form["by_when_label"].format(number=number)),
            values,
            errors,
        )
    return _form(body, form["submit"], {"action": ids.GOALS_FORM, "checkin": from_checkin})


def read_goals_form(data: Values) -> tuple[list[GoalDraft], int | None]:
    drafts = [
        GoalDraft(
            number=number,
            what=_str(data, f"what_{number}"),
            why=_str(data, f"why_{number}"),
            first_step=_str(data, f"first_step_{number}"),
            by_when=_date(data, f"by_when_{number}"),
        )
        for number in range(1, MAX_GOALS + 1)
    ]
    return drafts, number_in(data, "checkin")


def build_feedback_form(
    locale: LocaleContent,
    *,
    from_checkin: int | None,
    errors: Errors | None = None,
    typed: Values | None = None,
) -> Card:
    form = locale.checkins["feedback_form"]
    values = {"tone": "warm", **(typed or {})}
    tones = [Choice(title=form[f"tone_{tone}"], value=tone) for tone in TONES]
    body: list[CardElement] = [_text(form["intro"])]
    body += _field(_people("decider", form["decider_label"]), values, errors)
    body += _field(
        _box("focus", form["focus_label"], form["focus_hint"], FOCUS_LIMIT), values, errors
    )
    body += _field(
        ChoiceSetInput(id="tone", label=form["tone_label"], style="expanded", choices=tones),
        values,
        errors,
    )
    return _form(body, form["submit"], {"action": ids.FEEDBACK_FORM, "checkin": from_checkin})


def read_feedback_form(data: Values) -> tuple[str | None, str, str]:
    tone = _str(data, "tone")
    return aad_id(data.get("decider")), _str(data, "focus"), tone if tone in TONES else "warm"


def build_notes_form(
    locale: LocaleContent, *, errors: Errors | None = None, typed: Values | None = None
) -> Card:
    form = locale.checkins["feedback_notes"]
    body: list[CardElement] = [_text(form["intro"])]
    body += _field(
        _box("keep", form["keep_label"], form["keep_hint"], NOTE_LIMIT), typed or {}, errors
    )
    body += _field(
        _box("work_on", form["work_on_label"], form["work_on_hint"], NOTE_LIMIT),
        typed or {},
        errors,
    )
    return _form(body, form["submit"], {"action": ids.NOTES_FORM})


def read_notes_form(data: Values) -> tuple[str, str]:
    return _str(data, "keep"), _str(data, "work_on")


def build_progress_note_form(
    locale: LocaleContent,
    *,
    from_checkin: int | None,
    errors: Errors | None = None,
    typed: Values | None = None,
) -> Card:
    form = locale.checkins["progress_note"]
    body = _field(_box("note", form["label"], form["hint"], NOTE_LIMIT), typed or {}, errors)
    return _form(body, form["submit"], {"action": ids.PROGRESS_NOTE_FORM, "checkin": from_checkin})


def read_progress_note_form(data: Values) -> tuple[int | None, str]:
    return number_in(data, "checkin"), _str(data, "note")


def build_invite_form(locale: LocaleContent, *, errors: Errors | None = None) -> Card:
    form = locale.checkins["meeting_invite_form"]
    body: list[CardElement] = [_text(form["intro"])]
    body += _field(_people("manager", form["manager_label"]), {}, errors)
    return _form(body, form["submit"], {"action": ids.MANAGER_INVITE_FORM})


def build_pick_form(locale: LocaleContent, *, errors: Errors | None = None) -> Card:
    form = locale.checkins["meeting_pick_form"]
    body: list[CardElement] = [_text(form["person_hint"])]
    body += _field(_people("person", form["person_label"]), {}, errors)
    return _form(body, form["submit"], {"action": ids.MEETING_PICK_FORM})


def read_person(data: Values, field: str) -> str | None:
    return aad_id(data.get(field))


def build_template_form(
    locale: LocaleContent,
    person_id: str,
    person_name: str,
    *,
    errors: Errors | None = None,
    typed: Values | None = None,
) -> Card:
    form = locale.checkins["meeting_template_form"]
    values = {"thanks": form["thanks_initial"], **(typed or {})}
    intro = locale.checkin("meeting_template_form", "intro", person=person_name)
    body: list[CardElement] = [_text(intro)]
    for name in ("thanks", "observed", "gaps", "next_steps", "growth"):
        box = _box(name, form[f"{name}_label"], form[f"{name}_hint"], FIELD_LIMIT)
        box.is_required = name != "growth"
        body += _field(box, values, errors)
    for name in ("meeting_on", "follow_up_on"):
        body += _field(DateInput(id=name, label=form[f"{name}_label"]), values, errors)
    return _form(body, form["submit"], {"action": ids.MEETING_FORM, "person": person_id})


def read_template_form(data: Values) -> tuple[str | None, MeetingDraft]:
    draft = MeetingDraft(
        thanks=_str(data, "thanks"),
        observed=_str(data, "observed"),
        gaps=_str(data, "gaps"),
        next_steps=_str(data, "next_steps"),
        growth=_str(data, "growth"),
        meeting_on=_date(data, "meeting_on"),
        follow_up_on=_date(data, "follow_up_on"),
    )
    return aad_id(data.get("person")), draft


def number_in(data: Values, key: str) -> int | None:
    """A row id in submitted data; None for anything that is not one."""
    return row_id(data.get(key))


def row_id(value: object) -> int | None:
    """A row id as a button or a form carries it (a number, or its digits); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 10**17 else None
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 18 else None


# -- pieces ---------------------------------------------------------------------------------


def _form(body: list[CardElement], submit: str, data: dict[str, Any]) -> Card:
    card = AdaptiveCard(
        version="1.5",
        body=body,
        actions=[SubmitAction(title=submit[:75], data=data)],
    )
    dumped: Card = card.model_dump(exclude_none=True, by_alias=True)
    return dumped


def _field(element: Any, values: Values, errors: Errors | None) -> list[CardElement]:
    """An input with its current value and, under it, the error the handler found in it."""
    value = values.get(element.id)
    if isinstance(value, str) and value:
        element.value = value
    shown: list[CardElement] = [element]
    if errors and element.id in errors:
        error: list[CardElement] = [TextRun(text=errors[element.id], color="Attention")]
        shown.append(RichTextBlock(inlines=error))
    return shown


def _line(field: str, label: str, hint: str) -> TextInput:
    return TextInput(id=field, label=label, placeholder=hint[:200], max_length=TEXT_LIMIT)


def _box(field: str, label: str, hint: str, limit: int) -> TextInput:
    return TextInput(
        id=field, label=label, placeholder=hint[:200], max_length=limit, is_multiline=True
    )


def _people(field: str, label: str) -> ChoiceSetInput:
    return ChoiceSetInput(id=field, label=label, choices=[], choices_data=QueryData(dataset=PEOPLE))


def _text(text: str) -> RichTextBlock:
    inlines: list[CardElement] = [TextRun(text=text)]
    return RichTextBlock(inlines=inlines)


def _str(data: Values, key: str) -> str:
    """A typed field, cleaned (messages.model.clean_typed)."""
    value = data.get(key)
    return clean_typed(value) if isinstance(value, str) else ""


def _date(data: Values, key: str) -> date | None:
    value = data.get(key)
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None

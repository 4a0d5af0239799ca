"""Modals: the goals form, built from neutral data and read back from view_submission state."""

from __future__ import annotations

import json
from typing import Any

from bot.core.ids import FEEDBACK_FORM, GOALS_FORM, HOURS_FORM, NOTES_FORM, PROGRESS_NOTE_FORM
from bot.slack.form_state import SubmittedForm
from handlers.feedback import FOCUS_LIMIT, NOTE_LIMIT
from handlers.goals import MAX_GOALS, TEXT_LIMIT, GoalDraft
from messages.content import LocaleContent

Block = dict[str, Any]


def plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def build_goals_modal(
    locale: LocaleContent, goals: list[GoalDraft], *, from_checkin: int | None
) -> dict[str, Any]:
    form = locale.checkins["goals_form"]
    blocks: list[Block] = [{"type": "section", "text": plain_text(form["intro"])}]
    for number in range(1, MAX_GOALS + 1):
        current = next((g for g in goals if g.number == number), None)
        what: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "max_length": TEXT_LIMIT,
            "placeholder": plain_text(form["what_hint"]),
        }
        step: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "max_length": TEXT_LIMIT,
            "placeholder": plain_text(form["first_step_hint"]),
        }
        why: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "max_length": TEXT_LIMIT,
            "placeholder": plain_text(form["why_hint"]),
        }
        when: Block = {"type": "datepicker", "action_id": "value"}
        if current is not None:
            what["initial_value"] = current.what
            if current.why:
                why["initial_value"] = current.why
            if current.first_step:
                step["initial_value"] = current.first_step
            if current.by_when:
                when["initial_date"] = current.by_when.isoformat()
        if number > 1:
            blocks.append({"type": "divider"})
        blocks += [
            _input(f"what_{number}", form["what_label"].format(number=number), what),
            _input(f"why_{number}", form["why_label"].format(number=number), why),
            _input(f"first_step_{number}", form["first_step_label"].format(number=number), step),
            _input(f"by_when_{number}", form["by_when_label"].format(number=number), when),
        ]
    return {
        "type": "modal",
        "callback_id": GOALS_FORM,
        "title": plain_text(form["title"]),
        "submit": plain_text(form["submit"]),
        "close": plain_text(form["close"]),
        "private_metadata": json.dumps({"checkin": from_checkin}),
        "blocks": blocks,
    }


def _input(block_id: str, label: str, element: Block) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": plain_text(label),
        "element": element,
    }


def read_goals_form(view: dict[str, Any]) -> tuple[list[GoalDraft], int | None]:
    """The drafts typed into the form and the check-in that offered it; never raises."""
    form = SubmittedForm(view)
    drafts = [
        GoalDraft(
            number=number,
            what=form.text(f"what_{number}"),
            why=form.text(f"why_{number}"),
            first_step=form.text(f"first_step_{number}"),
            by_when=form.day(f"by_when_{number}"),
        )
        for number in range(1, MAX_GOALS + 1)
    ]
    return drafts, form.metadata_number("checkin")


def build_feedback_modal(locale: LocaleContent, *, from_checkin: int | None) -> dict[str, Any]:
    form = locale.checkins["feedback_form"]
    tones = [
        {"text": plain_text(form[f"tone_{tone}"]), "value": tone}
        for tone in ("short", "warm", "formal")
    ]
    return {
        "type": "modal",
        "callback_id": FEEDBACK_FORM,
        "title": plain_text(form["title"]),
        "submit": plain_text(form["submit"]),
        "close": plain_text(form["close"]),
        "private_metadata": json.dumps({"checkin": from_checkin}),
        "blocks": [
            {"type": "section", "text": plain_text(form["intro"])},
            {
                "type": "input",
                "block_id": "decider",
                "label": plain_text(form["decider_label"]),
                "element": {"type": "users_select", "action_id": "value"},
            },
            _input(
                "focus",
                form["focus_label"],
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": FOCUS_LIMIT,
                    "placeholder": plain_text(form["focus_hint"]),
                },
            ),
            {
                "type": "input",
                "block_id": "tone",
                "label": plain_text(form["tone_label"]),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "value",
                    "options": tones,
                    "initial_option": tones[1],
                },
            },
        ],
    }


def read_feedback_form(view: dict[str, Any]) -> tuple[str | None, str, str]:
    """Who decided, what the person wants to understand, and the tone; never raises."""
    form = SubmittedForm(view)
    return form.user("decider"), form.text("focus"), form.option("tone") or "warm"


def build_notes_modal(locale: LocaleContent) -> dict[str, Any]:
    form = locale.checkins["feedback_notes"]

    def box(block_id: str, label: str, hint: str) -> Block:
        element = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": True,
            "max_length": NOTE_LIMIT,
            "placeholder": plain_text(hint),
        }
        return _input(block_id, label, element)

    return {
        "type": "modal",
        "callback_id": NOTES_FORM,
        "title": plain_text(form["title"]),
        "submit": plain_text(form["submit"]),
        "close": plain_text(form["close"]),
        "blocks": [
            {"type": "section", "text": plain_text(form["intro"])},
            box("keep", form["keep_label"], form["keep_hint"]),
            box("work_on", form["work_on_label"], form["work_on_hint"]),
        ],
    }


def read_notes_form(view: dict[str, Any]) -> tuple[str, str]:
    form = SubmittedForm(view)
    return form.text("keep"), form.text("work_on")


def saved_view(title: str, text: str, close: str) -> dict[str, Any]:
    """What a form turns into once it is saved."""
    return {
        "type": "modal",
        "title": plain_text(title),
        "close": plain_text(close),
        "blocks": [{"type": "section", "text": plain_text(text)}],
    }


def build_hours_modal(locale: LocaleContent, current: tuple[str, str, str]) -> dict[str, Any]:
    hours, days, zone = current

    def text_input(initial: str, hint: str | None = None) -> Block:
        element: Block = {"type": "plain_text_input", "action_id": "value", "max_length": 64}
        if initial:
            element["initial_value"] = initial
        if hint:
            element["placeholder"] = plain_text(hint)
        return element

    return {
        "type": "modal",
        "callback_id": HOURS_FORM,
        "title": plain_text(locale.text("hours_form_title")),
        "submit": plain_text(locale.text("hours_form_submit")),
        "close": plain_text(locale.text("hours_form_close")),
        "blocks": [
            {
                "type": "input",
                "block_id": "hours",
                "label": plain_text(locale.text("hours_form_hours")),
                "element": text_input(hours, "09:00-17:00"),
            },
            {
                "type": "input",
                "block_id": "days",
                "label": plain_text(locale.text("hours_form_days")),
                "element": text_input(days, "mon-fri"),
            },
            _input(
                "zone",
                locale.text("hours_form_zone"),
                text_input(zone, locale.text("hours_form_zone_hint")),
            ),
        ],
    }


def read_hours_form(view: dict[str, Any]) -> tuple[str, str, str]:
    form = SubmittedForm(view)
    return form.text("hours"), form.text("days"), form.text("zone")


def build_progress_note_modal(locale: LocaleContent, *, from_checkin: int | None) -> dict[str, Any]:
    form = locale.checkins["progress_note"]
    return {
        "type": "modal",
        "callback_id": PROGRESS_NOTE_FORM,
        "title": plain_text(form["title"]),
        "submit": plain_text(form["submit"]),
        "close": plain_text(form["close"]),
        "private_metadata": json.dumps({"checkin": from_checkin}),
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "label": plain_text(form["label"]),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": NOTE_LIMIT,
                    "placeholder": plain_text(form["hint"]),
                },
            }
        ],
    }


def read_progress_note_form(view: dict[str, Any]) -> tuple[int | None, str]:
    form = SubmittedForm(view)
    return form.metadata_number("checkin"), form.text("note")

"""Every form as a Slack modal, drawn from its neutral Form, and a modal's submission read
back into FormValues by the form's spec (handlers.form_specs): one drawing for all forms."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.blocks import escape_mrkdwn
from bot.slack.form_state import ELEMENT, SubmittedForm
from handlers.form_specs import FORMS
from messages.form import Field, Form, FormValues
from messages.model import MENTION

Block = dict[str, Any]

# Slack's limits: a placeholder, a hint, a label, an option's text, a modal's title.
PLACEHOLDER_LIMIT = 150
HINT_LIMIT = 2000
LABEL_LIMIT = 2000
OPTION_LIMIT = 75
TITLE_LIMIT = 24


def plain_text(text: str, limit: int = 3000) -> Block:
    return {"type": "plain_text", "text": text[:limit], "emoji": False}


def _text(text: str) -> Block:
    """Plain text, or mrkdwn where it names people (so that they show as names)."""
    if MENTION.search(text):
        return {"type": "mrkdwn", "text": escape_mrkdwn(text)}
    return plain_text(text)


def build_modal(form: Form) -> Block:
    blocks: list[Block] = []
    if form.intro:
        blocks.append({"type": "section", "text": _text(form.intro)})
    for field in form.fields:
        if _starts_group(form, field):
            blocks.append({"type": "divider"})
        blocks.append(_input(field))
    modal: Block = {
        "type": "modal",
        "callback_id": form.form_id,
        "title": plain_text(form.title, TITLE_LIMIT),
        "submit": plain_text(form.submit, TITLE_LIMIT),
        "close": plain_text(form.close, TITLE_LIMIT),
        "blocks": blocks,
    }
    if form.context:
        modal["private_metadata"] = json.dumps(dict(form.context))
    return modal


def _starts_group(form: Form, field: Field) -> bool:
    """True where a repeated group of fields starts again (what_2 after goal 1's fields): a
    divider goes there."""
    stem, _, number = form.fields[0].name.rpartition("_")
    field_stem, _, field_number = field.name.rpartition("_")
    return number == "1" and field_stem == stem and field_number not in ("", "1")


def _input(field: Field) -> Block:
    block: Block = {
        "type": "input",
        "block_id": field.name,
        "optional": not field.required,
        "label": plain_text(field.label, LABEL_LIMIT),
        "element": _element(field),
    }
    if field.hint:
        block["hint"] = plain_text(field.hint, HINT_LIMIT)
    return block


def _element(field: Field) -> Block:
    if field.kind == "date":
        element: Block = {"type": "datepicker", "action_id": ELEMENT}
        if field.value:
            element["initial_date"] = field.value
        return element
    if field.kind == "person":
        element = {"type": "users_select", "action_id": ELEMENT}
        if field.value:
            element["initial_user"] = field.value
        return element
    if field.kind == "choice":
        options = [
            {"text": plain_text(choice.label, OPTION_LIMIT), "value": choice.value}
            for choice in field.choices
        ]
        element = {"type": "radio_buttons", "action_id": ELEMENT, "options": options}
        picked = next((o for o in options if o["value"] == field.value), None)
        if picked is not None:
            element["initial_option"] = picked
        return element
    element = {"type": "plain_text_input", "action_id": ELEMENT}
    if field.kind == "box":
        element["multiline"] = True
    if field.limit:
        element["max_length"] = field.limit
    if field.placeholder:
        element["placeholder"] = plain_text(field.placeholder, PLACEHOLDER_LIMIT)
    if field.value:
        element["initial_value"] = field.value
    return element


def read_submission(view: object) -> FormValues | None:
    """A modal's answer by its form's spec; None for a modal that is none of ours. Never
    raises: whatever shape the view has, a field reads as empty."""
    callback_id = view.get("callback_id") if isinstance(view, dict) else None
    spec = FORMS.get(callback_id) if isinstance(callback_id, str) else None
    if spec is None:
        return None
    form = SubmittedForm(view)
    values: dict[str, str] = {}
    for field in spec.fields:
        if field.kind == "date":
            day = form.day(field.name)
            values[field.name] = day.isoformat() if day else ""
        elif field.kind == "person":
            values[field.name] = form.user(field.name) or ""
        elif field.kind == "choice":
            values[field.name] = field.picked(form.option(field.name))
        else:
            values[field.name] = form.text(field.name)
    context: dict[str, int | str] = {}
    for key, kind in spec.context:
        found = form.metadata_number(key) if kind == "row" else form.metadata_id(key)
        if found is not None:
            context[key] = found
    return FormValues(spec.form_id, values, context)


def build_done_view(title: str, text: str, close: str) -> Block:
    """What a form becomes once it is saved."""
    return {
        "type": "modal",
        "title": plain_text(title, TITLE_LIMIT),
        "close": plain_text(close, TITLE_LIMIT),
        "blocks": [{"type": "section", "text": _text(text)}],
    }

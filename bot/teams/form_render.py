"""Every form as a Teams dialog (an Adaptive Card in a task module), drawn from its neutral
Form, and a dialog's submitted data read back into FormValues by the form's spec
(handlers.form_specs): one drawing for all forms.

Errors come back in the same dialog, as a line under their field, with what was typed kept.
A colleague is picked, by Entra ID object id, either with Teams' people picker (`PEOPLE_PICKER`,
documented for desktop and web only) or, with TEAMS_DIRECTORY_SEARCH=graph, from the search
the bot serves itself (`COLLEAGUES`, answered by bot.teams.search_listeners; documented for
iOS and Android too). Both submit the object id, read back alike.
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

from bot.teams.activity_reading import aad_id
from bot.teams.cards import Card, card_attachment, named
from handlers.form_specs import FORMS
from handlers.replies import row_id
from messages.form import Field, Form, FormValues
from messages.model import clean_typed

# Teams' own people picker: Teams searches the organisation itself.
PEOPLE_PICKER = "graph.microsoft.com/users"
# The bot's own dataset: Teams asks the bot (an `application/search` invoke) as the person types.
COLLEAGUES = "notpromoted/colleagues"
# The key of a dialog's data that names its form (the rest is its context and its fields).
FORM_KEY = "action"
PLACEHOLDER_LIMIT = 200
SUBMIT_LIMIT = 75


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


def build_form_dialog(
    form: Form, names: Mapping[str, str] | None = None, *, people: str = PEOPLE_PICKER
) -> dict[str, Any]:
    return build_dialog(form.title, build_form_card(form, names, people=people))


def build_form_card(
    form: Form, names: Mapping[str, str] | None = None, *, people: str = PEOPLE_PICKER
) -> Card:
    """The form as a dialog's card; `people` is the dataset its person fields search."""
    body: list[CardElement] = []
    if form.intro:
        body.append(_text(named(form.intro, names or {})))
    for field in form.fields:
        body.append(_input(field, people))
        error = form.errors.get(field.name)
        if error:
            runs: list[CardElement] = [TextRun(text=error, color="Attention")]
            body.append(RichTextBlock(inlines=runs))
    data: dict[str, Any] = {FORM_KEY: form.form_id, **form.context}
    card = AdaptiveCard(
        version="1.5",
        body=body,
        actions=[SubmitAction(title=form.submit[:SUBMIT_LIMIT], data=data)],
    )
    dumped: Card = card.model_dump(exclude_none=True, by_alias=True)
    return dumped


def _input(field: Field, people: str) -> Any:
    shown = (field.placeholder or field.hint or "")[:PLACEHOLDER_LIMIT] or None
    element: Any
    if field.kind == "date":
        element = DateInput(id=field.name, label=field.label)
    elif field.kind == "person":
        element = ChoiceSetInput(
            id=field.name,
            label=field.label,
            choices=[],
            choices_data=QueryData(dataset=people),
            placeholder=shown,
        )
        if people != PEOPLE_PICKER:
            # Typeahead on a dataset the bot serves: Microsoft's examples draw it filtered.
            element.style = "filtered"
    elif field.kind == "choice":
        choices = [Choice(title=choice.label, value=choice.value) for choice in field.choices]
        element = ChoiceSetInput(
            id=field.name, label=field.label, style="expanded", choices=choices
        )
    else:
        element = TextInput(
            id=field.name,
            label=field.label,
            placeholder=shown,
            max_length=field.limit,
            is_multiline=field.kind == "box",
        )
    if field.required:
        element.is_required = True
    if field.value:
        element.value = field.value
    return element


def _text(text: str) -> RichTextBlock:
    inlines: list[CardElement] = [TextRun(text=text)]
    return RichTextBlock(inlines=inlines)


def read_dialog(data: Mapping[str, Any]) -> FormValues | None:
    """A dialog's answer by its form's spec; None for data that names no form of ours.
    Never raises: a field of the wrong type or shape reads as empty."""
    form_id = data.get(FORM_KEY)
    spec = FORMS.get(form_id) if isinstance(form_id, str) else None
    if spec is None:
        return None
    values: dict[str, str] = {}
    for field in spec.fields:
        value = data.get(field.name)
        if field.kind == "date":
            values[field.name] = _day(value)
        elif field.kind == "person":
            values[field.name] = aad_id(value) or ""
        elif field.kind == "choice":
            values[field.name] = field.picked(value)
        else:
            values[field.name] = clean_typed(value) if isinstance(value, str) else ""
    context: dict[str, int | str] = {}
    for key, kind in spec.context:
        found = row_id(data.get(key)) if kind == "row" else aad_id(data.get(key))
        if found is not None:
            context[key] = found
    return FormValues(spec.form_id, values, context)


def _day(value: object) -> str:
    if not isinstance(value, str) or len(value) != 10:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return ""

"""A value typed into every field of a form, as each platform would carry it back."""

from __future__ import annotations

from dataclasses import replace

from messages.form import Choice, FieldSpec, Form, FormSpec

SLACK_PERSON = "U0PICKED1"
DRAWN_CHOICE = "fr"
TEAMS_PERSON = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"


def typed_value(field: FieldSpec, person: str) -> str:
    """Something a person could enter: text with markup characters and a non-ASCII letter,
    a date, someone from the picker, the last choice (not the one picked at first)."""
    if field.kind == "date":
        return "2027-03-04"
    if field.kind == "person":
        return person
    if field.kind == "choice":
        # A choice its route draws (the languages there are) offers what the route gives it.
        return field.choices[-1][0] if field.choices else DRAWN_CHOICE
    text = f"{field.name}: <b>&</b> *bold* Zoë"
    return text if field.kind == "box" else text[: field.limit or len(text)]


def typed_values(spec: FormSpec, person: str) -> dict[str, str]:
    return {field.name: typed_value(field, person) for field in spec.fields}


def context_for(spec: FormSpec, person: str) -> dict[str, int | str]:
    return {key: 41 if kind == "row" else person for key, kind in spec.context}


def drawn(form: Form) -> Form:
    """The form as its route hands it over: a choice the spec leaves to the route offers the
    value typed into it, beside the one that would be picked at first."""
    fields = tuple(
        replace(field, choices=(Choice("auto", "auto"), Choice(DRAWN_CHOICE, DRAWN_CHOICE)))
        if field.kind == "choice" and not field.choices
        else field
        for field in form.fields
    )
    return replace(form, fields=fields)

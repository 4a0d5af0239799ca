"""The neutral form: declared once (FormSpec), drawn by each platform (a Slack modal, a Teams
dialog) from the texts of a locale (Form), and read back as FormValues.

A spec names its fields, their kind, their content keys, limits and whether they are needed;
`draw` resolves the texts for one person. Each platform turns a Form into its own UI and its
submitted payload back into FormValues through the same field names, so that a handler's
errors (by field name) land under the right field on both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from messages.content import LocaleContent
from messages.model import Button

# One line of text, a box of several lines, a day, a person of the workspace, one of a few.
FieldKind = Literal["line", "box", "date", "person", "choice"]
# What a form carries from where it was opened to its submission: an outbox row (a number) or
# a person (a platform user id).
ContextKind = Literal["row", "person"]
# The longest value a choice drawn by its route may come back with (a language tag).
DRAWN_CHOICE_LIMIT = 16


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    # Content keys: "section.key" for a text of a check-in section, else a key of the ui texts.
    label: str
    # An example shown inside the empty field, and guidance shown under it.
    placeholder: str | None = None
    hint: str | None = None
    limit: int | None = None
    required: bool = False
    # Values and the content keys of their labels, for a choice.
    choices: tuple[tuple[str, str], ...] = ()
    # Content key of the text a box starts with; for a choice, the value picked at first.
    starts_with: str | None = None
    # Formats the label ("Goal {number}"), for forms that repeat a group of fields.
    number: int | None = None

    def picked(self, value: object) -> str:
        """A choice's submitted value if this field offers it, else "". A choice whose options
        its route draws (none here: the languages there are) passes a short value on to the
        route, which checks it."""
        if not isinstance(value, str):
            return ""
        if self.choices:
            return value if value in {offered for offered, _ in self.choices} else ""
        return value if len(value) <= DRAWN_CHOICE_LIMIT else ""


@dataclass(frozen=True)
class FormSpec:
    form_id: str
    title: str
    submit: str
    close: str
    fields: tuple[FieldSpec, ...]
    intro: str | None = None
    context: tuple[tuple[str, ContextKind], ...] = ()
    # The button that opens this form again (from a chat answer, where Teams cannot open a
    # dialog by itself); its value is the form's "person" context, if it has one.
    opener: str | None = None


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind
    label: str
    placeholder: str | None
    hint: str | None
    limit: int | None
    required: bool
    # What the field shows when it opens: text, an ISO date, a user id or a choice's value.
    value: str = ""
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Form:
    """One form as a person sees it; `intro` may name people (messages.model.mention)."""

    form_id: str
    title: str
    submit: str
    close: str
    intro: str | None
    fields: tuple[Field, ...]
    context: Mapping[str, int | str] = field(default_factory=dict)
    # Inline errors by field name, shown under the fields (a form shown again).
    errors: Mapping[str, str] = field(default_factory=dict)
    reopen: Button | None = None

    @property
    def first_field(self) -> str:
        return self.fields[0].name


def text_of(locale: LocaleContent, key: str, **values: object) -> str:
    """A content text by key: "section.key" in the check-in sections, else a ui text."""
    section, dot, name = key.partition(".")
    if dot:
        return locale.checkin(section, name, **values)
    return locale.text(key, **values)


def draw(
    spec: FormSpec,
    locale: LocaleContent,
    *,
    values: Mapping[str, str] | None = None,
    context: Mapping[str, int | str | None] | None = None,
    errors: Mapping[str, str] | None = None,
    intro: Mapping[str, object] | None = None,
) -> Form:
    """The form in `locale`, showing `values` (what is stored, or what was typed)."""
    given = values or {}
    kept = {key: value for key, value in (context or {}).items() if value is not None}
    fields = tuple(_field(spec_field, locale, given) for spec_field in spec.fields)
    reopen = None
    if spec.opener is not None:
        reopen = Button(spec.opener, text_of(locale, spec.title), str(kept.get("person", "form")))
    return Form(
        form_id=spec.form_id,
        title=text_of(locale, spec.title),
        submit=text_of(locale, spec.submit),
        close=text_of(locale, spec.close),
        intro=text_of(locale, spec.intro, **(intro or {})) if spec.intro else None,
        fields=fields,
        context=kept,
        errors=dict(errors or {}),
        reopen=reopen,
    )


def _field(spec: FieldSpec, locale: LocaleContent, values: Mapping[str, str]) -> Field:
    numbered = {"number": spec.number} if spec.number is not None else {}
    value = values.get(spec.name)
    if value is None and spec.starts_with is not None:
        picked = spec.kind == "choice"
        value = spec.starts_with if picked else text_of(locale, spec.starts_with)
    return Field(
        name=spec.name,
        kind=spec.kind,
        label=text_of(locale, spec.label, **numbered),
        placeholder=text_of(locale, spec.placeholder) if spec.placeholder else None,
        hint=text_of(locale, spec.hint) if spec.hint else None,
        limit=spec.limit,
        required=spec.required,
        value=value or "",
        choices=tuple(Choice(v, text_of(locale, key)) for v, key in spec.choices),
    )


@dataclass(frozen=True)
class FormValues:
    """What came back from a form: each field's value as a string ("" when empty), already
    cleaned by the platform's reader, and the context it was opened with."""

    form_id: str
    values: Mapping[str, str]
    context: Mapping[str, int | str] = field(default_factory=dict)

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def day(self, name: str) -> date | None:
        found = self.values.get(name, "")
        try:
            return date.fromisoformat(found) if len(found) == 10 else None
        except ValueError:
            return None

    def person(self, name: str) -> str | None:
        return self.values.get(name) or None

    def row(self, key: str) -> int | None:
        found = self.context.get(key)
        return found if type(found) is int else None

    def context_person(self, key: str) -> str | None:
        found = self.context.get(key)
        return found if isinstance(found, str) and found else None

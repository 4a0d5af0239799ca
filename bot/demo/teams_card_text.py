"""Adaptive Cards as a person reads them, in plain text for a terminal: a card's title
underlined, its texts wrapped, quieter notes indented, a quoted block set in, facts as
"name: value", a dialog's inputs as labelled fields, and buttons as [ Button ]."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from bot.demo.story import WIDTH

Card = dict[str, Any]
PEOPLE_PICKER = "graph.microsoft.com/users"


@dataclass(frozen=True)
class ClientWords:
    """What Teams' own client shows in an empty people picker or date field, in the language
    the story plays in (the card sends no text for them)."""

    picker: str = "Search for a person"
    date: str = "Select a date"


def render_card(card: Card, client: ClientWords = ClientWords()) -> str:
    lines: list[str] = []
    for element in card.get("body") or []:
        lines += _element(element, client=client)
    if card.get("actions"):
        lines.append(_buttons(card["actions"]))
    return "\n".join(lines).rstrip()


def last_line(card: Card) -> str:
    """What a person reads last on the card, on one line: its buttons, or its last text."""
    if card.get("actions"):
        return _buttons(card["actions"])
    said = [line for line in _element((card.get("body") or [{}])[-1], wrap=False) if line]
    return said[-1].strip() if said else ""


def _element(element: Any, *, wrap: bool = True, client: ClientWords = ClientWords()) -> list[str]:
    if not isinstance(element, dict):
        return []
    kind = element.get("type")
    if kind == "RichTextBlock":
        runs = [run for run in element.get("inlines") or [] if isinstance(run, dict)]
        return _text("".join(str(run.get("text") or "") for run in runs), runs, wrap)
    if kind == "TextBlock":
        return _text(str(element.get("text") or ""), [element], wrap)
    if kind == "Container":
        inner: list[str] = []
        for item in element.get("items") or []:
            inner += _element(item, client=client)
        while inner and not inner[-1]:
            inner.pop()
        set_in = element.get("style") == "emphasis"
        return [f"  {line}".rstrip() if set_in else line for line in inner] + [""]
    if kind == "FactSet":
        facts = [f"{fact.get('title')}: {fact.get('value')}" for fact in element.get("facts") or []]
        return [*facts, ""]
    if kind == "ActionSet":
        return [_buttons(element.get("actions") or [])]
    if isinstance(kind, str) and kind.startswith("Input."):
        return _input(element, client)
    return []


def _text(text: str, runs: list[dict[str, Any]], wrap: bool = True) -> list[str]:
    """A block of text: a heading when it is large and bold, a quiet note when subtle."""
    if runs and all(r.get("size") == "Large" and r.get("weight") == "Bolder" for r in runs):
        return [text, "─" * min(len(text), WIDTH)]
    indent = "  " if runs and all(r.get("isSubtle") for r in runs) else ""
    return [*_wrap(text, indent, wrap), ""]


def _wrap(text: str, indent: str, wrap: bool = True) -> list[str]:
    if not wrap:
        return [indent + line for line in text.split("\n")]
    lines: list[str] = []
    for paragraph in text.split("\n"):
        bullet = paragraph.startswith("•")
        lines += textwrap.wrap(
            paragraph,
            WIDTH,
            initial_indent=indent,
            subsequent_indent=indent + ("   " if bullet else ""),
        ) or [""]
    return lines


def _buttons(actions: list[Any]) -> str:
    return "  ".join(f"[ {a.get('title')} ]" for a in actions if isinstance(a, dict))


def _input(element: dict[str, Any], client: ClientWords) -> list[str]:
    """A dialog's input: its label (starred when required), then the field."""
    label = str(element.get("label") or element.get("id") or "")
    lines = [label + (" *" if element.get("isRequired") else "")]
    value = str(element.get("value") or "")
    kind = element.get("type")
    if kind == "Input.ChoiceSet" and (element.get("choices.data") or {}).get("dataset"):
        lines.append(f"  [ {value or client.picker} ]")
    elif kind == "Input.ChoiceSet":
        for choice in element.get("choices") or []:
            mark = "•" if choice.get("value") == value else " "
            lines.append(f"  ({mark}) {choice.get('title')}")
    elif kind == "Input.Date":
        lines.append(f"  [ {value or client.date} ]")
    else:
        shown = value or str(element.get("placeholder") or "")
        field = textwrap.shorten(shown, WIDTH - 8, placeholder=" …") if shown else " " * 30
        lines.append(f"  [ {field} ]")
        if element.get("isMultiline"):
            lines.append("  [ " + " " * max(len(field), 30) + " ]")
    return [*lines, ""]

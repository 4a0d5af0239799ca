"""The neutral message model: what handlers return and platform renderers turn into UI."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Literal

ButtonStyle = Literal["primary", "danger"] | None

# A person named in a text: each platform's renderer shows it as that person's name.
MENTION_MARK = "\u2063"  # INVISIBLE SEPARATOR, never typed on purpose
MENTION = re.compile(f"{MENTION_MARK}@([A-Za-z0-9:_-]{{1,64}}){MENTION_MARK}")


def mention(user_id: str) -> str:
    return f"{MENTION_MARK}@{user_id}{MENTION_MARK}"


# What typed text may never carry: the mention mark (typed text must not name anyone the way
# mention() does), NUL (PostgreSQL refuses it in text), the other C0 and C1 control characters,
# and lone surrogates (no database encodes them). Newlines, carriage returns and tabs stay.
_NOT_TYPED = re.compile(rf"[{MENTION_MARK}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_typed(text: str) -> str:
    """Text a person typed, as it may be stored and shown: every adapter applies this where
    typed text comes in (form fields, command and message text), so that nobody can forge a
    mention or make the database refuse a row."""
    return _NOT_TYPED.sub("", text)


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Preformatted:
    """Text to copy as it stands, shown in a box."""

    text: str


TextBlock = Paragraph | Bullets | Preformatted


@dataclass(frozen=True)
class Link:
    lead: str
    url: str


@dataclass(frozen=True)
class Confirm:
    """A question the platform asks before the button takes effect."""

    title: str
    text: str
    yes: str
    no: str


@dataclass(frozen=True)
class Button:
    action: str
    label: str
    value: str
    style: ButtonStyle = None
    confirm: Confirm | None = None


@dataclass(frozen=True)
class Row:
    """A line with buttons of its own (a goal with "done" and "let it go")."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Message:
    """One message. `notification` is what a lock screen shows: always neutral."""

    notification: str
    title: str | None = None
    blocks: tuple[TextBlock, ...] = ()
    links: tuple[Link, ...] = ()
    todo: str | None = None
    todo_lead: str | None = None
    note: str | None = None
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    rows: tuple[Row, ...] = ()


@functools.lru_cache(maxsize=1024)
def parse_text(text: str) -> tuple[TextBlock, ...]:
    """Content markup: blank lines separate paragraphs, lines starting "- " are bullets.

    Only the guidance's own texts come here, a few hundred of them, parsed once each (a
    stage message is composed for every person it goes to)."""
    blocks: list[TextBlock] = []
    for chunk in re.split(r"\n[ \t]*\n", text.strip()):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        paragraph: list[str] = []
        bullets: list[str] = []
        for line in lines:
            if line.startswith("- "):
                if paragraph:
                    blocks.append(Paragraph(" ".join(paragraph)))
                    paragraph = []
                bullets.append(line[2:].strip())
            else:
                if bullets:
                    blocks.append(Bullets(tuple(bullets)))
                    bullets = []
                paragraph.append(line)
        if paragraph:
            blocks.append(Paragraph(" ".join(paragraph)))
        if bullets:
            blocks.append(Bullets(tuple(bullets)))
    return tuple(blocks)

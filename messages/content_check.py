"""`notpromoted content check`: what loading a content folder cannot see, across its languages.

The loader already refuses a folder with a key missing, an empty text, a placeholder a text may
not use, or a word two commands share. This goes further, for every locale (those shipped and
any an HR team adds) and both platforms, and lists every problem rather than the first:

- each text uses the same {placeholders} as the English one (a translation that drops {when}
  would leave the person without the time);
- button labels fit a phone (at most 30 characters), form titles and their buttons fit a Slack
  modal (24), choice labels a Slack option (75), titles a Slack header (150), the
  confirmation's parts Slack's confirm dialog, every text a Slack section and a Teams card;
- the folder's name is a locale Babel knows, so dates and day names follow its conventions;
- where the English help names a command, the language's help names one of its own words for
  it, so people can find them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

from messages.content import DEFAULT_LOCALE, Content, LocaleContent
from messages.formatting import knows_locale
from messages.schema import TEAMS_MENU

BUTTON_LIMIT = 30  # a phone shows about this much of a button
MODAL_LIMIT = 24  # Slack: a modal's title, submit and close
OPTION_LIMIT = 75  # Slack: an option of a select or radio group
HEADER_LIMIT = 150  # Slack: a header block; Teams cards are cut at the same place
TEXT_LIMIT = 2900  # under Slack's 3,000 characters per section (Teams cards: 3,000)
CONFIRM_LIMITS = {"erase_confirm_title": 100, "erase_confirm_text": 300}
# Teams' app manifest: the short description, and each command menu entry's description.
MANIFEST_LIMITS = {"app_description_short": 80, **{f"menu_{c}": 128 for c in TEAMS_MENU}}

# Labels of buttons that are not named "button..." (the Home's goal and forget buttons, the
# erase confirmation's answers).
OTHER_BUTTONS = frozenset(
    {
        "goal_done",
        "goal_drop",
        "forget_confirm",
        "forget_cancel",
        "erase_confirm_yes",
        "erase_confirm_no",
    }
)
# Named like a button, said like a sentence.
NOT_BUTTONS = frozenset({"button_expired"})
# Texts shown as a modal's title or its two buttons.
MODAL_SUFFIXES = ("_form_title", "_form_submit", "_form_close")


@dataclass(frozen=True)
class Problem:
    locale: str
    platform: str
    key: str
    what: str

    def __str__(self) -> str:
        return f"{self.locale}/{self.platform}: {self.key}: {self.what}"


def check_content(content: Content) -> list[Problem]:
    """Every problem in every locale, English included (its limits hold for it too)."""
    english = content.locales[DEFAULT_LOCALE]
    problems: list[Problem] = []
    for name, variants in sorted(content.locales.items()):
        if not knows_locale(name):
            problems.append(
                Problem(
                    name,
                    "-",
                    "(folder)",
                    "Babel knows no locale of this name: dates and "
                    "day names would be written as in English; name the folder like de, pt-BR",
                )
            )
        for platform, texts in sorted(variants.items()):
            problems += _check_locale(texts, english[platform])
    return problems


def _check_locale(texts: LocaleContent, english: LocaleContent) -> list[Problem]:
    found: list[Problem] = []

    def problem(key: str, what: str) -> None:
        found.append(Problem(texts.locale, texts.platform, key, what))

    theirs, ours = dict(texts_of(texts)), dict(texts_of(english))
    for key, text in theirs.items():
        wanted = ours.get(key)
        if wanted is not None and _placeholders(text) != _placeholders(wanted):
            problem(
                key,
                f"uses {{{'}, {'.join(sorted(_placeholders(text))) or 'no placeholder'}}} "
                f"where English uses {{{'}, {'.join(sorted(_placeholders(wanted)))}}}",
            )
        limit = _limit(key)
        if len(text) > limit:
            problem(key, f"is {len(text)} characters, more than {limit} ({_why(key)})")
    for command, words in texts.commands.items():
        if not _names(english.ui["help_body"], command):
            continue  # the English help does not list it either
        if not any(_names(texts.ui["help_body"], word) for word in words):
            problem(
                "help_body",
                f"does not name the word {words[0]!r} for '{command}' (commands.toml): list "
                "the language's own words in its help",
            )
    return found


def texts_of(locale: LocaleContent) -> Iterator[tuple[str, str]]:
    """Every text of a locale by a dotted key: ui keys, "section.key", "stage.<id>.title"."""
    yield from locale.ui.items()
    for section, table in locale.checkins.items():
        for key, text in table.items():
            yield f"{section}.{key}", text
    for stage_id, stage in locale.stages.items():
        yield f"stage.{stage_id}.title", stage.title
        yield f"stage.{stage_id}.body", stage.body
        yield f"stage.{stage_id}.todo", stage.todo
        for link in stage.links:
            yield f"stage.{stage_id}.link.{link.key}", link.text


def _limit(key: str) -> int:
    name = key.rpartition(".")[2]
    if key in CONFIRM_LIMITS:
        return CONFIRM_LIMITS[key]
    if key in MANIFEST_LIMITS:
        return MANIFEST_LIMITS[key]
    if key.endswith(MODAL_SUFFIXES) or (
        "." in key and name in ("title", "submit", "close") and key.split(".")[0].endswith("form")
    ):
        return MODAL_LIMIT
    if is_button(key):
        return BUTTON_LIMIT
    if name.startswith("tone_") or key == "language_form_automatic":
        return OPTION_LIMIT
    if name.endswith("title") or name.startswith("title"):
        return HEADER_LIMIT
    return TEXT_LIMIT


def is_button(key: str) -> bool:
    """Whether the text at a dotted key is a button's label."""
    name = key.rpartition(".")[2]
    if name in NOT_BUTTONS:
        return False
    return "button" in name or name in OTHER_BUTTONS


def _why(key: str) -> str:
    limit = _limit(key)
    if limit == BUTTON_LIMIT:
        return "a button must fit a phone"
    if limit == MODAL_LIMIT:
        return "Slack's limit for a form's title and buttons"
    if limit == OPTION_LIMIT:
        return "Slack's limit for a choice"
    if limit == HEADER_LIMIT:
        return "Slack's limit for a heading"
    if key in CONFIRM_LIMITS:
        return "Slack's limit for a confirmation"
    if key in MANIFEST_LIMITS:
        return "Teams' limit in the app manifest"
    return "Slack's limit for a block of text"


def _names(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text.lower()) is not None


def _placeholders(text: str) -> frozenset[str]:
    try:
        return frozenset(n for _, n, _, _ in string.Formatter().parse(text) if n is not None)
    except ValueError:
        return frozenset()  # broken braces: the loader names them

"""Dates, times and day names as a person's language writes them, through Babel (CLDR), for
the {date}, {time}, {weekday} and {days} the texts leave open. Nobody writes month or day
names by hand: a locale folder named like a CLDR locale ("de", "pt-BR") gets its conventions
for free, and one Babel does not know is written as English writes them.

Clock times are 24-hour in every language (CLDR's "Hm" skeleton: 09:00 in English, German
and French, 9:00 in Spanish): the working hours a person types and reads are 24-hour too, and
a time in a message should read like the hours it falls in.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, get_day_names

FALLBACK = "en"
# Quotes a language's help may put around a word to type, copied with it.
QUOTES = "\"'„“”«»‹›‘’   "


@cache
def babel_locale(name: str) -> Locale:
    """The CLDR locale of a content folder's name; English for a name CLDR does not know."""
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(FALLBACK)


def knows_locale(name: str) -> bool:
    """True if CLDR has the conventions of `name` (the content check asks it of a folder)."""
    try:
        Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


def clock(locale: str, moment: time | datetime) -> str:
    """ "09:00" (Spanish "9:00"): a time of day on the 24-hour clock."""
    return format_skeleton("Hm", moment, locale=babel_locale(locale))


def day_names(locale: str) -> tuple[str, ...]:
    """The seven day names, Monday first, as they stand inside a sentence ("Montag",
    "lundi")."""
    names = get_day_names("wide", context="format", locale=babel_locale(locale))
    return tuple(names[day] for day in range(7))


def list_of_days(locale: str, days: frozenset[int]) -> str:
    """ "Monday, Tuesday, Thursday", Monday first, with the language's separator."""
    names = day_names(locale)
    return ", ".join(names[day] for day in sorted(days))


def day_in_sentence(locale: str, day: date) -> str:
    """A day a few weeks away, with its weekday: "Wed, December 16", "Mi., 16. Dezember"."""
    return format_skeleton("MMMMEd", day, locale=babel_locale(locale))


def short_date(locale: str, day: date) -> str:
    """A date with its year, short: "Dec 16, 2026", "16. Dez. 2026", "16 dic 2026"."""
    return format_skeleton("yMMMd", day, locale=babel_locale(locale))


def full_date(locale: str, day: date) -> str:
    """A date in full, for an agenda: "Wednesday, December 16, 2026"."""
    return format_date(day, format="full", locale=babel_locale(locale))


def day_words(locale: str) -> dict[str, int]:
    """What a person may type for each day ("mo", "montag", "lun", "lunes"), lower case,
    without the abbreviation's dot or accents, to its number (Monday is 0)."""
    words: dict[str, int] = {}
    cldr = babel_locale(locale)
    for width in ("abbreviated", "wide"):  # not "short": French "di" is Sunday, German Tuesday
        for context in ("format", "stand-alone"):
            for day, name in get_day_names(width, context=context, locale=cldr).items():
                words.setdefault(plain_word(name), day)
    return words


def typed_day_names(locale: str) -> tuple[str, ...]:
    """The seven days as a person types them in the hours ("mo", "lun", "mon"), Monday first."""
    names = get_day_names("abbreviated", context="format", locale=babel_locale(locale))
    return tuple(plain_word(names[day]) for day in range(7))


def plain_word(text: str) -> str:
    """ "Mié." -> "mie", "„weiter“" -> "weiter": lower case, without the quotes a help text
    puts around a word, a closing dot or accents (people type "mie" and "mié")."""
    bare = text.strip().strip(QUOTES).lower().rstrip(".")
    decomposed = unicodedata.normalize("NFKD", bare)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_in(locale: str, language: str) -> str:
    """The name of `locale`'s language as `language` writes it in a sentence ("English",
    "anglais", "Englisch"); the folder's own name if CLDR knows neither."""
    return babel_locale(locale).get_display_name(babel_locale(language)) or locale


def language_name(locale: str) -> str:
    """The language's name in itself, capitalised as a list item: "Deutsch", "Français"."""
    name = babel_locale(locale).get_display_name() or locale
    return name[:1].upper() + name[1:]

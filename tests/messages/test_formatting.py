"""Dates, times and day names in each language's conventions, from Babel (CLDR)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from handlers.journey_controls import english_days
from handlers.neutral_messages import format_when
from messages.formatting import (
    clock,
    day_in_sentence,
    day_names,
    full_date,
    language_name,
    list_of_days,
    name_in,
    short_date,
    typed_day_names,
)
from messages.loader import load_content

WEDNESDAY = date(2026, 12, 16)


@pytest.mark.parametrize(
    ("locale", "monday", "at", "in_sentence", "short", "full"),
    [
        (
            "en",
            "Monday",
            "09:05",
            "Wed, December 16",
            "Dec 16, 2026",
            "Wednesday, December 16, 2026",
        ),
        (
            "de",
            "Montag",
            "09:05",
            "Mi., 16. Dezember",
            "16. Dez. 2026",
            "Mittwoch, 16. Dezember 2026",
        ),
        ("fr", "lundi", "09:05", "mer. 16 décembre", "16 déc. 2026", "mercredi 16 décembre 2026"),
        (
            "es",
            "lunes",
            "9:05",
            "mié, 16 de diciembre",
            "16 dic 2026",
            "miércoles, 16 de diciembre de 2026",
        ),
    ],
)
def test_each_language_writes_dates_its_own_way(
    locale: str, monday: str, at: str, in_sentence: str, short: str, full: str
) -> None:
    assert day_names(locale)[0] == monday
    assert clock(locale, time(9, 5)) == at
    assert day_in_sentence(locale, WEDNESDAY) == in_sentence
    assert short_date(locale, WEDNESDAY) == short
    assert full_date(locale, WEDNESDAY) == full


def test_a_folder_babel_does_not_know_is_written_as_english() -> None:
    assert day_names("xx-klingon")[0] == "Monday"
    assert short_date("xx-klingon", WEDNESDAY) == "Dec 16, 2026"


def test_language_names() -> None:
    assert [language_name(x) for x in ("de", "en", "es", "fr")] == [
        "Deutsch",
        "English",
        "Español",
        "Français",
    ]
    assert name_in("en", "fr") == "anglais"
    assert name_in("es", "de") == "Spanisch"


def test_days_typed_in_a_language_are_stored_in_english_words() -> None:
    assert typed_day_names("de")[:4] == ("mo", "di", "mi", "do")
    assert english_days("Mo-Do", "de") == "mon-thu"
    assert english_days("lun,mié,vie", "es") == "mon,wed,fri"
    assert english_days("mie,sab", "es") == "wed,sat"  # typed without accents
    assert english_days("lundi-jeudi", "fr") == "mon-thu"
    assert english_days("mon-thu", "de") == "mon-thu"  # English always reads
    # German "di" is Tuesday; French short "di" (dimanche) is not read in German.
    assert english_days("di", "de") == "tue"
    assert english_days("so", "fr") == "so"  # no day in French: left for the check


def test_when_a_message_comes_in_each_language() -> None:
    content = load_content()
    zone = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 12, 7, 10, 0, tzinfo=zone)  # a Monday
    german = content.for_locale("de", "slack")
    spanish = content.for_locale("es", "slack")
    in_three_weeks = datetime(2026, 12, 30, 9, 0, tzinfo=zone)
    assert "Mi., 30. Dezember" in format_when(german, in_three_weeks, zone, now)
    assert "09:00" in format_when(german, in_three_weeks, zone, now)
    thursday = datetime(2026, 12, 10, 9, 0, tzinfo=zone)
    assert "jueves" in format_when(spanish, thursday, zone, now)
    assert list_of_days("fr", frozenset({0, 1, 4})) == "lundi, mardi, vendredi"

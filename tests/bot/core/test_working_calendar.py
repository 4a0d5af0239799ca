"""bot.core.working_calendar: the next working-day start in the person's own zone, DST included."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.working_calendar import (
    WorkingTime,
    next_working_day_start,
    parse_weekdays,
    person_zone,
)

LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")
HONOLULU = ZoneInfo("Pacific/Honolulu")
SUN_TO_THU = WorkingTime(days=parse_weekdays("sun-thu") or frozenset())


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=zone)


def test_monday_morning_in_london_gives_tuesday_nine() -> None:
    now = local(LONDON, 2026, 11, 23, 10)  # Monday, GMT
    result = next_working_day_start(now, LONDON, WorkingTime())
    assert result == utc(2026, 11, 24, 9)
    assert result.tzinfo is UTC
    assert result.astimezone(LONDON).strftime("%A %H:%M") == "Tuesday 09:00"


def test_london_in_summer_is_one_hour_ahead_of_utc() -> None:
    now = local(LONDON, 2026, 6, 15, 10)  # Monday, BST
    assert next_working_day_start(now, LONDON, WorkingTime()) == utc(2026, 6, 16, 8)


def test_friday_afternoon_gives_monday() -> None:
    now = local(LONDON, 2026, 11, 27, 15)  # Friday
    assert next_working_day_start(now, LONDON, WorkingTime()) == utc(2026, 11, 30, 9)


@pytest.mark.parametrize("day", [28, 29])  # Saturday, Sunday
def test_weekend_gives_monday(day: int) -> None:
    now = local(LONDON, 2026, 11, day, 11)
    assert next_working_day_start(now, LONDON, WorkingTime()) == utc(2026, 11, 30, 9)


def test_late_evening_still_counts_from_today() -> None:
    now = local(LONDON, 2026, 11, 23, 23)  # Monday 23:00
    assert next_working_day_start(now, LONDON, WorkingTime()) == utc(2026, 11, 24, 9)


def test_custom_start_time_is_used() -> None:
    working = WorkingTime(start=time(7, 30), end=time(15, 0))
    now = local(LONDON, 2026, 11, 23, 10)
    assert next_working_day_start(now, LONDON, working) == utc(2026, 11, 24, 7, 30)


def test_sunday_to_thursday_week_thursday_gives_sunday() -> None:
    now = local(LONDON, 2026, 11, 26, 10)  # Thursday
    result = next_working_day_start(now, LONDON, SUN_TO_THU)
    assert result == utc(2026, 11, 29, 9)
    assert result.astimezone(LONDON).strftime("%A") == "Sunday"


def test_sunday_to_thursday_week_friday_and_saturday_give_sunday() -> None:
    for day in (27, 28):
        now = local(LONDON, 2026, 11, day, 10)
        assert next_working_day_start(now, LONDON, SUN_TO_THU) == utc(2026, 11, 29, 9)


def test_sunday_to_thursday_week_sunday_gives_monday() -> None:
    now = local(LONDON, 2026, 11, 29, 10)
    assert next_working_day_start(now, LONDON, SUN_TO_THU) == utc(2026, 11, 30, 9)


def test_across_the_eu_spring_change() -> None:
    # Clocks go forward on Sunday 2026-03-29: Monday 09:00 Berlin is CEST, UTC+2.
    after = next_working_day_start(local(BERLIN, 2026, 3, 28, 12), BERLIN, WorkingTime())
    assert after == utc(2026, 3, 30, 7)
    # A week earlier Berlin is still on CET, UTC+1.
    before = next_working_day_start(local(BERLIN, 2026, 3, 21, 12), BERLIN, WorkingTime())
    assert before == utc(2026, 3, 23, 8)


def test_across_the_us_autumn_change() -> None:
    # Clocks go back on Sunday 2026-11-01: Monday 09:00 New York is EST, UTC-5.
    after = next_working_day_start(local(NEW_YORK, 2026, 10, 30, 15), NEW_YORK, WorkingTime())
    assert after == utc(2026, 11, 2, 14)
    # A week earlier New York is on EDT, UTC-4.
    before = next_working_day_start(local(NEW_YORK, 2026, 10, 23, 15), NEW_YORK, WorkingTime())
    assert before == utc(2026, 10, 26, 13)


def test_us_change_day_itself_as_a_working_day() -> None:
    # Saturday before the change, Sunday working: 09:00 on the change day is already EST.
    now = local(NEW_YORK, 2026, 10, 31, 15)
    assert next_working_day_start(now, NEW_YORK, SUN_TO_THU) == utc(2026, 11, 1, 14)


def test_auckland_local_date_decides_tomorrow() -> None:
    # 20:00 UTC on Monday is already 09:00 on Tuesday in Auckland (NZDT, UTC+13).
    now = utc(2026, 11, 23, 20)
    assert now.astimezone(AUCKLAND).strftime("%A %H:%M") == "Tuesday 09:00"
    result = next_working_day_start(now, AUCKLAND, WorkingTime())
    assert result.astimezone(AUCKLAND).strftime("%Y-%m-%d %A %H:%M") == "2026-11-25 Wednesday 09:00"
    assert result == utc(2026, 11, 24, 20)


def test_auckland_friday_local_gives_monday_even_if_utc_says_thursday() -> None:
    now = utc(2026, 11, 26, 22)  # Thursday in UTC, Friday 11:00 in Auckland
    assert next_working_day_start(now, AUCKLAND, WorkingTime()) == utc(2026, 11, 29, 20)


def test_honolulu_local_date_decides_tomorrow() -> None:
    # 05:00 UTC on Tuesday is still 19:00 on Monday in Honolulu (HST, UTC-10).
    now = utc(2026, 11, 24, 5)
    assert now.astimezone(HONOLULU).strftime("%A") == "Monday"
    result = next_working_day_start(now, HONOLULU, WorkingTime())
    assert result == utc(2026, 11, 24, 19)  # Tuesday 09:00 in Honolulu


def test_the_result_is_always_after_now() -> None:
    for zone in (LONDON, BERLIN, NEW_YORK, AUCKLAND, HONOLULU):
        for hour in range(0, 24, 3):
            now = utc(2026, 11, 23, hour)
            result = next_working_day_start(now, zone, WorkingTime())
            assert result > now
            assert result.astimezone(zone).weekday() in WorkingTime().days
            assert result.astimezone(zone).time() == time(9, 0)


# -- person_zone -------------------------------------------------------------------------


def test_person_zone_uses_the_persons_zone() -> None:
    assert person_zone("Asia/Tokyo", "Europe/Paris") == ZoneInfo("Asia/Tokyo")


def test_person_zone_none_falls_back_to_the_default() -> None:
    assert person_zone(None, "Europe/Paris") == ZoneInfo("Europe/Paris")


def test_person_zone_empty_falls_back_to_the_default() -> None:
    assert person_zone("", "Europe/Paris") == ZoneInfo("Europe/Paris")


def test_person_zone_unknown_falls_back_to_the_default() -> None:
    assert person_zone("Not/AZone", "UTC") == ZoneInfo("UTC")
    assert person_zone("Not/AZone", "America/Chicago") == ZoneInfo("America/Chicago")


def test_person_zone_unknown_everywhere_falls_back_to_utc() -> None:
    assert person_zone("Not/AZone", "Also/NotAZone") == ZoneInfo("UTC")
    assert person_zone("../etc/passwd", "") == ZoneInfo("UTC")


@pytest.mark.parametrize("name", ["Europe", "x" * 5000, "UTC\x00", "zone.tab"])
def test_person_zone_that_zoneinfo_cannot_load_falls_back_to_the_default(name: str) -> None:
    assert person_zone(name, "America/Chicago") == ZoneInfo("America/Chicago")

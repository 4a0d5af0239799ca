"""When things may reach a person: their own time zone, working days and hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import WorkingTime


def person_zone(name: str | None, default: str) -> ZoneInfo:
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def next_working_day_start(now: datetime, zone: ZoneInfo, working: WorkingTime) -> datetime:
    """The start of working hours on the first working day after today, in UTC."""
    day = now.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() not in working.days:
        day += timedelta(days=1)
    # Combining a wall-clock time with the zone picks the offset in force on that date (DST).
    return datetime.combine(day, working.start, tzinfo=zone).astimezone(UTC)

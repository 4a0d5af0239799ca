"""When things may reach a person: their own time zone, working days and hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.config import WorkingTime, load_time_zone


def person_zone(name: str | None, default: str) -> ZoneInfo:
    """The person's zone; the deployment's default (then UTC) when theirs cannot be loaded."""
    for candidate in (name, default):
        zone = load_time_zone(candidate) if candidate else None
        if zone is not None:
            return zone
    return ZoneInfo("UTC")


def next_working_day_start(now: datetime, zone: ZoneInfo, working: WorkingTime) -> datetime:
    """The start of working hours on the first working day after today, in UTC."""
    day = now.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() not in working.days:
        day += timedelta(days=1)
    # Combining a wall-clock time with the zone picks the offset in force on that date (DST).
    return datetime.combine(day, working.start, tzinfo=zone).astimezone(UTC)


def is_working_moment(moment: datetime, zone: ZoneInfo, working: WorkingTime) -> bool:
    local = moment.astimezone(zone)
    return local.weekday() in working.days and working.start <= local.time() < working.end


def next_working_moment(moment: datetime, zone: ZoneInfo, working: WorkingTime) -> datetime:
    """`moment` itself when it falls in working hours, else the next start of working hours."""
    if is_working_moment(moment, zone, working):
        return moment
    local = moment.astimezone(zone)
    day = local.date()
    if local.weekday() in working.days and local.time() < working.start:
        return datetime.combine(day, working.start, tzinfo=zone).astimezone(UTC)
    return next_working_day_start(moment, zone, working)


def add_working_days(start: datetime, count: int, zone: ZoneInfo, working: WorkingTime) -> datetime:
    """`count` working days after `start`, at the same wall-clock time where that is inside
    working hours, else at the start of working hours on that day (in UTC)."""
    local = start.astimezone(zone)
    day = local.date()
    added = 0
    while added < count:
        day += timedelta(days=1)
        if day.weekday() in working.days:
            added += 1
    wall = local.time().replace(tzinfo=None)
    if not working.start <= wall < working.end:
        wall = working.start
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def add_days(start: datetime, count: int, zone: ZoneInfo, working: WorkingTime) -> datetime:
    """`count` calendar days later at the same wall-clock time, moved into working hours."""
    local = start.astimezone(zone)
    target = datetime.combine(local.date() + timedelta(days=count), local.time(), tzinfo=zone)
    return next_working_moment(target.astimezone(UTC), zone, working)


def spread(checkin_id: int, minutes: int) -> timedelta:
    """A stable offset within the first minutes of working hours, so that a thousand people
    whose messages fell due overnight do not all get them in the same second."""
    if minutes <= 0:
        return timedelta(0)
    return timedelta(seconds=(checkin_id * 7919) % (minutes * 60))

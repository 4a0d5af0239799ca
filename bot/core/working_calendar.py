"""When things may reach a person: their own time zone, working days and hours, and reading
those from text (the settings, the hours form)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WorkingTime:
    start: time = time(9, 0)
    end: time = time(17, 0)
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday is 0, as in datetime.weekday()


# The longest IANA zone name is 32 characters ("America/Argentina/ComodRivadavia"), and names
# are letters, digits, "_", "+", "-" and "/" between parts. Anything else is refused before
# zoneinfo turns it into a file path.
MAX_TIME_ZONE_LENGTH = 64
_TIME_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def load_time_zone(name: str) -> ZoneInfo | None:
    """The zone `name` names, or None for anything zoneinfo cannot load.

    ZoneInfo reads the name as a path under its zone folders: besides ZoneInfoNotFoundError
    it raises ValueError (an absolute path, "..", a NUL byte, a file that is not a zone) and
    OSError (IsADirectoryError for "Europe", "File name too long" for 5,000 characters).
    """
    if not isinstance(name, str) or len(name) > MAX_TIME_ZONE_LENGTH:
        return None
    if not _TIME_ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def is_time_zone(name: str) -> bool:
    """True for a name zoneinfo loads; never raises, whatever a person or a platform sent."""
    return load_time_zone(name) is not None


def parse_hours(text: str) -> tuple[time, time] | None:
    """ "09:00-17:00" to (start, end); "24:00" is the end of the day. None if malformed."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text.strip())
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start = time(h1, m1)
        end = time.max if (h2, m2) == (24, 0) else time(h2, m2)
    except ValueError:
        return None
    return (start, end) if start < end else None


def parse_weekdays(text: str) -> frozenset[int] | None:
    """`mon-fri`, `sun-thu` or `mon,tue,thu` to weekday numbers (Monday is 0); None if malformed."""
    chosen: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        bounds = part.split("-")
        if not part or len(bounds) > 2 or any(b not in _WEEKDAYS for b in bounds):
            return None
        first, last = _WEEKDAYS.index(bounds[0]), _WEEKDAYS.index(bounds[-1])
        day = first
        chosen.add(day)
        while day != last:
            day = (day + 1) % 7
            chosen.add(day)
    return frozenset(chosen)


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

"""When each check-in falls due for a person: their time zone, their working time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import ids
from bot.config import Settings, WorkingTime, parse_hours, parse_weekdays
from bot.models import Checkin, CheckinStatus, Journey, JourneyStatus, Person, Workspace
from messages.loader import Timing
from scheduler.timing import add_days, add_working_days, person_zone, spread

# Check-ins counted from the start of the journey, and so moved when the person's zone changes.
FROM_START = (
    ids.CHECKIN_KIND_FEEDBACK_NUDGE,
    ids.CHECKIN_KIND_GOALS_NUDGE,
    ids.CHECKIN_KIND_LOOKING_BACK,
)


def working_time(
    default: WorkingTime, *, workspace: Workspace | None = None, person: Person | None = None
) -> WorkingTime:
    """The deployment's working time, overridden by the workspace's, then by the person's."""
    start, end, days = default.start, default.end, default.days
    for source in (workspace, person):
        if source is None:
            continue
        hours = parse_hours(source.work_hours) if source.work_hours else None
        if hours is not None:
            start, end = hours
        chosen = parse_weekdays(source.work_days) if source.work_days else None
        if chosen:
            days = chosen
    return WorkingTime(start=start, end=end, days=days)


def find_workspace(session: Session, *, platform: str, workspace_id: str) -> Workspace | None:
    return session.exec(
        select(Workspace).where(
            Workspace.platform == platform, Workspace.workspace_id == workspace_id
        )
    ).first()


def person_time(
    session: Session, *, person: Person, settings: Settings
) -> tuple[ZoneInfo, WorkingTime]:
    workspace = find_workspace(session, platform=person.platform, workspace_id=person.workspace_id)
    return (
        person_zone(person.zone_name, settings.default_time_zone),
        working_time(settings.working_time, workspace=workspace, person=person),
    )


def due_from_start(
    kind: str, *, started_at: datetime, zone: ZoneInfo, working: WorkingTime, timing: Timing
) -> datetime:
    if kind == ids.CHECKIN_KIND_FEEDBACK_NUDGE:
        return add_working_days(started_at, timing.feedback_nudge_working_days, zone, working)
    if kind == ids.CHECKIN_KIND_GOALS_NUDGE:
        return add_working_days(started_at, timing.goals_nudge_working_days, zone, working)
    if kind == ids.CHECKIN_KIND_LOOKING_BACK:
        return add_days(started_at, timing.looking_back_days, zone, working)
    raise ValueError(kind)


def add_checkin(
    session: Session,
    *,
    journey: Journey,
    kind: str,
    key: str,
    due_at: datetime,
    now: datetime,
    within_hours: bool = True,
    spread_minutes: int = 0,
) -> Checkin | None:
    """Schedule a check-in once: None if this journey already has one under `key`."""
    assert journey.id is not None
    checkin = _add_once(
        session,
        Checkin(
            journey_id=journey.id,
            kind=kind,
            key=key,
            due_at=due_at,
            within_hours=within_hours,
            created_at=now,
        ),
        Checkin.journey_id == journey.id,
    )
    if checkin is not None and checkin.id is not None and spread_minutes:
        checkin.due_at = due_at + spread(checkin.id, spread_minutes)
        session.add(checkin)
    return checkin


def add_message(
    session: Session,
    *,
    recipient: Person,
    kind: str,
    key: str,
    due_at: datetime,
    now: datetime,
    meeting_id: int | None = None,
    within_hours: bool = True,
) -> Checkin | None:
    """Schedule a message to one person outside any journey (a feedback meeting's), once."""
    assert recipient.id is not None
    return _add_once(
        session,
        Checkin(
            recipient_id=recipient.id,
            meeting_id=meeting_id,
            kind=kind,
            key=key,
            due_at=due_at,
            within_hours=within_hours,
            created_at=now,
        ),
        Checkin.recipient_id == recipient.id,
        Checkin.meeting_id == meeting_id,
    )


def _add_once(session: Session, checkin: Checkin, *same: Any) -> Checkin | None:
    """Insert the row unless one with its key and the `same` conditions exists."""
    if session.exec(select(Checkin).where(Checkin.key == checkin.key, *same)).first():
        return None
    session.add(checkin)
    session.flush()
    return checkin


def next_key(session: Session, *, journey: Journey, kind: str) -> str:
    """A fresh unique key for one more check-in of `kind` in this journey."""
    count = len(
        session.exec(
            select(Checkin.id).where(Checkin.journey_id == journey.id, Checkin.kind == kind)
        ).all()
    )
    return f"{kind}:{count + 1}"


def plan_start_checkins(
    session: Session,
    *,
    journey: Journey,
    person: Person,
    settings: Settings,
    timing: Timing,
    now: datetime,
) -> None:
    """The check-ins every journey gets: feedback, goals, and a look back.

    For a journey just begun, in the same transaction: it has no check-ins of these kinds yet,
    so they are added without looking, and written in one go at commit.
    """
    assert journey.id is not None
    zone, working = person_time(session, person=person, settings=settings)
    planned = [
        Checkin(
            journey_id=journey.id,
            kind=kind,
            key=kind,
            due_at=due_from_start(
                kind, started_at=journey.started_at, zone=zone, working=working, timing=timing
            ),
            created_at=now,
        )
        for kind in FROM_START
    ]
    session.add_all(planned)
    session.flush()
    for checkin in planned:
        assert checkin.id is not None
        checkin.due_at += spread(checkin.id, timing.spread_minutes)


def replan_for_person(
    session: Session, *, person: Person, settings: Settings, timing: Timing
) -> int:
    """After a person's time zone or working time changed: move what is counted from the start."""
    zone, working = person_time(session, person=person, settings=settings)
    # Found through the person's journeys, then filtered here: a condition on the check-in's
    # status would let SQLite walk every pending row of every person by the status index.
    found = session.exec(
        select(Checkin, Journey)
        .join(Journey, col(Journey.id) == col(Checkin.journey_id))
        .where(Journey.person_id == person.id, col(Journey.status) != JourneyStatus.STOPPED)
    ).all()
    rows = [
        (checkin, journey)
        for checkin, journey in found
        # the first of each kind, not a snoozed repeat
        if checkin.status == CheckinStatus.PENDING and checkin.key in FROM_START
    ]
    for checkin, journey in rows:
        due = due_from_start(
            checkin.kind, started_at=journey.started_at, zone=zone, working=working, timing=timing
        )
        checkin.due_at = due + spread(checkin.id or 0, timing.spread_minutes)
        session.add(checkin)
    return len(rows)

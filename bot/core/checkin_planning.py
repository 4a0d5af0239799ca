"""When each check-in falls due for a person: their time zone, their working time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core import ids
from bot.core.config import Settings
from bot.core.models import Checkin, Journey, Person, Workspace
from bot.core.storage import checkins, inserts, journeys
from bot.core.working_calendar import (
    WorkingTime,
    add_days,
    add_working_days,
    parse_hours,
    parse_weekdays,
    person_zone,
    spread,
)
from messages.content import Timing

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
    return overridden_working_time(
        default,
        *((source.work_hours, source.work_days) for source in (workspace, person) if source),
    )


def overridden_working_time(
    default: WorkingTime, *overrides: tuple[str | None, str | None]
) -> WorkingTime:
    """`default` with each (hours, days) pair laid over it in turn; None keeps what was."""
    start, end, days = default.start, default.end, default.days
    for work_hours, work_days in overrides:
        hours = parse_hours(work_hours) if work_hours else None
        if hours is not None:
            start, end = hours
        chosen = parse_weekdays(work_days) if work_days else None
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
    journey_id: int,
    started_at: datetime,
    zone: ZoneInfo,
    working: WorkingTime,
    timing: Timing,
    now: datetime,
) -> None:
    """The check-ins every journey gets: feedback, goals, and a look back.

    For a journey just begun, in the same transaction: it has no check-ins of these kinds yet,
    so they are added without looking, in one INSERT (this runs before a new person's
    command is answered), then spread by their ids.
    """
    due = [
        due_from_start(kind, started_at=started_at, zone=zone, working=working, timing=timing)
        for kind in FROM_START
    ]
    ids = inserts.insert_rows(
        session,
        Checkin,
        [
            {"journey_id": journey_id, "kind": kind, "key": kind, "due_at": at, "created_at": now}
            for kind, at in zip(FROM_START, due, strict=True)
        ],
    )
    if timing.spread_minutes:
        checkins.set_due_times(
            session,
            {
                checkin_id: at + spread(checkin_id, timing.spread_minutes)
                for checkin_id, at in zip(ids, due, strict=True)
            },
        )


def replan_for_person(
    session: Session, *, person: Person, settings: Settings, timing: Timing
) -> int:
    """After a person's time zone or working time changed: move what is counted from the start."""
    assert person.id is not None
    zone, working = person_time(session, person=person, settings=settings)
    session.flush()
    moved = replan_start_checkins(
        session, person_id=person.id, zone=zone, working=working, timing=timing
    )
    session.expire_all()  # the rows were moved under any copies this session holds
    return moved


def replan_start_checkins(
    session: Session, *, person_id: int, zone: ZoneInfo, working: WorkingTime, timing: Timing
) -> int:
    """Move a person's waiting check-ins that count from a journey's start to `zone` and
    `working`; how many moved. Plain SQL: the dispatcher runs this for every new person."""
    found = journeys.waiting_start_checkins(session, person_id=person_id, keys=FROM_START)
    checkins.set_due_times(
        session,
        {
            checkin_id: due_from_start(
                kind, started_at=started_at, zone=zone, working=working, timing=timing
            )
            + spread(checkin_id, timing.spread_minutes)
            for checkin_id, kind, started_at in found
        },
    )
    return len(found)

"""Journeys: a person's open or latest one, its live stage message, and the rows waiting in
it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from bot.core.ids import CHECKIN_KIND_STAGE
from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus

# Built once: on the path a person waits on, building a statement costs more than running it.
_JOURNEY = Journey.__table__  # type: ignore[attr-defined]
_CHECKIN = Checkin.__table__  # type: ignore[attr-defined]
_SET_CURRENT = (
    update(_JOURNEY)
    .where(_JOURNEY.c.id == bindparam("row_id"))
    .values(current_checkin_id=bindparam("current"))
)

_WAITING_START = (
    select_columns(
        _CHECKIN.c.id, _CHECKIN.c.kind, _CHECKIN.c.key, _CHECKIN.c.status, _JOURNEY.c.started_at
    )
    .join(_JOURNEY, _JOURNEY.c.id == _CHECKIN.c.journey_id)
    .where(
        _JOURNEY.c.person_id == bindparam("person"),
        _JOURNEY.c.status != JourneyStatus.STOPPED,
    )
)


def waiting_start_checkins(
    session: Session, *, person_id: int, keys: Sequence[str]
) -> list[tuple[int, str, datetime]]:
    """(id, kind, journey start) of a person's pending rows under `keys`, in journeys that go on.

    Found through the person's journeys, then filtered here: a condition on the check-in's
    status alone would let SQLite walk every pending row of every person by the status index.
    """
    rows = session.connection().execute(_WAITING_START, {"person": person_id})
    return [
        (checkin_id, kind, started_at)
        for checkin_id, kind, key, status, started_at in rows
        if status == CheckinStatus.PENDING and key in keys
    ]


def open_journey(session: Session, *, person_id: int) -> Journey | None:
    return session.exec(
        select(Journey).where(
            Journey.person_id == person_id, col(Journey.status).in_(JourneyStatus.OPEN)
        )
    ).first()


def latest_journey(session: Session, *, person_id: int) -> Journey | None:
    return session.exec(
        select(Journey)
        .where(Journey.person_id == person_id)
        .order_by(col(Journey.id).desc())
        .limit(1)
    ).first()


def add_stage_checkin(
    session: Session,
    *,
    journey: Journey,
    stage_id: str,
    due_at: datetime,
    now: datetime,
    supersedes: int | None = None,
    within_hours: bool = False,
) -> Checkin:
    """Schedule a stage message and make it the journey's live one.

    Stages answer something the person just did, so they go out at once, whatever the hour,
    unless `within_hours` (a step the person asked to see again tomorrow).
    """
    assert journey.id is not None
    journey.deliveries += 1
    checkin = Checkin(
        journey_id=journey.id,
        kind=CHECKIN_KIND_STAGE,
        key=stage_key(stage_id, journey.deliveries),
        stage_id=stage_id,
        due_at=due_at,
        within_hours=within_hours,
        supersedes_checkin_id=supersedes,
        created_at=now,
    )
    session.add(checkin)
    session.flush()
    journey.current_checkin_id = checkin.id
    journey.updated_at = now
    session.add(journey)
    return checkin


def stage_key(stage_id: str, delivery: int) -> str:
    """A stage message's key: one per delivery of the journey, so a repeat is a new row."""
    return f"{CHECKIN_KIND_STAGE}:{stage_id}:{delivery}"


def set_current_checkin(session: Session, *, journey_id: int, checkin_id: int) -> None:
    session.connection().execute(_SET_CURRENT, {"row_id": journey_id, "current": checkin_id})


def answer_live_checkin(session: Session, *, checkin_id: int, answer: str, now: datetime) -> bool:
    """Record a click on the journey's live message, atomically: of several concurrent clicks,
    exactly one gets True, and none on a message that is no longer the live one."""
    live = (
        select(Journey.id)
        .where(
            col(Journey.id) == col(Checkin.journey_id),
            col(Journey.current_checkin_id) == col(Checkin.id),
            col(Journey.status).in_(JourneyStatus.OPEN),
        )
        .exists()
    )
    result = session.exec(
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.answered_at).is_(None), live)
        .values(answer=answer, answered_at=now)
    )
    return result.rowcount == 1


def cancel_pending(session: Session, *, journey_id: int) -> int:
    result = session.exec(
        update(Checkin)
        .where(
            col(Checkin.journey_id) == journey_id,
            col(Checkin.status).in_((CheckinStatus.PENDING, CheckinStatus.CLAIMED)),
        )
        .values(status=CheckinStatus.CANCELLED, lease_owner=None, lease_expires_at=None)
    )
    return result.rowcount


def pending_checkin(session: Session, *, journey_id: int) -> Checkin | None:
    """The journey's next stage message that is scheduled but not sent (a snoozed step)."""
    return session.exec(
        select(Checkin)
        .where(
            Checkin.journey_id == journey_id,
            Checkin.kind == CHECKIN_KIND_STAGE,
            col(Checkin.status).in_((CheckinStatus.PENDING, CheckinStatus.CLAIMED)),
        )
        .order_by(col(Checkin.due_at))
        .limit(1)
    ).first()

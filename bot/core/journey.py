"""The journey's rules: starting, moving on, snoozing, stopping. Pure database work, no platform."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session

from bot.core.checkin_planning import add_checkin
from bot.core.ids import CHECKIN_KIND_FINISHED, CHECKIN_KIND_STAGE
from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus
from bot.core.storage import checkins, inserts, journeys
from bot.core.working_calendar import spread


class Begun(NamedTuple):
    journey_id: int
    checkin_id: int


def begin(session: Session, *, person_id: int, first_stage: str, now: datetime) -> Begun:
    """A new journey and its first stage message, due now, in the caller's transaction.

    Plain INSERTs, no ORM objects: this runs before a new person's command is answered.
    """
    journey_id = inserts.insert_row(
        session,
        Journey,
        person_id=person_id,
        status=JourneyStatus.ACTIVE,
        stage_id=first_stage,
        deliveries=1,
        started_at=now,
        updated_at=now,
    )
    checkin_id = inserts.insert_row(
        session,
        Checkin,
        journey_id=journey_id,
        kind=CHECKIN_KIND_STAGE,
        key=journeys.stage_key(first_stage, 1),
        stage_id=first_stage,
        status=CheckinStatus.PENDING,
        due_at=now,
        within_hours=False,
        attempts=0,
        created_at=now,
    )
    journeys.set_current_checkin(session, journey_id=journey_id, checkin_id=checkin_id)
    return Begun(journey_id=journey_id, checkin_id=checkin_id)


def redeliver(session: Session, *, journey: Journey, now: datetime) -> Checkin:
    """Bring the current step back now, without ever leaving two live copies of it.

    A scheduled message (a snoozed step, say) is moved to now; a delivered step whose buttons
    are still live is replaced by a fresh copy, and the old copy is marked superseded.
    """
    assert journey.id is not None
    journey.status = JourneyStatus.ACTIVE
    journey.updated_at = now
    waiting = journeys.pending_checkin(session, journey_id=journey.id)
    if waiting is not None:
        if waiting.status == CheckinStatus.PENDING and waiting.due_at > now:
            waiting.due_at = now
            waiting.within_hours = False  # asked for now, so now, whatever the hour
            session.add(waiting)
        session.add(journey)
        return waiting
    supersedes = None
    if journey.current_checkin_id is not None:
        current = session.get(Checkin, journey.current_checkin_id)
        if current is not None and current.answered_at is None:
            checkins.answer_checkin(
                session, checkin_id=current.id or 0, answer="superseded", now=now
            )
            if current.status == CheckinStatus.SENT:
                supersedes = current.id
    return journeys.add_stage_checkin(
        session,
        journey=journey,
        stage_id=journey.stage_id,
        due_at=now,
        now=now,
        supersedes=supersedes,
    )


def advance(
    session: Session, *, journey: Journey, next_stage: str | None, now: datetime
) -> Checkin:
    """Move to the next step, or finish the journey after the last one."""
    journey.status = JourneyStatus.ACTIVE
    if next_stage is not None:
        journey.stage_id = next_stage
        return journeys.add_stage_checkin(
            session, journey=journey, stage_id=next_stage, due_at=now, now=now
        )
    assert journey.id is not None
    journey.status = JourneyStatus.COMPLETED
    journey.ended_at = now
    journey.updated_at = now
    journey.current_checkin_id = None
    session.add(journey)
    finished = add_checkin(
        session,
        journey=journey,
        kind=CHECKIN_KIND_FINISHED,
        key=CHECKIN_KIND_FINISHED,
        due_at=now,
        now=now,
        within_hours=False,
    )
    assert finished is not None, "a journey finishes once"
    return finished


def snooze(
    session: Session, *, journey: Journey, until: datetime, now: datetime, spread_minutes: int = 0
) -> Checkin:
    """The same step again at `until`, spread over the first minutes so that everyone who
    snoozed does not get theirs in the same second."""
    journey.status = JourneyStatus.ACTIVE
    later = journeys.add_stage_checkin(
        session,
        journey=journey,
        stage_id=journey.stage_id,
        due_at=until,
        now=now,
        within_hours=True,
    )
    assert later.id is not None
    later.due_at = until + spread(later.id, spread_minutes)
    session.add(later)
    return later


def end(session: Session, *, journey: Journey, now: datetime) -> None:
    """Stop: nothing scheduled goes out, and every button of the journey expires."""
    assert journey.id is not None
    journeys.cancel_pending(session, journey_id=journey.id)
    journey.status = JourneyStatus.STOPPED
    journey.ended_at = now
    journey.updated_at = now
    journey.current_checkin_id = None
    session.add(journey)

"""Queries. Every function takes the session first and keyword arguments after it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.ids import CHECKIN_KIND_STAGE
from bot.models import (
    Checkin,
    CheckinStatus,
    FeedbackMeeting,
    FeedbackNote,
    FeedbackRequest,
    Goal,
    Journey,
    JourneyStatus,
    ManagerGrant,
    Person,
    ProcessedEvent,
)
from bot.services import PersonRef


def find_person(session: Session, *, ref: PersonRef) -> Person | None:
    return session.exec(
        select(Person).where(
            Person.platform == ref.platform,
            Person.workspace_id == ref.workspace_id,
            Person.user_id == ref.user_id,
        )
    ).first()


def get_or_create_person(session: Session, *, ref: PersonRef, now: datetime) -> Person:
    person = find_person(session, ref=ref)
    if person is not None:
        if ref.enterprise_id and person.enterprise_id != ref.enterprise_id:
            person.enterprise_id = ref.enterprise_id  # the workspace joined a Grid org since
            session.add(person)
        return person
    try:
        with session.begin_nested():
            person = Person(
                platform=ref.platform,
                workspace_id=ref.workspace_id,
                user_id=ref.user_id,
                enterprise_id=ref.enterprise_id,
                created_at=now,
            )
            session.add(person)
    except IntegrityError:  # created by a concurrent request a moment ago
        person = find_person(session, ref=ref)
        assert person is not None
    return person


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
        key=f"{CHECKIN_KIND_STAGE}:{stage_id}:{journey.deliveries}",
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


def answer_checkin(session: Session, *, checkin_id: int, answer: str, now: datetime) -> bool:
    """Record a click; only the first of several concurrent clicks gets True."""
    result = session.exec(
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.answered_at).is_(None))
        .values(answer=answer, answered_at=now)
    )
    return result.rowcount == 1


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


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        col(Checkin.status) == CheckinStatus.PENDING,
        and_(
            col(Checkin.status) == CheckinStatus.CLAIMED,
            col(Checkin.lease_expires_at) < now,
        ),
    )


def claim_checkin(
    session: Session, *, checkin_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Take one row for sending. A conditional UPDATE: two claimers cannot both win.

    A claim is not an attempt: a worker that dies holding a page never tried most of it.
    The dispatcher counts an attempt when it starts on the row (`begin_attempt`).
    """
    result = session.exec(
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, _claimable(now))
        .values(
            status=CheckinStatus.CLAIMED,
            lease_owner=owner,
            lease_expires_at=now + lease,
        )
    )
    return result.rowcount == 1


def due_checkin_ids(session: Session, *, now: datetime, limit: int) -> Sequence[int]:
    """Due rows of journeys that are not paused: first those whose worker's lease ran out,
    then pending ones, oldest first; locked and skipped where PostgreSQL can.

    Two queries rather than one with OR, so that the pending one walks the (status, due_at)
    index and a page costs the same with ten thousand rows waiting as with ten.
    """
    found: list[int] = []
    for status, condition, order in (
        (CheckinStatus.CLAIMED, col(Checkin.lease_expires_at) < now, col(Checkin.lease_expires_at)),
        (CheckinStatus.PENDING, col(Checkin.due_at) <= now, col(Checkin.due_at)),
    ):
        query = (
            select(Checkin.id)
            .outerjoin(Journey, col(Journey.id) == col(Checkin.journey_id))
            .where(
                col(Checkin.status) == status,
                condition,
                col(Checkin.due_at) <= now,
                # A meeting's messages have no journey: a paused journey does not hold them.
                or_(col(Checkin.journey_id).is_(None), col(Journey.status) != JourneyStatus.PAUSED),
            )
            .order_by(order, col(Checkin.id))
            .limit(limit - len(found))
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Checkin, skip_locked=True)
        found += [row for row in session.exec(query) if row is not None]
        if len(found) >= limit:
            break
    return found


def lanes_of_checkins(session: Session, checkin_ids: Sequence[int]) -> dict[int, str]:
    """For each row, who it goes to: rows with the same lane are sent one after another."""
    if not checkin_ids:
        return {}
    rows = session.exec(
        select(Checkin.id, Checkin.journey_id, Checkin.recipient_id).where(
            col(Checkin.id).in_(checkin_ids)
        )
    )
    return {
        checkin_id: f"person:{recipient_id}" if recipient_id else f"journey:{journey_id}"
        for checkin_id, journey_id, recipient_id in rows
        if checkin_id is not None
    }


def mark_sent(
    session: Session,
    *,
    checkin_id: int,
    owner: str,
    channel_id: str,
    message_ts: str,
    now: datetime,
) -> bool:
    """Only the worker still holding the lease may mark its row sent."""
    result = session.exec(
        update(Checkin)
        .where(
            col(Checkin.id) == checkin_id,
            col(Checkin.status) == CheckinStatus.CLAIMED,
            col(Checkin.lease_owner) == owner,
        )
        .values(
            status=CheckinStatus.SENT,
            channel_id=channel_id,
            message_ts=message_ts,
            sent_at=now,
            lease_owner=None,
            lease_expires_at=None,
            last_error=None,
        )
    )
    return result.rowcount == 1


def release_checkin(
    session: Session,
    *,
    checkin_id: int,
    owner: str,
    due_at: datetime,
    error: str,
    maybe_posted: bool = True,
    refund_attempt: bool = False,
) -> None:
    """Give a claimed row back for a later try.

    `maybe_posted=False` says the platform surely did not take the message, so the next try
    need not look for it first; `refund_attempt` gives back the attempt counted when the row
    was started (it was only waiting for the person's working hours).
    """
    values: dict[str, object] = {
        "status": CheckinStatus.PENDING,
        "due_at": due_at,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": error[:200],
    }
    if not maybe_posted:
        values["posting_since"] = None
    if refund_attempt:
        values["attempts"] = col(Checkin.attempts) - 1
    session.exec(
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.lease_owner) == owner)
        .values(values)
    )


def begin_attempt(session: Session, *, checkin_id: int, owner: str) -> int | None:
    """Count one more try of a row this worker holds; its new count, or None if not held."""
    result = session.exec(
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.lease_owner) == owner)
        .values(attempts=col(Checkin.attempts) + 1)
    )
    if result.rowcount != 1:
        return None
    return session.exec(select(Checkin.attempts).where(Checkin.id == checkin_id)).one()


def mark_posting(
    session: Session, *, checkin_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Note, before the platform is asked, that this row may be posted from now on.

    Only while this worker's lease still runs, and it is renewed, so no other worker can take
    the row while the post is under way (a lease that ran out while the row waited its turn
    in a page may already belong to someone else).
    """
    result = session.exec(
        update(Checkin)
        .where(
            col(Checkin.id) == checkin_id,
            col(Checkin.lease_owner) == owner,
            col(Checkin.status) == CheckinStatus.CLAIMED,
            col(Checkin.lease_expires_at) > now,
        )
        .values(
            posting_since=func.coalesce(col(Checkin.posting_since), now),
            lease_expires_at=now + lease,
        )
    )
    return result.rowcount == 1


def fail_checkin(session: Session, *, checkin_id: int, owner: str, error: str) -> None:
    session.exec(
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.lease_owner) == owner)
        .values(
            status=CheckinStatus.FAILED,
            lease_owner=None,
            lease_expires_at=None,
            last_error=error[:200],
        )
    )


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


def record_event(session: Session, *, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, received_at=now))
    except IntegrityError:
        return False
    return True


def forget_old_events(session: Session, *, before: datetime) -> None:
    session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before))


def delete_person(session: Session, *, person_id: int) -> None:
    """Erase a person: journeys, messages, goals, notes, invitations, and the meetings they
    were part of on either side (with those meetings' messages)."""
    journey_ids = select(Journey.id).where(Journey.person_id == person_id)
    meeting_ids = select(FeedbackMeeting.id).where(
        or_(
            col(FeedbackMeeting.person_id) == person_id,
            col(FeedbackMeeting.manager_id) == person_id,
        )
    )
    session.exec(delete(Checkin).where(col(Checkin.meeting_id).in_(meeting_ids)))
    session.exec(delete(FeedbackMeeting).where(col(FeedbackMeeting.id).in_(meeting_ids)))
    session.exec(delete(Checkin).where(col(Checkin.recipient_id) == person_id))
    for model in (Goal, FeedbackRequest, FeedbackNote, ManagerGrant):
        session.exec(delete(model).where(col(model.person_id) == person_id))
    session.exec(delete(Checkin).where(col(Checkin.journey_id).in_(journey_ids)))
    session.exec(delete(Journey).where(col(Journey.person_id) == person_id))
    session.exec(delete(Person).where(col(Person.id) == person_id))


def list_checkins(
    session: Session,
    *,
    user_id: str | None = None,
    due_before: datetime | None = None,
    statuses: tuple[str, ...] = (CheckinStatus.PENDING, CheckinStatus.CLAIMED),
    limit: int = 500,
) -> list[tuple[Checkin, Person]]:
    """What is scheduled, soonest first, for operators; each with the person it goes to."""
    query = (
        select(Checkin, Person)
        .outerjoin(Journey, col(Journey.id) == col(Checkin.journey_id))
        .join(
            Person,
            col(Person.id) == func.coalesce(col(Checkin.recipient_id), col(Journey.person_id)),
        )
        .where(col(Checkin.status).in_(statuses))
        .order_by(col(Checkin.due_at), col(Checkin.id))
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(Person.user_id == user_id)
    if due_before is not None:
        query = query.where(col(Checkin.due_at) < due_before)
    return [(checkin, person) for checkin, person in session.exec(query).all()]


def people_of_workspace(
    session: Session, *, platform: str, workspace_id: str | None, enterprise_id: str | None
) -> Sequence[Person]:
    """Everyone in a workspace; with no workspace given, everyone in the Enterprise Grid org
    (including what happened at the org's own level, kept under the org's id)."""
    query = select(Person).where(Person.platform == platform)
    if workspace_id is not None:
        query = query.where(Person.workspace_id == workspace_id)
    elif enterprise_id is not None:
        query = query.where(
            or_(
                col(Person.enterprise_id) == enterprise_id,
                col(Person.workspace_id) == enterprise_id,
            )
        )
    else:
        return []
    return session.exec(query).all()

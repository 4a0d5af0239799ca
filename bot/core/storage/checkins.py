"""Check-in rows as the use cases see them: answered, moved, woken, listed for operators, a
grant's invitation messages removed; the dispatcher's leases are in `outbox`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, update
from sqlmodel import Session, col, select

from bot.core.ids import CHECKIN_KIND_MEETING_GRANT, WAITS_FOR_RECIPIENT
from bot.core.models import Checkin, CheckinStatus, Journey, Person


def locale_of_checkin(session: Session, checkin_id: int) -> str | None:
    """The language of the person a row is for (its recipient, or its journey's person)."""
    return session.exec(
        select(func.coalesce(Person.language, Person.locale))
        .select_from(Checkin)
        .outerjoin(Journey, col(Journey.id) == col(Checkin.journey_id))
        .join(Person, col(Person.id) == func.coalesce(Checkin.recipient_id, Journey.person_id))
        .where(Checkin.id == checkin_id)
    ).first()


def enqueued_after(session: Session, *, person_id: int, after: datetime) -> int:
    """How many rows for this person (in their journeys, or addressed to them) were written
    after `after` to go out at once. Rows planned for later are left out: a follow-up in a week
    delays nobody's message now, and the cancelled ones a rewrite of goals leaves behind never
    go out at all. Two counts, each on its own index (journey_id, recipient_id), rather than
    one OR across a join that could walk the whole outbox."""
    fresh = (col(Checkin.created_at) > after, col(Checkin.due_at) <= col(Checkin.created_at))
    journeys = select(Journey.id).where(col(Journey.person_id) == person_id)
    in_journeys = session.exec(
        select(func.count(col(Checkin.id))).where(col(Checkin.journey_id).in_(journeys), *fresh)
    ).one()
    to_them = session.exec(
        select(func.count(col(Checkin.id))).where(col(Checkin.recipient_id) == person_id, *fresh)
    ).one()
    return in_journeys + to_them


# Built once: on the path a person waits on, building a statement costs more than running it.
_CHECKIN = Checkin.__table__  # type: ignore[attr-defined]
_SET_DUE = (
    update(_CHECKIN).where(_CHECKIN.c.id == bindparam("row_id")).values(due_at=bindparam("due"))
)


def set_due_times(session: Session, due: dict[int, datetime]) -> None:
    """Move several check-ins to new due times in one statement."""
    if due:
        session.connection().execute(
            _SET_DUE, [{"row_id": row_id, "due": at} for row_id, at in due.items()]
        )


def answer_checkin(session: Session, *, checkin_id: int, answer: str, now: datetime) -> bool:
    """Record a click; only the first of several concurrent clicks gets True."""
    result = session.exec(
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.answered_at).is_(None))
        .values(answer=answer, answered_at=now)
    )
    return result.rowcount == 1


def wake_waiting_checkins(session: Session, *, person_id: int, now: datetime) -> list[int]:
    """The person can be messaged now (on Teams: their conversation was just stored): the
    messages waiting for that (`WAITS_FOR_RECIPIENT`) fall due at once. Their ids."""
    waiting = [
        checkin_id
        for checkin_id in session.exec(
            select(Checkin.id).where(
                col(Checkin.recipient_id) == person_id,
                col(Checkin.kind).in_(WAITS_FOR_RECIPIENT),
                col(Checkin.status) == CheckinStatus.PENDING,
                col(Checkin.due_at) > now,
            )
        )
        if checkin_id is not None
    ]
    if waiting:
        session.exec(
            update(Checkin)
            .where(
                col(Checkin.id).in_(waiting),
                col(Checkin.status) == CheckinStatus.PENDING,
                col(Checkin.due_at) > now,
            )
            .values(due_at=now)
        )
    return waiting


def delete_grant_messages(session: Session, grant_ids: Sequence[int]) -> None:
    """The invitation messages of these grants, before the grants go: they are about the
    person who invited, and one may still be waiting for its manager to add the app."""
    if grant_ids:
        keys = [f"grant:{grant_id}" for grant_id in grant_ids]
        session.exec(
            delete(Checkin).where(
                col(Checkin.kind) == CHECKIN_KIND_MEETING_GRANT, col(Checkin.key).in_(keys)
            )
        )


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

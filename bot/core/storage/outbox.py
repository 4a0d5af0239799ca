"""The outbox row's life in the dispatcher: due rows found and claimed under a lease, each try
counted, marked posting, sent, given back or failed; and what sending one needs to know."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus, Person, Workspace
from bot.core.storage.heartbeats import DEAD_AFTER, held_by_the_dead

# Built once: on the path a person waits on, building a statement costs more than running it.
_PERSON = Person.__table__  # type: ignore[attr-defined]
_JOURNEY = Journey.__table__  # type: ignore[attr-defined]
_WORKSPACE = Workspace.__table__  # type: ignore[attr-defined]
_CHECKIN = Checkin.__table__  # type: ignore[attr-defined]


# The outbox row's life, in the dispatcher's hot path. Parameter names differ from column
# names, which SQLAlchemy keeps for the SET clause.
def _claim_where(*conditions: ColumnElement[bool]) -> Any:
    return (
        update(_CHECKIN)
        .where(_CHECKIN.c.id == bindparam("row_id"), *conditions)
        .values(
            status=CheckinStatus.CLAIMED,
            lease_owner=bindparam("owner_"),
            lease_expires_at=bindparam("until"),
        )
    )


# A row no one holds (the command path's claim of the row it just wrote). Only that: on
# PostgreSQL an UPDATE that waited for another claim's lock re-reads the row but asks its
# subqueries with the snapshot it started with, which may predate the other claimer's first
# heartbeat; taking over from the dead is left to sweeps, which lock their rows first.
_CLAIM_PENDING = _claim_where(_CHECKIN.c.status == CheckinStatus.PENDING)
# A due row a sweep found (and on PostgreSQL locked): free, or held by no living sender.
_CLAIM_DUE = _claim_where(
    or_(
        _CHECKIN.c.status == CheckinStatus.PENDING,
        held_by_the_dead(bindparam("now_"), bindparam("alive_since")),
    )
)
_BEGIN_ATTEMPT = (
    update(_CHECKIN)
    .where(_CHECKIN.c.id == bindparam("row_id"), _CHECKIN.c.lease_owner == bindparam("owner_"))
    .values(attempts=_CHECKIN.c.attempts + 1)
    .returning(_CHECKIN.c.attempts)
)
_MARK_POSTING = (
    update(_CHECKIN)
    .where(
        _CHECKIN.c.id == bindparam("row_id"),
        _CHECKIN.c.lease_owner == bindparam("owner_"),
        _CHECKIN.c.status == CheckinStatus.CLAIMED,
        _CHECKIN.c.lease_expires_at > bindparam("now_"),
    )
    .values(
        posting_since=func.coalesce(
            _CHECKIN.c.posting_since, bindparam("now_", type_=_CHECKIN.c.posting_since.type)
        ),
        lease_expires_at=bindparam("until"),
    )
)
_MARK_SENT = (
    update(_CHECKIN)
    .where(
        _CHECKIN.c.id == bindparam("row_id"),
        _CHECKIN.c.status == CheckinStatus.CLAIMED,
        _CHECKIN.c.lease_owner == bindparam("owner_"),
    )
    .values(
        status=CheckinStatus.SENT,
        channel_id=bindparam("channel"),
        message_ts=bindparam("ts"),
        sent_at=bindparam("now_"),
        lease_owner=None,
        lease_expires_at=None,
        last_error=None,
    )
)

_SUPERSEDED = _CHECKIN.alias("superseded")
_DELIVERY_FACTS = (
    select_columns(
        _CHECKIN.c.kind,
        _CHECKIN.c.stage_id,
        _CHECKIN.c.within_hours,
        _CHECKIN.c.posting_since,
        _CHECKIN.c.journey_id,
        _CHECKIN.c.meeting_id,
        _PERSON.c.id,
        _PERSON.c.platform,
        _PERSON.c.workspace_id,
        _PERSON.c.user_id,
        _PERSON.c.dm_channel_id,
        _PERSON.c.enterprise_id,
        _PERSON.c.time_zone,
        _PERSON.c.locale,
        _PERSON.c.profile_checked_at,
        _PERSON.c.work_hours,
        _PERSON.c.work_days,
        _PERSON.c.time_zone_override,
        _WORKSPACE.c.work_hours,
        _WORKSPACE.c.work_days,
        _SUPERSEDED.c.channel_id,
        _SUPERSEDED.c.message_ts,
    )
    .select_from(_CHECKIN)
    .outerjoin(_JOURNEY, _JOURNEY.c.id == _CHECKIN.c.journey_id)
    .join(_PERSON, _PERSON.c.id == func.coalesce(_CHECKIN.c.recipient_id, _JOURNEY.c.person_id))
    .outerjoin(
        _WORKSPACE,
        and_(
            _WORKSPACE.c.platform == _PERSON.c.platform,
            _WORKSPACE.c.workspace_id == _PERSON.c.workspace_id,
        ),
    )
    .outerjoin(_SUPERSEDED, _SUPERSEDED.c.id == _CHECKIN.c.supersedes_checkin_id)
    .where(_CHECKIN.c.id == bindparam("row_id"))
)


class DeliveryFacts(NamedTuple):
    """What sending one outbox row needs to know, read in one query."""

    kind: str
    stage_id: str | None
    within_hours: bool
    posting_since: datetime | None
    journey_id: int | None
    meeting_id: int | None
    person_id: int
    platform: str
    workspace_id: str
    user_id: str
    dm_channel_id: str | None
    enterprise_id: str | None
    time_zone: str | None
    locale: str | None
    profile_checked_at: datetime | None
    work_hours: str | None
    work_days: str | None
    time_zone_override: str | None
    workspace_hours: str | None
    workspace_days: str | None
    superseded_channel_id: str | None
    superseded_ts: str | None


def delivery_facts(session: Session, *, checkin_id: int) -> DeliveryFacts | None:
    row = session.connection().execute(_DELIVERY_FACTS, {"row_id": checkin_id}).first()
    return DeliveryFacts._make(row) if row is not None else None


def claim_checkin(
    session: Session,
    *,
    checkin_id: int,
    owner: str,
    now: datetime,
    lease: timedelta,
    taking_over: bool = False,
) -> bool:
    """Take one row for sending. A conditional UPDATE: two claimers cannot both win.

    Without `taking_over`, only a row no one holds. With it (a sweep, for rows
    `due_checkin_ids` found and locked), also one whose holder is dead (heartbeats).

    A claim is not an attempt: a worker that dies holding a page never tried most of it.
    The dispatcher counts an attempt when it starts on the row (`begin_attempt`).
    """
    values = {"row_id": checkin_id, "owner_": owner, "until": now + lease}
    if taking_over:
        values.update(now_=now, alive_since=now - DEAD_AFTER)
    result = session.connection().execute(_CLAIM_DUE if taking_over else _CLAIM_PENDING, values)
    return result.rowcount == 1


# A row's lane: ("person", recipient id) for a row addressed to someone, else ("journey", id).
Lane = tuple[str, int]


class DueRow(NamedTuple):
    checkin_id: int
    # Who it goes to: rows of one lane are sent one after another, in order.
    lane: Lane


def lane_of(journey_id: int | None, recipient_id: int | None) -> Lane:
    return ("person", recipient_id) if recipient_id else ("journey", journey_id or 0)


def _due_query(status: str, *, locking: bool) -> Any:
    """A due-rows query of one status, built once per dialect's locking: its values (the
    time, the lanes to leave out, the limit) are bound parameters."""
    if status == CheckinStatus.CLAIMED:
        condition = held_by_the_dead(bindparam("now_"), bindparam("alive_since"))
    else:
        condition = _CHECKIN.c.due_at <= bindparam("now_")
    query = (
        select_columns(_CHECKIN.c.id, _CHECKIN.c.journey_id, _CHECKIN.c.recipient_id)
        .select_from(_CHECKIN)
        .outerjoin(_JOURNEY, _JOURNEY.c.id == _CHECKIN.c.journey_id)
        .where(
            _CHECKIN.c.status == status,
            condition,
            _CHECKIN.c.due_at <= bindparam("now_"),
            # A meeting's messages have no journey: a paused journey does not hold them.
            or_(_CHECKIN.c.journey_id.is_(None), _JOURNEY.c.status != JourneyStatus.PAUSED),
            # Not a lane in hand (a person whose row is being sent waits for it).
            or_(
                _CHECKIN.c.recipient_id.is_(None),
                _CHECKIN.c.recipient_id.not_in(bindparam("busy_recipients", expanding=True)),
            ),
            or_(
                _CHECKIN.c.recipient_id.is_not(None),
                _CHECKIN.c.journey_id.is_(None),
                _CHECKIN.c.journey_id.not_in(bindparam("busy_journeys", expanding=True)),
            ),
        )
        .order_by(_CHECKIN.c.due_at, _CHECKIN.c.id)
        .limit(bindparam("limit_"))
    )
    return query.with_for_update(of=_CHECKIN, skip_locked=True) if locking else query


_DUE_QUERIES = {
    (status, locking): _due_query(status, locking=locking)
    for status in (CheckinStatus.CLAIMED, CheckinStatus.PENDING)
    for locking in (False, True)
}


def due_rows(
    session: Session, *, now: datetime, limit: int, busy: Sequence[Lane] = ()
) -> list[DueRow]:
    """Due rows of journeys that are not paused: first those no living sender holds (its
    heartbeat stopped, or the lease ran out), then pending ones, oldest first; none of the
    `busy` lanes (a row of theirs is being sent: the next waits for it); locked and skipped
    where PostgreSQL can.

    Two queries rather than one with OR, so that the pending one walks the (status, due_at)
    index and a claim round costs the same with ten thousand rows waiting as with ten. Both
    are built once (a sweep asks them for every few rows it sends).
    """
    locking = session.get_bind().dialect.name == "postgresql"
    values = {
        "now_": now,
        "alive_since": now - DEAD_AFTER,
        "busy_journeys": [number for kind, number in busy if kind == "journey"],
        "busy_recipients": [number for kind, number in busy if kind == "person"],
    }
    found: list[DueRow] = []
    connection = session.connection()
    for status in (CheckinStatus.CLAIMED, CheckinStatus.PENDING):
        rows = connection.execute(
            _DUE_QUERIES[status, locking], {**values, "limit_": limit - len(found)}
        )
        found += [
            DueRow(checkin_id, lane_of(journey_id, recipient_id))
            for checkin_id, journey_id, recipient_id in rows
        ]
        if len(found) >= limit:
            break
    return found


def due_checkin_ids(session: Session, *, now: datetime, limit: int) -> Sequence[int]:
    """The ids of `due_rows`, whatever their lanes."""
    return [row.checkin_id for row in due_rows(session, now=now, limit=limit)]


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
    result = session.connection().execute(
        _MARK_SENT,
        {
            "row_id": checkin_id,
            "owner_": owner,
            "channel": channel_id,
            "ts": message_ts,
            "now_": now,
        },
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
    attempts: int | None = (
        session.connection()
        .execute(_BEGIN_ATTEMPT, {"row_id": checkin_id, "owner_": owner})
        .scalar_one_or_none()
    )
    return attempts


def mark_posting(
    session: Session, *, checkin_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Note, before the platform is asked, that this row may be posted from now on.

    Only while this worker's lease still runs, and it is renewed, so no other worker can take
    the row while the post is under way (a lease that ran out while the row waited its turn
    in a page may already belong to someone else).
    """
    result = session.connection().execute(
        _MARK_POSTING, {"row_id": checkin_id, "owner_": owner, "now_": now, "until": now + lease}
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

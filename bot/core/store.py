"""Queries. Every function takes the session first and keyword arguments after it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, insert, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.ids import CHECKIN_KIND_MEETING_GRANT, CHECKIN_KIND_STAGE, WAITS_FOR_RECIPIENT
from bot.core.models import (
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
    Workspace,
)
from bot.core.person_ref import PersonRef


def find_person(session: Session, *, ref: PersonRef) -> Person | None:
    return session.exec(
        select(Person).where(
            Person.platform == ref.platform,
            Person.workspace_id == ref.workspace_id,
            Person.user_id == ref.user_id,
        )
    ).first()


def locale_of_checkin(session: Session, checkin_id: int) -> str | None:
    """The language of the person a row is for (its recipient, or its journey's person)."""
    return session.exec(
        select(Person.locale)
        .select_from(Checkin)
        .outerjoin(Journey, col(Journey.id) == col(Checkin.journey_id))
        .join(Person, col(Person.id) == func.coalesce(Checkin.recipient_id, Journey.person_id))
        .where(Checkin.id == checkin_id)
    ).first()


def get_or_create_person(session: Session, *, ref: PersonRef, now: datetime) -> Person:
    person = find_person(session, ref=ref)
    if person is not None:
        if ref.enterprise_id and person.enterprise_id != ref.enterprise_id:
            person.enterprise_id = ref.enterprise_id  # the workspace joined a Grid org since
            session.add(person)
        return person
    person_id = _insert_person(session, ref=ref, now=now)
    person = session.get(Person, person_id) if person_id else find_person(session, ref=ref)
    assert person is not None
    return person


def _insert_person(session: Session, *, ref: PersonRef, now: datetime) -> int | None:
    """A new person's id; None if a concurrent request created them a moment ago (their
    INSERT does nothing: no savepoint, no error to catch, two round trips fewer)."""
    connection = session.connection()
    values = {
        "platform": ref.platform,
        "workspace_id": ref.workspace_id,
        "user_id": ref.user_id,
        "enterprise_id": ref.enterprise_id,
        "created_at": now,
    }
    inserted: int | None = connection.execute(_NEW_PERSON[connection.dialect.name], values).scalar()
    return inserted


class StartFacts(NamedTuple):
    """What answering `/notpromoted` needs to know of a person, read in one query."""

    person_id: int
    locale: str | None
    zone_name: str | None
    work_hours: str | None
    work_days: str | None
    journey_id: int | None
    journey_status: str | None
    workspace_hours: str | None
    workspace_days: str | None


# Built once: on the path a person waits on, building a statement costs more than running it.
_PERSON = Person.__table__  # type: ignore[attr-defined]
_PERSON_KEY = [_PERSON.c.platform, _PERSON.c.workspace_id, _PERSON.c.user_id]
_NEW_PERSON = {
    "postgresql": postgresql_insert(_PERSON)
    .on_conflict_do_nothing(index_elements=_PERSON_KEY)
    .returning(_PERSON.c.id),
    "sqlite": sqlite_insert(_PERSON)
    .on_conflict_do_nothing(index_elements=_PERSON_KEY)
    .returning(_PERSON.c.id),
}
_JOURNEY = Journey.__table__  # type: ignore[attr-defined]
_WORKSPACE = Workspace.__table__  # type: ignore[attr-defined]
_START_FACTS = (
    select_columns(
        _PERSON.c.id,
        _PERSON.c.locale,
        func.coalesce(_PERSON.c.time_zone_override, _PERSON.c.time_zone),
        _PERSON.c.work_hours,
        _PERSON.c.work_days,
        _JOURNEY.c.id,
        _JOURNEY.c.status,
        _WORKSPACE.c.work_hours,
        _WORKSPACE.c.work_days,
        _PERSON.c.enterprise_id,
    )
    .select_from(_PERSON)
    .outerjoin(
        _JOURNEY,
        and_(
            _JOURNEY.c.person_id == _PERSON.c.id,
            _JOURNEY.c.status.in_(JourneyStatus.OPEN),
        ),
    )
    .outerjoin(
        _WORKSPACE,
        and_(
            _WORKSPACE.c.platform == _PERSON.c.platform,
            _WORKSPACE.c.workspace_id == _PERSON.c.workspace_id,
        ),
    )
    .where(
        _PERSON.c.platform == bindparam("platform"),
        _PERSON.c.workspace_id == bindparam("workspace_id"),
        _PERSON.c.user_id == bindparam("user_id"),
    )
)
_CHECKIN = Checkin.__table__  # type: ignore[attr-defined]
_WORKSPACE_HOURS = select_columns(_WORKSPACE.c.work_hours, _WORKSPACE.c.work_days).where(
    _WORKSPACE.c.platform == bindparam("platform"),
    _WORKSPACE.c.workspace_id == bindparam("workspace_id"),
)
_SET_DUE = (
    update(_CHECKIN).where(_CHECKIN.c.id == bindparam("row_id")).values(due_at=bindparam("due"))
)
_SET_CURRENT = (
    update(_JOURNEY)
    .where(_JOURNEY.c.id == bindparam("row_id"))
    .values(current_checkin_id=bindparam("current"))
)
# The outbox row's life, in the dispatcher's hot path. Parameter names differ from column
# names, which SQLAlchemy keeps for the SET clause.
_CLAIM = (
    update(_CHECKIN)
    .where(
        _CHECKIN.c.id == bindparam("row_id"),
        or_(
            _CHECKIN.c.status == CheckinStatus.PENDING,
            and_(
                _CHECKIN.c.status == CheckinStatus.CLAIMED,
                _CHECKIN.c.lease_expires_at < bindparam("now_"),
            ),
        ),
    )
    .values(
        status=CheckinStatus.CLAIMED,
        lease_owner=bindparam("owner_"),
        lease_expires_at=bindparam("until"),
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
_SAVE_PROFILE = (
    update(_PERSON)
    .where(_PERSON.c.id == bindparam("row_id"))
    .values(
        time_zone=func.coalesce(
            bindparam("zone", type_=_PERSON.c.time_zone.type), _PERSON.c.time_zone
        ),
        locale=func.coalesce(bindparam("lang", type_=_PERSON.c.locale.type), _PERSON.c.locale),
        profile_checked_at=bindparam("now_"),
    )
)
_SET_DM_CHANNEL = (
    update(_PERSON)
    .where(
        _PERSON.c.id == bindparam("row_id"),
        or_(_PERSON.c.dm_channel_id.is_(None), _PERSON.c.dm_channel_id != bindparam("channel")),
    )
    .values(dm_channel_id=bindparam("channel"))
)
_INSERTS: dict[tuple[type[Any], bool], Any] = {}


def _inserting(model: type[Any], *, many: bool = False) -> Any:
    """An INSERT ... RETURNING id for the table, built once per table; with `many`, the ids
    come back in the order the rows were given."""
    if (model, many) not in _INSERTS:
        table = model.__table__
        _INSERTS[model, many] = insert(table).returning(table.c.id, sort_by_parameter_order=many)
    return _INSERTS[model, many]


def start_facts(session: Session, *, ref: PersonRef) -> StartFacts | None:
    row = (
        session.connection()
        .execute(
            _START_FACTS,
            {"platform": ref.platform, "workspace_id": ref.workspace_id, "user_id": ref.user_id},
        )
        .first()
    )
    if row is None:
        return None
    *facts, enterprise_id = row
    if ref.enterprise_id and enterprise_id != ref.enterprise_id:
        # The workspace joined a Grid org since.
        session.connection().execute(
            update(_PERSON).where(_PERSON.c.id == facts[0]).values(enterprise_id=ref.enterprise_id)
        )
    return StartFacts(*facts)


def create_person_for_start(session: Session, *, ref: PersonRef, now: datetime) -> StartFacts:
    """A person seen for the first time; the one a concurrent request made, if it won."""
    person_id = _insert_person(session, ref=ref, now=now)
    if person_id is None:
        found = start_facts(session, ref=ref)
        assert found is not None
        return found
    workspace = (
        session.connection()
        .execute(_WORKSPACE_HOURS, {"platform": ref.platform, "workspace_id": ref.workspace_id})
        .first()
    )
    hours, days = workspace if workspace is not None else (None, None)
    return StartFacts(person_id, None, None, None, None, None, None, hours, days)


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


def save_profile(
    session: Session, *, person_id: int, time_zone: str | None, locale: str | None, now: datetime
) -> None:
    """What the platform says of a person: kept where it says something, and when we asked."""
    session.connection().execute(
        _SAVE_PROFILE,
        {"row_id": person_id, "zone": time_zone or None, "lang": locale or None, "now_": now},
    )


def set_dm_channel(session: Session, *, person_id: int, channel_id: str) -> None:
    session.connection().execute(_SET_DM_CHANNEL, {"row_id": person_id, "channel": channel_id})


def insert_row(session: Session, model: type[Any], /, **values: Any) -> int:
    """Insert one row and return its id, without building an ORM object first.

    For the paths a person waits on: a SQLModel table object costs far more to construct
    than the INSERT itself.
    """
    inserted: int = session.connection().execute(_inserting(model), values).scalar_one()
    return inserted


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert several rows of one table in one statement; their ids, in the order given."""
    result = session.connection().execute(_inserting(model, many=True), list(rows))
    return [row_id for (row_id,) in result]


def set_due_times(session: Session, due: dict[int, datetime]) -> None:
    """Move several check-ins to new due times in one statement."""
    if due:
        session.connection().execute(
            _SET_DUE, [{"row_id": row_id, "due": at} for row_id, at in due.items()]
        )


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
    result = session.connection().execute(
        _CLAIM, {"row_id": checkin_id, "owner_": owner, "now_": now, "until": now + lease}
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
    grants = session.exec(select(ManagerGrant.id).where(col(ManagerGrant.person_id) == person_id))
    delete_grant_messages(session, [grant_id for grant_id in grants if grant_id is not None])
    for model in (Goal, FeedbackRequest, FeedbackNote, ManagerGrant):
        session.exec(delete(model).where(col(model.person_id) == person_id))
    session.exec(delete(Checkin).where(col(Checkin.journey_id).in_(journey_ids)))
    session.exec(delete(Journey).where(col(Journey.person_id) == person_id))
    session.exec(delete(Person).where(col(Person.id) == person_id))


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

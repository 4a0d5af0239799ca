"""The outbox row's life in the dispatcher: due rows found (the first of each person's) and
claimed under a lease, each claim a try and a mark that the row may be posted; sent, given back
or failed; and what sending one needs to know."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, String, and_, bindparam, exists, func, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus, Person, Workspace
from bot.core.storage.heartbeats import DEAD_AFTER, held_by_the_dead, held_by_the_living

# Built once: on the path a person waits on, building a statement costs more than running it.
_PERSON = Person.__table__  # type: ignore[attr-defined]
_JOURNEY = Journey.__table__  # type: ignore[attr-defined]
_WORKSPACE = Workspace.__table__  # type: ignore[attr-defined]
_CHECKIN = Checkin.__table__  # type: ignore[attr-defined]


# The outbox row's life, in the dispatcher's hot path. Parameter names differ from column
# names, which SQLAlchemy keeps for the SET clause.
def _claiming(*conditions: ColumnElement[bool]) -> Any:
    """An UPDATE that claims the rows it matches for an owner: each claim counts an attempt
    and marks the row as possibly posted from now on (a claim is made only for what is about
    to be sent), keeping the mark of an earlier attempt that may have reached the person."""
    return (
        update(_CHECKIN)
        .where(*conditions)
        .values(
            status=CheckinStatus.CLAIMED,
            lease_owner=bindparam("owner_"),
            lease_expires_at=bindparam("until"),
            attempts=_CHECKIN.c.attempts + 1,
            posting_since=func.coalesce(
                _CHECKIN.c.posting_since, bindparam("now_", type_=_CHECKIN.c.posting_since.type)
            ),
        )
        .returning(_CHECKIN.c.id, _CHECKIN.c.attempts)
    )


def _claim_where(*conditions: ColumnElement[bool]) -> Any:
    """Claim rows by id, those of them that meet `conditions`, in one statement."""
    return _claiming(_CHECKIN.c.id.in_(bindparam("row_ids", expanding=True)), *conditions)


# Rows no one holds (the command path's claim of the row it just wrote). Only that: on
# PostgreSQL an UPDATE that waited for another claim's lock re-reads the row but asks its
# subqueries with the snapshot it started with, which may predate the other claimer's first
# heartbeat; taking over from the dead is left to sweeps, which lock their rows first.
_CLAIM_PENDING = _claim_where(_CHECKIN.c.status == CheckinStatus.PENDING)
# Due rows a sweep found (and on PostgreSQL locked): free, or held by no living sender.
_CLAIM_DUE = _claim_where(
    or_(
        _CHECKIN.c.status == CheckinStatus.PENDING,
        held_by_the_dead(bindparam("now_"), bindparam("alive_since"), asking=bindparam("owner_")),
    )
)
# A claimed row is still this owner's, its lease unexpired: renewed (before a post that came
# long after the claim).
_RENEW_HOLD = (
    update(_CHECKIN)
    .where(
        _CHECKIN.c.id == bindparam("row_id"),
        _CHECKIN.c.lease_owner == bindparam("owner_"),
        _CHECKIN.c.status == CheckinStatus.CLAIMED,
        _CHECKIN.c.lease_expires_at > bindparam("now_"),
    )
    .values(lease_expires_at=bindparam("until"))
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
        locale=bindparam("locale_"),
        sent_at=bindparam("now_"),
        lease_owner=None,
        lease_expires_at=None,
        last_error=None,
    )
)
# PostgreSQL: a whole group of sent marks in one statement of one shape, however many rows.
_SENT_GROUP = (
    func.unnest(
        bindparam("row_ids", type_=postgresql.ARRAY(Integer)),
        bindparam("channels", type_=postgresql.ARRAY(String)),
        bindparam("tss", type_=postgresql.ARRAY(String)),
        bindparam("locales", type_=postgresql.ARRAY(String)),
    )
    .table_valued("row_id", "channel", "ts", "locale")
    .render_derived(name="sent")
)
_MARK_SENT_GROUP = (
    update(_CHECKIN)
    .where(
        _CHECKIN.c.id == _SENT_GROUP.c.row_id,
        _CHECKIN.c.status == CheckinStatus.CLAIMED,
        _CHECKIN.c.lease_owner == bindparam("owner_"),
    )
    .values(
        status=CheckinStatus.SENT,
        channel_id=_SENT_GROUP.c.channel,
        message_ts=_SENT_GROUP.c.ts,
        locale=_SENT_GROUP.c.locale,
        sent_at=bindparam("now_", type_=_CHECKIN.c.sent_at.type),
        lease_owner=None,
        lease_expires_at=None,
        last_error=None,
    )
    .returning(_CHECKIN.c.id)
)

_SUPERSEDED = _CHECKIN.alias("superseded")
_FACT_COLUMNS = (
    _CHECKIN.c.id,
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
    _PERSON.c.language,
    _PERSON.c.profile_checked_at,
    _PERSON.c.work_hours,
    _PERSON.c.work_days,
    _PERSON.c.time_zone_override,
    _WORKSPACE.c.work_hours,
    _WORKSPACE.c.work_days,
    _SUPERSEDED.c.channel_id,
    _SUPERSEDED.c.message_ts,
)


# The check-in table joined to what `_FACT_COLUMNS` reads.
_WITH_FACTS = (
    _CHECKIN.outerjoin(_JOURNEY, _JOURNEY.c.id == _CHECKIN.c.journey_id)
    .join(_PERSON, _PERSON.c.id == func.coalesce(_CHECKIN.c.recipient_id, _JOURNEY.c.person_id))
    .outerjoin(
        _WORKSPACE,
        and_(
            _WORKSPACE.c.platform == _PERSON.c.platform,
            _WORKSPACE.c.workspace_id == _PERSON.c.workspace_id,
        ),
    )
    .outerjoin(_SUPERSEDED, _SUPERSEDED.c.id == _CHECKIN.c.supersedes_checkin_id)
)
_DELIVERY_FACTS = (
    select_columns(*_FACT_COLUMNS)
    .select_from(_WITH_FACTS)
    .where(_CHECKIN.c.id.in_(bindparam("row_ids", expanding=True)))
)


class DeliveryFacts(NamedTuple):
    """What sending one outbox row needs to know, read with others' in one query."""

    checkin_id: int
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
    language: str | None  # the person's own choice, over the platform's `locale`
    profile_checked_at: datetime | None
    work_hours: str | None
    work_days: str | None
    time_zone_override: str | None
    workspace_hours: str | None
    workspace_days: str | None
    superseded_channel_id: str | None
    superseded_ts: str | None


def delivery_facts(session: Session, *, checkin_ids: Sequence[int]) -> dict[int, DeliveryFacts]:
    """What sending each of these rows needs, by row id (a row that is gone is left out)."""
    rows = session.connection().execute(_DELIVERY_FACTS, {"row_ids": list(checkin_ids)})
    return {row[0]: DeliveryFacts._make(row) for row in rows}


def claim_rows(
    session: Session,
    *,
    checkin_ids: Sequence[int],
    owner: str,
    now: datetime,
    lease: timedelta,
    taking_over: bool = False,
) -> dict[int, int]:
    """Take rows for sending, in one conditional UPDATE (two claimers cannot both win a row);
    return the attempt count of each row taken, by id.

    Without `taking_over`, only rows no one holds. With it (a sweep, for rows `due_rows` found
    and locked), also rows whose holder is dead (heartbeats).

    A claim is an attempt, and marks the row as possibly posted: only what is about to be
    sent is claimed, so a death leaves little to look up (an unsent row a dead sender held is
    looked for in the conversation before it is posted again; a look-up too many, never a
    duplicate). The caller reads the row's earlier mark before the claim (`delivery_facts`)
    and puts it back when a try surely posted nothing (`release_checkin`).
    """
    if not checkin_ids:
        return {}
    values: dict[str, object] = {
        "row_ids": list(checkin_ids),
        "owner_": owner,
        "until": now + lease,
        "now_": now,
    }
    if taking_over:
        values["alive_since"] = now - DEAD_AFTER
    rows = session.connection().execute(_CLAIM_DUE if taking_over else _CLAIM_PENDING, values)
    return {checkin_id: attempts for checkin_id, attempts in rows}


# A row's lane: ("person", recipient id) for a row addressed to someone, else ("journey", id).
Lane = tuple[str, int]


class DueRow(NamedTuple):
    checkin_id: int
    # Who it goes to: rows of one lane are sent one after another, in order.
    lane: Lane


def lane_of(journey_id: int | None, recipient_id: int | None) -> Lane:
    return ("person", recipient_id) if recipient_id else ("journey", journey_id or 0)


def _first_of_its_lane() -> ColumnElement[bool]:
    """No other row of the row's lane is in a living sender's hands, or before it in line
    (due earlier, or as early and written first): a person's rows go one at a time, in
    order, however many processes send. Rows of a dead sender are in line, not in hand."""
    other = _CHECKIN.alias("other")
    now: Any = bindparam("now_")
    alive_since: Any = bindparam("alive_since")
    ahead = and_(
        other.c.id != _CHECKIN.c.id,
        or_(
            held_by_the_living(now, alive_since, other, asking=bindparam("owner_")),
            and_(
                other.c.status.in_((CheckinStatus.PENDING, CheckinStatus.CLAIMED)),
                or_(
                    other.c.due_at < _CHECKIN.c.due_at,
                    and_(other.c.due_at == _CHECKIN.c.due_at, other.c.id < _CHECKIN.c.id),
                ),
            ),
        ),
    )
    # Two subqueries, each on its own index, rather than one matching either column.
    return or_(
        and_(
            _CHECKIN.c.recipient_id.is_not(None),
            ~exists().where(other.c.recipient_id == _CHECKIN.c.recipient_id, ahead),
        ),
        and_(
            _CHECKIN.c.recipient_id.is_(None),
            ~exists().where(other.c.journey_id == _CHECKIN.c.journey_id, ahead),
        ),
    )


def _due_query(status: str, *, locking: bool, columns: Sequence[Any] | None = None) -> Any:
    """A due-rows query of one status, built once per dialect's locking: its values (the
    time, the limit) are bound parameters."""
    if status == CheckinStatus.CLAIMED:
        condition = held_by_the_dead(
            bindparam("now_"), bindparam("alive_since"), asking=bindparam("owner_")
        )
    else:
        condition = _CHECKIN.c.due_at <= bindparam("now_")
    query = (
        select_columns(
            *(columns or (_CHECKIN.c.id, _CHECKIN.c.journey_id, _CHECKIN.c.recipient_id))
        )
        .select_from(_CHECKIN)
        .outerjoin(_JOURNEY, _JOURNEY.c.id == _CHECKIN.c.journey_id)
        .where(
            _CHECKIN.c.status == status,
            condition,
            _CHECKIN.c.due_at <= bindparam("now_"),
            # A meeting's messages have no journey: a paused journey does not hold them.
            or_(_CHECKIN.c.journey_id.is_(None), _JOURNEY.c.status != JourneyStatus.PAUSED),
            _first_of_its_lane(),
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


def _claim_due_at_once() -> Any:
    """PostgreSQL: a sweep's claim round in one statement. The due pending rows, the first of
    each lane, are locked (skipping those another claimer has locked), claimed, and returned
    with what sending them needs, in the order they fell due.

    A row's posting mark is the one its locked, newest version carries (`FOR UPDATE` returns
    the row as it is once locked, not as the statement's snapshot had it): the mark an earlier
    try left, which says whether to look for an earlier post. Rows held by a dead sender are
    not taken here: that needs its owner's heartbeat read after the row is locked, which one
    statement cannot do (its subqueries all read the snapshot it started with), so it is
    `due_rows` and `claim_rows`, in two statements."""
    due = _due_query(
        CheckinStatus.PENDING,
        locking=True,
        columns=(_CHECKIN.c.id, _CHECKIN.c.posting_since),
    ).cte("due")
    claimed = _claiming(_CHECKIN.c.id == due.c.id, _CHECKIN.c.status == CheckinStatus.PENDING).cte(
        "claimed"
    )
    columns = [
        due.c.posting_since if column is _CHECKIN.c.posting_since else column
        for column in _FACT_COLUMNS
    ]
    return (
        select_columns(*columns, claimed.c.attempts)
        .select_from(
            claimed.join(due, due.c.id == claimed.c.id).join(
                _WITH_FACTS, _CHECKIN.c.id == claimed.c.id
            )
        )
        .order_by(_CHECKIN.c.due_at, _CHECKIN.c.id)
    )


_CLAIM_DUE_AT_ONCE = _claim_due_at_once()


def claim_due_at_once(
    connection: Connection, *, now: datetime, limit: int, owner: str, lease: timedelta
) -> list[tuple[DeliveryFacts, int]]:
    """Claim up to `limit` due pending rows for `owner` (PostgreSQL, one statement: run it on
    its own, and its commit is the claim's); each with its attempt count, oldest first."""
    rows = connection.execute(
        _CLAIM_DUE_AT_ONCE,
        {
            "now_": now,
            "alive_since": now - DEAD_AFTER,
            "owner_": owner,
            "limit_": limit,
            "until": now + lease,
        },
    )
    return [(DeliveryFacts._make(row[:-1]), row[-1]) for row in rows]


def due_rows(session: Session, *, now: datetime, limit: int, owner: str = "") -> list[DueRow]:
    """Due rows of journeys that are not paused, each the first of its lane (`_first_of_its_lane`:
    at most one row per person, none of a person whose row is being sent): first those no
    living sender holds (its heartbeat stopped, or the lease ran out), then pending ones,
    oldest first; locked and skipped where PostgreSQL can. `owner`, the sender that asks: its
    own rows are in its hands whatever its heartbeat says (`heartbeats.held_by_the_dead`).

    Two queries rather than one with OR, so that the pending one walks the (status, due_at)
    index and a claim round costs the same with ten thousand rows waiting as with ten. Both
    are built once (a sweep asks them for every few rows it sends).
    """
    locking = session.get_bind().dialect.name == "postgresql"
    values = {"now_": now, "alive_since": now - DEAD_AFTER, "owner_": owner}
    found: list[DueRow] = []
    lanes: set[Lane] = set()
    connection = session.connection()
    for status in (CheckinStatus.CLAIMED, CheckinStatus.PENDING):
        rows = connection.execute(
            _DUE_QUERIES[status, locking], {**values, "limit_": limit - len(found)}
        )
        for checkin_id, journey_id, recipient_id in rows:
            lane = lane_of(journey_id, recipient_id)
            if lane not in lanes:  # a dead sender's row and a pending one of its lane
                lanes.add(lane)
                found.append(DueRow(checkin_id, lane))
        if len(found) >= limit:
            break
    return found


def due_checkin_ids(
    session: Session, *, now: datetime, limit: int, owner: str = ""
) -> Sequence[int]:
    """The ids of `due_rows`."""
    return [row.checkin_id for row in due_rows(session, now=now, limit=limit, owner=owner)]


class SentMark(NamedTuple):
    checkin_id: int
    channel_id: str
    message_ts: str
    locale: str | None = None  # the language folder it was written in


def mark_sent(
    session: Session, *, owner: str, sent: Sequence[SentMark], now: datetime
) -> list[bool]:
    """Record rows the platform took as sent; only the worker still holding a row may. For
    each, whether it was still this owner's. On PostgreSQL one statement for all of them
    (`mark_sent_at_once`); on SQLite one per row."""
    if not sent:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return mark_sent_at_once(connection, owner=owner, sent=sent, now=now)
    # SQLite, in process: one statement per row, in one transaction.
    return [
        connection.execute(
            _MARK_SENT,
            {
                "row_id": mark.checkin_id,
                "owner_": owner,
                "channel": mark.channel_id,
                "ts": mark.message_ts,
                "locale_": mark.locale,
                "now_": now,
            },
        ).rowcount
        == 1
        for mark in sent
    ]


def mark_sent_at_once(
    connection: Connection, *, owner: str, sent: Sequence[SentMark], now: datetime
) -> list[bool]:
    """PostgreSQL: record a group of rows as sent in one statement (run on its own, on a
    connection that commits each statement, that statement's commit is the marks'); for
    each, whether it was still this owner's."""
    marked = set(
        connection.execute(
            _MARK_SENT_GROUP,
            {
                "row_ids": [mark.checkin_id for mark in sent],
                "channels": [mark.channel_id for mark in sent],
                "tss": [mark.message_ts for mark in sent],
                "locales": [mark.locale for mark in sent],
                "owner_": owner,
                "now_": now,
            },
        ).scalars()
    )
    return [mark.checkin_id in marked for mark in sent]


def release_checkin(
    session: Session,
    *,
    checkin_id: int,
    owner: str,
    due_at: datetime,
    error: str,
    maybe_posted: bool = True,
    earlier_posting: datetime | None = None,
    refund_attempt: bool = False,
) -> None:
    """Give a claimed row back for a later try.

    `maybe_posted=False` says this try surely did not reach the person: the row's posting
    mark goes back to what an earlier try left (`earlier_posting`; None if none), so the next
    try looks for an earlier post only if one may exist. `refund_attempt` gives back the
    attempt counted when the row was claimed (it was only waiting for the person's working
    hours, or handed back unstarted).
    """
    values: dict[str, object] = {
        "status": CheckinStatus.PENDING,
        "due_at": due_at,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": error[:200],
    }
    if not maybe_posted:
        values["posting_since"] = earlier_posting
    if refund_attempt:
        values["attempts"] = col(Checkin.attempts) - 1
    session.exec(
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.lease_owner) == owner)
        .values(values)
    )


def renew_hold(
    session: Session, *, checkin_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Whether this owner still holds the row, its lease unexpired; if so, the lease is
    renewed. Asked before a post that comes long after the claim (the process stalled), when
    another sender may have taken the row over from it."""
    result = session.connection().execute(
        _RENEW_HOLD, {"row_id": checkin_id, "owner_": owner, "now_": now, "until": now + lease}
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

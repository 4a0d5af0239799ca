"""Which sending processes live: each writes its heartbeat every few seconds, and the rows a
process holds are free for another as soon as its heartbeat is older than DEAD_AFTER (or the
process that watches it saw it die and let them go at once).

A row's lease (checkin.lease_expires_at) stays, as the bound on one hold by a process that
lives: a send hung on a connection that never answers does not keep a row for ever. But what a
crash costs is DEAD_AFTER plus one rescue, no longer a whole lease.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.core.models import Checkin, CheckinStatus, SenderHeartbeat

# A living sender writes its heartbeat this often (from a thread of its own, so a busy event
# loop does not stop it) ...
BEAT_SECONDS = 2.0
# ... and one silent this long is dead: a pause of the whole process (a long garbage
# collection, a slow disk) must stay well under it, and a death costs about this much.
DEAD_AFTER = timedelta(seconds=12)

_HEARTBEAT = SenderHeartbeat.__table__  # type: ignore[attr-defined]
_CHECKIN = Checkin.__table__  # type: ignore[attr-defined]


def beat(session: Session, *, owner: str, now: datetime) -> None:
    """This process lives (inserted the first time)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_HEARTBEAT).values(owner=owner, started_at=now, beat_at=now)
    session.connection().execute(
        statement.on_conflict_do_update(index_elements=["owner"], set_={"beat_at": now})
    )


def forget(session: Session, *, owner: str) -> None:
    """This process stops: it has handed its rows back (or they are released with this)."""
    session.connection().execute(delete(_HEARTBEAT).where(_HEARTBEAT.c.owner == owner))


def held_by_the_dead(
    now: Any, alive_since: Any, rows: Any = _CHECKIN, asking: Any = None
) -> ColumnElement[bool]:
    """A claimed row whose lease ran out, or whose owner's heartbeat is gone or older than
    `alive_since` (values, or bound parameters of a statement built once); `rows` is the
    check-in table or an alias of it. `asking`, the owner who asks, knows it lives: its own
    rows are never dead to it by their heartbeat (a beat held up behind a busy database must
    not make a process take over, under the same name, a row it is still sending)."""
    return and_(
        rows.c.status == CheckinStatus.CLAIMED, ~_alive_lease(now, alive_since, rows, asking)
    )


def held_by_the_living(
    now: Any, alive_since: Any, rows: Any = _CHECKIN, asking: Any = None
) -> ColumnElement[bool]:
    """A claimed row its owner still holds: the lease runs, the heartbeat is recent (or the
    owner is the one who asks)."""
    return and_(
        rows.c.status == CheckinStatus.CLAIMED, _alive_lease(now, alive_since, rows, asking)
    )


def _alive_lease(now: Any, alive_since: Any, rows: Any, asking: Any) -> ColumnElement[bool]:
    alive: ColumnElement[bool] = exists().where(
        _HEARTBEAT.c.owner == rows.c.lease_owner,
        _HEARTBEAT.c.beat_at >= alive_since,
    )
    if asking is not None:
        alive = or_(rows.c.lease_owner == asking, alive)
    return and_(rows.c.lease_expires_at >= now, alive)


def release_rows_of(session: Session, *, owner: str) -> int:
    """Hand back every row `owner` holds, at once: the process that watched it die says so.
    A row it may have posted keeps its mark (posting_since), so it is looked for before it
    is posted again. Returns how many rows were freed."""
    result = session.connection().execute(
        update(_CHECKIN)
        .where(_CHECKIN.c.status == CheckinStatus.CLAIMED, _CHECKIN.c.lease_owner == owner)
        .values(status=CheckinStatus.PENDING, lease_owner=None, lease_expires_at=None)
    )
    forget(session, owner=owner)
    return int(result.rowcount or 0)


def rows_to_rescue(session: Session, *, now: datetime, asking: str | None = None) -> bool:
    """True if a claimed row is held by no living sender (the rescue then sweeps); `asking`
    is the sender that asks (its own rows are not dead to it)."""
    found = session.connection().execute(
        select(_CHECKIN.c.id).where(held_by_the_dead(now, now - DEAD_AFTER, asking=asking)).limit(1)
    )
    return found.first() is not None


def count_living(session: Session, *, now: datetime) -> int:
    """How many sending processes live now (those that share a budget, say Teams')."""
    found = session.connection().execute(
        select(func.count()).select_from(_HEARTBEAT).where(_HEARTBEAT.c.beat_at >= now - DEAD_AFTER)
    )
    return int(found.scalar_one())


def forget_the_long_dead(session: Session, *, now: datetime) -> int:
    """Heartbeats of processes gone for an hour (killed, never to say goodbye)."""
    result = session.connection().execute(
        delete(_HEARTBEAT).where(col(SenderHeartbeat.beat_at) < now - timedelta(hours=1))
    )
    return int(result.rowcount or 0)

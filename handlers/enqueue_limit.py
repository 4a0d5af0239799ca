"""How much one person's own actions may put in the outbox: PER_MINUTE messages a minute.

Every process sends from the same outbox, so one person sending a form again and again would
otherwise queue hundreds of direct messages in seconds and hold up everyone else's. The count
is read from the database, not kept in memory, so that it holds across every process of a
deployment; the person's row is locked while it is read and the action writes, so that two
requests at once (in any process) cannot both pass at PER_MINUTE - 1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core.storage import checkins, people

PER_MINUTE = 20
WINDOW = timedelta(minutes=1)
# The answer's ui text: kind, and telling them nothing they wrote is lost.
TEXT_KEY = "enqueue_limit"


def at_limit(session: Session, *, person_id: int, now: datetime) -> bool:
    """True when the person's actions already queued PER_MINUTE messages in the last minute.

    Call it in the transaction that then writes the rows: the lock it takes is held until that
    transaction ends (PostgreSQL; SQLite has one writer anyway)."""
    people.hold_person(session, person_id=person_id)
    return checkins.enqueued_after(session, person_id=person_id, after=now - WINDOW) >= PER_MINUTE

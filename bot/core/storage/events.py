"""Platform events already handled: each event id is acted on once, and forgotten later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.core.models import ProcessedEvent


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

"""The fast layer's ground: `Services` on a fresh SQLite database, built as the app builds them
(migrated schema, the shipped content, a clock that moves only when told), and small readers
of what the handlers answered and wrote. No HTTP, no Bolt, no stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import SQLModel, col, select

from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.db import make_engine, make_sessions
from bot.core.dependencies import Services
from bot.core.migrate import upgrade
from bot.core.models import AuditEntry
from bot.core.person_ref import PersonRef
from messages.content import Content, LocaleContent
from messages.loader import load_content
from messages.model import Message, Paragraph

T0 = datetime(2025, 1, 6, 10, tzinfo=UTC)  # a Monday, 10:00 UTC: inside working hours
KEY = "handler-tests-secret-key-0123456789"
TEAM = "T0HANDLERS"
CONTENT: Content = load_content()
EN: LocaleContent = CONTENT.for_locale("en", "slack")

Row = TypeVar("Row", bound=SQLModel)


@contextmanager
def sqlite_services(
    tmp_path: Path, *, admin_users: frozenset[str] = frozenset()
) -> Iterator[Services]:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'handlers.db'}")
    try:
        upgrade(engine)
        yield Services(
            settings=Settings(secret_key=KEY, admin_users=admin_users),
            sessions=make_sessions(engine),
            content=CONTENT,
            clock=ManualClock(T0),
        )
    finally:
        engine.dispose()


def ref(user_id: str) -> PersonRef:
    return PersonRef(platform="slack", workspace_id=TEAM, user_id=user_id)


def clock(services: Services) -> ManualClock:
    assert isinstance(services.clock, ManualClock)
    return services.clock


def said(message: Message) -> str:
    """The text of a plain reply (one paragraph)."""
    assert len(message.blocks) == 1
    block = message.blocks[0]
    assert isinstance(block, Paragraph)
    return block.text


def rows(services: Services, model: type[Row]) -> list[Row]:
    """Every row of a table, oldest first, detached from its session."""
    with services.sessions() as session:
        found = list(session.exec(select(model).order_by(col(model.id))))  # type: ignore[attr-defined]
        session.expunge_all()
        return found


def trail(services: Services) -> list[tuple[str, str | None, str | None, str, str, str | None]]:
    """The audit trail as (actor, subject, other, action, outcome, reason), oldest first."""
    return [
        (e.actor, e.subject, e.other, e.action, e.outcome, e.reason)
        for e in rows(services, AuditEntry)
    ]

"""What every handler needs, built once at start and passed in (no module-level singletons)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from bot.core.blocking import BlockingWork
from bot.core.clock import Clock, system_clock
from bot.core.config import Settings
from messages.content import Content


@dataclass(frozen=True)
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    content: Content
    clock: Clock = system_clock
    # Where blocking work runs (the event loop's default executor once a runtime is open).
    blocking: BlockingWork = field(default_factory=lambda: BlockingWork(threads=1))

"""What every handler needs, built once at start and passed in (no module-level singletons)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from bot.blocking import BlockingWork
from bot.config import Settings
from messages.loader import Content

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    content: Content
    clock: Clock = system_clock
    # Where blocking work runs (the event loop's default executor once a runtime is open).
    blocking: BlockingWork = field(default_factory=lambda: BlockingWork(threads=1))


@dataclass(frozen=True)
class PersonRef:
    """A person's identity on one platform: journeys never cross platforms or workspaces.

    `enterprise_id` is the Enterprise Grid org of the workspace, where there is one: not part
    of the identity, it tells which installation's token reaches the person.
    """

    platform: str
    workspace_id: str
    user_id: str
    enterprise_id: str | None = field(default=None, compare=False)


class ManualClock:
    """A clock that moves only when told: the demo's "three days later", and tests."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, moment: datetime) -> None:
        self.now = moment.astimezone(UTC)

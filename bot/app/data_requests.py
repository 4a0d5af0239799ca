"""HR and data-protection requests from the command line: export or erase one person's data.

The same export a person gets from `/notpromoted export`, and the same erase as `forget`; each
leaves an audit row saying which operator ran it.
"""

from __future__ import annotations

import getpass
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.config import ConfigError, Settings
from bot.core.db import make_sessions
from bot.core.dependencies import Services
from bot.core.erasure import erase_person
from bot.core.migrate import ready_engine
from bot.core.models import Checkin, Goal, Journey, Person
from bot.core.person_ref import PersonRef
from handlers.export import export_data
from messages.loader import load_content

OPERATOR_PREFIX = "operator:"
_OPERATOR = re.compile(r"[\w.@+-]{1,64}")

# Exit codes: done; nothing done (unknown person, several matches, not confirmed).
DONE = 0
NOT_DONE = 1


@dataclass(frozen=True)
class Request:
    platform: str
    user_id: str
    workspace_id: str | None
    operator: str


def operator_name(given: str | None) -> str:
    """Who runs the command: --operator, else the login name of the operating-system user."""
    if given is None:
        try:
            given = getpass.getuser()
        except (OSError, KeyError):
            raise ConfigError(
                "can't tell who is running this: give --operator with your name or login"
            ) from None
    name = given.strip()
    if not _OPERATOR.fullmatch(name):
        raise ConfigError(
            "--operator must be a login or e-mail address (letters, digits, . _ @ + -), "
            f"at most 64 characters, got {given!r}"
        )
    return name


def export_person(settings: Settings, request: Request, *, out: TextIO, err: TextIO) -> int:
    with _opened(settings) as services:
        with services.sessions.begin() as session:
            person = _find(session, request, err)
            if person is None:
                return NOT_DONE
            ref = PersonRef(person.platform, person.workspace_id, person.user_id)
        data = export_data(services, ref)
        if data is None:  # erased between the lookup and the export
            print(f"notpromoted: {_who(request)} was erased a moment ago", file=err)
            return NOT_DONE
        with services.sessions.begin() as session:
            _record(session, services, ref, request, audit.EXPORT, subject=ref.user_id)
        print(json.dumps(data, indent=2, ensure_ascii=False), file=out)
        return DONE


def erase_person_data(
    settings: Settings, request: Request, *, confirmed: bool, out: TextIO, err: TextIO
) -> int:
    key = settings.require_secret_key()
    with _opened(settings) as services:
        with services.sessions.begin() as session:
            person = _find(session, request, err)
            if person is None:
                return NOT_DONE
            summary = _summary(session, person)
            ref = PersonRef(person.platform, person.workspace_id, person.user_id)
            whom = f"{ref.platform} user {ref.user_id} in workspace {ref.workspace_id}"
            if not confirmed:
                print(
                    f"notpromoted: this would erase {summary} of {whom}; nothing was erased. "
                    "Run it again with --yes to erase.",
                    file=err,
                )
                return NOT_DONE
            erase_person(session, services, person)
            hashed = audit.hashed(ref.user_id, key)
            _record(session, services, ref, request, audit.ERASE, subject=hashed)
        print(f"erased {summary} of {whom}", file=out)
        return DONE


@contextmanager
def _opened(settings: Settings) -> Iterator[Services]:
    engine = ready_engine(settings.database_url)
    try:
        yield Services(
            settings=settings,
            sessions=make_sessions(engine),
            content=load_content(settings.content_dir, default_locale=settings.default_locale),
        )
    finally:
        engine.dispose()


def _find(session: Session, request: Request, err: TextIO) -> Person | None:
    """The one person the request names; None (and a message) for none or several."""
    query = select(Person).where(
        col(Person.platform) == request.platform, col(Person.user_id) == request.user_id
    )
    if request.workspace_id is not None:
        query = query.where(col(Person.workspace_id) == request.workspace_id)
    found: Sequence[Person] = session.exec(query.order_by(col(Person.workspace_id))).all()
    if not found:
        print(
            f"notpromoted: nothing is kept about {_who(request)}: no such user "
            f"(check the id, e.g. U0123ABCD, and --platform/--workspace)",
            file=err,
        )
        return None
    if len(found) > 1:
        spaces = ", ".join(p.workspace_id for p in found)
        print(
            f"notpromoted: {_who(request)} is known in several workspaces ({spaces}): "
            "say which with --workspace",
            file=err,
        )
        return None
    return found[0]


def _summary(session: Session, person: Person) -> str:
    journeys = session.exec(select(Journey.id).where(col(Journey.person_id) == person.id)).all()
    messages = session.exec(
        select(Checkin.id).where(
            (col(Checkin.journey_id).in_(journeys)) | (col(Checkin.recipient_id) == person.id)
        )
    ).all()
    goals = session.exec(select(Goal.id).where(col(Goal.person_id) == person.id)).all()
    return (
        f"{len(journeys)} journey(s), {len(messages)} message(s), {len(goals)} goal(s) "
        "and everything else kept"
    )


def _who(request: Request) -> str:
    where = f" in workspace {request.workspace_id}" if request.workspace_id else ""
    return f"{request.platform} user {request.user_id}{where}"


def _record(
    session: Session,
    services: Services,
    ref: PersonRef,
    request: Request,
    action: str,
    *,
    subject: str,
) -> None:
    audit.record(
        session,
        at=services.clock(),
        actor=PersonRef(ref.platform, ref.workspace_id, OPERATOR_PREFIX + request.operator),
        action=action,
        outcome=audit.DONE,
        subject=subject,
        reason="hr request",
    )

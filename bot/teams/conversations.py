"""Storage of Teams conversation references: the one thing Teams needs to message a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.core.models import Person, Platform, TeamsConversation
from bot.core.person_ref import PersonRef
from bot.core.storage import checkins, people
from bot.teams.activity_reading import Chat


@dataclass(frozen=True)
class Remembered:
    person: Person
    # Messages that waited for this person to add the app, due now (their first chat).
    woken: tuple[int, ...] = ()


def remember_chat(session: Session, *, chat: Chat, now: datetime) -> Remembered:
    """Create or refresh the person's conversation reference; the person is created too.

    The first reference is what makes a person reachable on Teams: what waited for it (an
    invitation sent before they added the app) falls due at once."""
    person = people.get_or_create_person(session, ref=chat.ref, now=now)
    assert person.id is not None
    row = session.exec(
        select(TeamsConversation).where(TeamsConversation.person_id == person.id)
    ).first()
    woken: list[int] = []
    if row is None:
        woken = checkins.wake_waiting_checkins(session, person_id=person.id, now=now)
        row = TeamsConversation(
            person_id=person.id,
            conversation_id=chat.conversation_id,
            service_url=chat.service_url,
            bot_id=chat.bot_id,
            updated_at=now,
        )
    row.conversation_id = chat.conversation_id
    row.service_url = chat.service_url
    row.bot_id = chat.bot_id
    row.name = chat.name or row.name
    row.time_zone = chat.time_zone or row.time_zone
    row.locale = chat.locale or row.locale
    row.updated_at = now
    session.add(row)
    if person.dm_channel_id != chat.conversation_id:
        person.dm_channel_id = chat.conversation_id
        session.add(person)
    return Remembered(person, tuple(woken))


def conversation_of(session: Session, *, ref: PersonRef) -> TeamsConversation | None:
    if ref.platform != Platform.TEAMS:
        return None
    person = people.find_person(session, ref=ref)
    if person is None or person.id is None:
        return None
    return session.exec(
        select(TeamsConversation).where(TeamsConversation.person_id == person.id)
    ).first()


def names_of(session: Session, *, tenant_id: str, user_ids: set[str]) -> dict[str, str]:
    """The names Teams showed for these people, for those who have talked to the bot."""
    if not user_ids:
        return {}
    rows = session.exec(
        select(Person.user_id, TeamsConversation.name)
        .join(TeamsConversation, TeamsConversation.person_id == Person.id)  # type: ignore[arg-type]
        .where(
            Person.platform == Platform.TEAMS,
            Person.workspace_id == tenant_id,
            Person.user_id.in_(user_ids),  # type: ignore[attr-defined]
        )
    ).all()
    return {user_id: name for user_id, name in rows if name}

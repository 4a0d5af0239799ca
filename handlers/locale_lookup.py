"""Which language to answer a person in: the locale look-ups every handler and adapter uses,
apart from any one use case."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from bot.core.storage import checkins, people
from messages.content import LocaleContent


def person_locale(services: Services, ref: PersonRef) -> LocaleContent:
    with services.sessions.begin() as session:
        return locale_in(session, services, ref)


def checkin_locale(services: Services, checkin_id: int) -> LocaleContent:
    """The language of the person an outbox row is for."""
    with services.sessions.begin() as session:
        return services.content.for_locale(checkins.locale_of_checkin(session, checkin_id))


def locale_in(session: Session, services: Services, ref: PersonRef) -> LocaleContent:
    """The person's language, inside a transaction the caller already has."""
    person = people.find_person(session, ref=ref)
    return services.content.for_locale(person.locale if person else None)

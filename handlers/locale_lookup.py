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


def checkin_locale(services: Services, checkin_id: int, platform: str) -> LocaleContent:
    """The language of the person an outbox row is for, in the words of `platform` (the
    caller's: a row's person is always on the platform that sent it)."""
    with services.sessions.begin() as session:
        tag = checkins.locale_of_checkin(session, checkin_id)
    return services.content.for_locale(tag, platform)


def locale_in(session: Session, services: Services, ref: PersonRef) -> LocaleContent:
    """The person's language, inside a transaction the caller already has."""
    person = people.find_person(session, ref=ref)
    return services.content.for_locale(person.preferred_locale if person else None, ref.platform)


def language_known(services: Services, ref: PersonRef) -> bool | None:
    """Whether the person has a language yet (their own choice or their platform's); None for
    someone the bot does not know."""
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        return None if person is None else person.preferred_locale is not None


def keep_first_language(services: Services, ref: PersonRef, tag: str, create: bool) -> None:
    """The platform's language for someone without one yet (the dispatcher refreshes it with
    their profile later); someone not known yet is written only if `create` (they start)."""
    with services.sessions.begin() as session:
        if create:
            person = people.get_or_create_person(session, ref=ref, now=services.clock())
        else:
            found = people.find_person(session, ref=ref)
            if found is None:
                return
            person = found
        if person.preferred_locale is None:
            person.locale = tag
            session.add(person)

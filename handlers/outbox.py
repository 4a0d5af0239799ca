"""What a check-in row says: composed by the dispatcher when the row is sent, and drawn again
when an adapter must redraw a message it sent (a Teams card that a click replaces in place)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from bot.core import ids
from bot.core.config import Settings
from bot.core.delivery import NothingToSay, RecipientUnreachable
from bot.core.dependencies import Services
from bot.core.models import Checkin, Journey
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from handlers.checkin_messages import checkin_message
from handlers.feedback import draft_message
from handlers.goals import goals_of
from handlers.meeting_messages import meeting_message
from handlers.neutral_messages import finished_message, plain, stage_message
from messages.content import LocaleContent
from messages.model import Bullets, Message


def compose_checkin(
    services: Services,
    *,
    kind: str,
    stage_id: str | None,
    checkin_id: int,
    person_id: int,
    meeting_id: int | None,
    locale_name: str | None,
    platform: str,
) -> Message:
    """The message of one row, for the person it goes to, in their language."""
    locale = services.content.for_locale(locale_name, platform)
    settings = services.settings
    if kind == ids.CHECKIN_KIND_STAGE and stage_id in locale.stages:
        return stage_message(
            content=services.content,
            locale=locale,
            settings=settings,
            stage_id=stage_id or "",
            checkin_id=checkin_id,
        )
    if kind == ids.CHECKIN_KIND_FINISHED:
        return finished_message(locale, settings)
    if meeting_id is not None or kind == ids.CHECKIN_KIND_MEETING_GRANT:
        with services.sessions.begin() as session:
            return meeting_message(
                session,
                kind=kind,
                checkin_id=checkin_id,
                recipient_id=person_id,
                locale=locale,
                services=services,
            )
    with services.sessions.begin() as session:
        goals = goals_of(session, person_id, locale)
    if kind == ids.CHECKIN_KIND_GOALS_SAVED:
        saved = plain(locale, settings, locale.checkin("goals_nudge", "saved", count=len(goals)))
        return Message(
            notification=saved.notification,
            title=locale.checkin("goals_form", "title"),
            blocks=(*saved.blocks, Bullets(tuple(goals))),
        )
    if kind == ids.CHECKIN_KIND_FEEDBACK_REQUEST:
        with services.sessions.begin() as session:
            return draft_message(session, person_id=person_id, locale=locale, services=services)
    if kind in locale.checkins:
        return checkin_message(
            kind, locale=locale, settings=settings, checkin_id=checkin_id, goals=goals
        )
    raise RecipientUnreachable(f"nothing to say for {kind}:{stage_id}")


class OutboxComposer:
    """The dispatcher's Composer (bot.core.delivery): the words of each row, from the use
    cases that know them."""

    checkin = staticmethod(compose_checkin)

    def superseded(self, locale: LocaleContent, settings: Settings) -> Message:
        return plain(locale, settings, locale.text("superseded"))


def recompose_own(services: Services, ref: PersonRef, checkin_id: int | None) -> Message | None:
    """The message of a row sent to this person, drawn again; None if it is not theirs (or
    there is nothing to draw any more)."""
    copy = _own_row(services, ref, checkin_id)
    return _recompose(services, copy) if copy is not None else None


@dataclass(frozen=True)
class SentCopy:
    """Where the bot posted a row's message, as it recorded when it sent it, and that message
    drawn again: what a click on it may change, and nothing else."""

    channel_id: str
    message_ts: str
    message: Message


def sent_copy(services: Services, ref: PersonRef, checkin_id: int | None) -> SentCopy | None:
    """The person's own sent row, where it was posted and what it says; None if the row is not
    theirs, was never posted, or has nothing to draw any more."""
    row = _own_row(services, ref, checkin_id)
    if row is None or not row.channel_id or not row.message_ts:
        return None
    message = _recompose(services, row)
    if message is None:
        return None
    return SentCopy(channel_id=row.channel_id, message_ts=row.message_ts, message=message)


def meeting_offer_row(services: Services, ref: PersonRef, meeting_id: int | None) -> int | None:
    """The row that offered this person the meeting (its buttons carry the meeting's id)."""
    if meeting_id is None:
        return None
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        if person is None:
            return None
        return session.exec(
            select(Checkin.id).where(
                col(Checkin.meeting_id) == meeting_id,
                col(Checkin.recipient_id) == person.id,
                col(Checkin.kind) == ids.CHECKIN_KIND_MEETING_OFFER,
            )
        ).first()


@dataclass(frozen=True)
class _OwnRow:
    checkin_id: int
    kind: str
    stage_id: str | None
    meeting_id: int | None
    person_id: int
    locale_name: str | None
    platform: str
    channel_id: str | None
    message_ts: str | None


def _own_row(services: Services, ref: PersonRef, checkin_id: int | None) -> _OwnRow | None:
    if checkin_id is None:
        return None
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        checkin = session.get(Checkin, checkin_id)
        if person is None or checkin is None:
            return None
        journey = session.get(Journey, checkin.journey_id) if checkin.journey_id else None
        owner = checkin.recipient_id or (journey.person_id if journey else None)
        if owner != person.id or person.id is None:
            return None
        return _OwnRow(
            checkin_id=checkin_id,
            kind=checkin.kind,
            stage_id=checkin.stage_id,
            meeting_id=checkin.meeting_id,
            person_id=person.id,
            # As it was written; rows sent before languages were kept: as the person reads now.
            locale_name=checkin.locale or person.preferred_locale,
            platform=person.platform,
            channel_id=checkin.channel_id,
            message_ts=checkin.message_ts,
        )


def _recompose(services: Services, row: _OwnRow) -> Message | None:
    try:
        return compose_checkin(
            services,
            kind=row.kind,
            stage_id=row.stage_id,
            checkin_id=row.checkin_id,
            person_id=row.person_id,
            meeting_id=row.meeting_id,
            locale_name=row.locale_name,
            platform=row.platform,
        )
    except (NothingToSay, RecipientUnreachable):
        return None

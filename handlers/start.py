"""`/notpromoted`: start a journey, or pick up the one already open."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot import journey as rules
from bot import store
from bot.models import Journey, JourneyStatus
from bot.schedule import plan_start_checkins
from bot.services import PersonRef, Services
from handlers.compose import plain
from handlers.replies import CommandReply


def start_or_resume(services: Services, ref: PersonRef) -> CommandReply:
    try:
        return _start_or_resume(services, ref)
    except IntegrityError:
        # Two commands raced to open the first journey; the loser resumes the winner's.
        return _start_or_resume(services, ref)


def _start_or_resume(services: Services, ref: PersonRef) -> CommandReply:
    now = services.clock()
    with services.sessions.begin() as session:
        person = store.get_or_create_person(session, ref=ref, now=now)
        assert person.id is not None
        locale = services.content.for_locale(person.locale)
        journey = store.open_journey(session, person_id=person.id)
        if journey is None:
            first = rules.begin(
                session, person=person, first_stage=services.content.stage_order[0], now=now
            )
            journey = session.get(Journey, first.journey_id)
            assert journey is not None
            plan_start_checkins(
                session,
                journey=journey,
                person=person,
                settings=services.settings,
                timing=services.content.timing,
                now=now,
            )
            reply_key = "ack_started"
        else:
            reply_key = (
                "ack_resumed_paused" if journey.status == JourneyStatus.PAUSED else "ack_resumed"
            )
            first = rules.redeliver(session, journey=journey, now=now)
        assert first.id is not None
        return CommandReply(
            plain(locale, services.settings, locale.text(reply_key)), send_now=(first.id,)
        )

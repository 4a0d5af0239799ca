"""`/notpromoted`: start a journey, or pick up the one already open."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.core import journey as rules
from bot.core.checkin_planning import overridden_working_time, plan_start_checkins
from bot.core.dependencies import Services
from bot.core.models import Journey, JourneyStatus
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from bot.core.working_calendar import person_zone
from handlers import enqueue_limit
from handlers.neutral_messages import plain
from handlers.replies import CommandReply


def start_or_resume(services: Services, ref: PersonRef) -> CommandReply:
    try:
        return _start_or_resume(services, ref)
    except IntegrityError:
        # Two commands raced to open the first journey; the loser resumes the winner's.
        return _start_or_resume(services, ref)


def _start_or_resume(services: Services, ref: PersonRef) -> CommandReply:
    now = services.clock()
    settings = services.settings
    with services.sessions.begin() as session:
        known = people.start_facts(session, ref=ref)
        facts = known or people.create_person_for_start(session, ref=ref, now=now)
        locale = services.content.for_locale(facts.locale, ref.platform)
        # Typed again and again, the command brings the step back as a new message each time
        # the last one has gone out. Someone seen for the first time has queued nothing yet:
        # their command is answered without the look.
        if known is not None and enqueue_limit.at_limit(
            session, person_id=facts.person_id, now=now
        ):
            return CommandReply(plain(locale, settings, locale.text(enqueue_limit.TEXT_KEY)))
        if facts.journey_id is None:
            begun = rules.begin(
                session,
                person_id=facts.person_id,
                first_stage=services.content.stage_order[0],
                now=now,
            )
            plan_start_checkins(
                session,
                journey_id=begun.journey_id,
                started_at=now,
                zone=person_zone(facts.zone_name, settings.default_time_zone),
                working=overridden_working_time(
                    settings.working_time,
                    (facts.workspace_hours, facts.workspace_days),
                    (facts.work_hours, facts.work_days),
                ),
                timing=services.content.timing,
                now=now,
            )
            first_id = begun.checkin_id
            reply_key = "ack_started"
        else:
            journey = session.get(Journey, facts.journey_id)
            assert journey is not None
            reply_key = (
                "ack_resumed_paused" if journey.status == JourneyStatus.PAUSED else "ack_resumed"
            )
            first = rules.redeliver(session, journey=journey, now=now)
            assert first.id is not None
            first_id = first.id
        return CommandReply(plain(locale, settings, locale.text(reply_key)), send_now=(first_id,))

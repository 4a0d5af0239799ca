"""A click on a stage message: next step, remind me tomorrow, or stop."""

from __future__ import annotations

from bot.core import ids
from bot.core import journey as rules
from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from bot.core.storage import journeys
from bot.core.working_calendar import next_working_day_start, person_zone
from handlers.neutral_messages import format_when
from handlers.replies import ChoiceReply, find_clicked


def choose(
    services: Services, ref: PersonRef, *, checkin_id: int | None, choice: str
) -> ChoiceReply:
    now = services.clock()
    with services.sessions.begin() as session:
        clicked = find_clicked(session, ref, checkin_id)
        locale = services.content.for_locale(
            clicked.person.preferred_locale if clicked else None, ref.platform
        )
        if clicked is None or choice not in ids.STAGE_CHOICES:
            return ChoiceReply(note=locale.text("button_expired"))
        person, checkin, journey = clicked.person, clicked.checkin, clicked.journey
        if not journeys.answer_live_checkin(
            session, checkin_id=checkin.id or 0, answer=choice, now=now
        ):
            # Either a concurrent click on the same message counted first (it updates the
            # message), or the message is no longer the live one.
            session.refresh(checkin)
            already_chosen = checkin.answer in ids.STAGE_CHOICES
            return ChoiceReply(note=None if already_chosen else locale.text("button_expired"))
        session.refresh(journey)

        if choice == ids.STAGE_STOP:
            rules.end(session, journey=journey, now=now)
            return ChoiceReply(note=locale.text("chose_stop"))
        if choice == ids.STAGE_SNOOZE:
            zone = person_zone(person.zone_name, services.settings.default_time_zone)
            until = next_working_day_start(now, zone, services.settings.working_time)
            # The note names the start of working hours; the message comes a few minutes into it.
            rules.snooze(
                session,
                journey=journey,
                until=until,
                now=now,
                spread_minutes=services.content.timing.spread_minutes,
            )
            return ChoiceReply(
                note=locale.text("chose_snooze", when=format_when(locale, until, zone, now))
            )
        following = services.content.next_stage(journey.stage_id)
        sent = rules.advance(session, journey=journey, next_stage=following, now=now)
        assert sent.id is not None
        note = locale.text("chose_next" if following else "chose_finish")
        return ChoiceReply(note=note, send_now=(sent.id,))

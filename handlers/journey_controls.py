"""The subcommands that steer a journey: status, pause, resume, stop, forget, hours, export, and
opening the goals form."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import time

from bot.core import ids
from bot.core import journey as rules
from bot.core.checkin_planning import person_time, replan_for_person
from bot.core.dependencies import Services
from bot.core.erasure import erase_person
from bot.core.models import JourneyStatus
from bot.core.person_ref import PersonRef
from bot.core.storage import journeys, people
from bot.core.working_calendar import (
    WorkingTime,
    is_time_zone,
    parse_hours,
    parse_weekdays,
    person_zone,
    spread,
)
from handlers import enqueue_limit
from handlers.locale_lookup import person_locale
from handlers.neutral_messages import forget_prompt, format_when, plain
from handlers.replies import ChoiceReply, CommandReply
from messages.content import LocaleContent
from messages.formatting import day_words, list_of_days, plain_word, typed_day_names
from messages.model import Button

logger = logging.getLogger(__name__)


def status_line(services: Services, ref: PersonRef) -> str | None:
    """Where the person is, in a sentence or two; None if they have never started."""
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        if person is None or person.id is None:
            return None
        locale = services.content.for_locale(person.preferred_locale, ref.platform)
        journey = journeys.latest_journey(session, person_id=person.id)
        if journey is None:
            return None
        if journey.status == JourneyStatus.COMPLETED:
            return locale.text("status_finished")
        if journey.status == JourneyStatus.STOPPED:
            return locale.text("status_none")
        stage = locale.stages.get(journey.stage_id)
        current = locale.text(
            "status_current",
            number=services.content.position(journey.stage_id),
            total=len(services.content.stage_order),
            title=stage.title if stage else journey.stage_id,
        )
        if journey.status == JourneyStatus.PAUSED:
            return f"{current} {locale.text('status_paused')}"
        waiting = journeys.pending_checkin(session, journey_id=journey.id or 0)
        if waiting is not None and waiting.due_at > now:
            zone = person_zone(person.zone_name, services.settings.default_time_zone)
            # Shown as the start of working hours, as it was promised, not the spread minutes.
            spread_by = spread(waiting.id or 0, services.content.timing.spread_minutes)
            when = format_when(locale, waiting.due_at - spread_by, zone, now)
            return f"{current} {locale.text('status_snoozed', when=when)}"
        return f"{current} {locale.text('status_waiting')}"


def status(services: Services, ref: PersonRef) -> CommandReply:
    line = status_line(services, ref)
    locale = person_locale(services, ref)
    return CommandReply(plain(locale, services.settings, line or locale.text("status_none")))


def pause(services: Services, ref: PersonRef) -> CommandReply:
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        locale = services.content.for_locale(
            person.preferred_locale if person else None, ref.platform
        )
        journey = journeys.open_journey(session, person_id=person.id or 0) if person else None
        if journey is None:
            key = "status_none"
        elif journey.status == JourneyStatus.PAUSED:
            key = "already_paused"
        else:
            journey.status = JourneyStatus.PAUSED
            journey.updated_at = now
            session.add(journey)
            key = "paused"
        return CommandReply(plain(locale, services.settings, locale.text(key)))


def resume(services: Services, ref: PersonRef) -> CommandReply:
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        locale = services.content.for_locale(
            person.preferred_locale if person else None, ref.platform
        )
        journey = journeys.open_journey(session, person_id=person.id or 0) if person else None
        if journey is None:
            return CommandReply(plain(locale, services.settings, locale.text("status_none")))
        if journey.status != JourneyStatus.PAUSED:
            return CommandReply(plain(locale, services.settings, locale.text("not_paused")))
        if enqueue_limit.at_limit(session, person_id=journey.person_id, now=now):
            text = locale.text(enqueue_limit.TEXT_KEY)
            return CommandReply(plain(locale, services.settings, text))
        checkin = rules.redeliver(session, journey=journey, now=now)
        assert checkin.id is not None
        return CommandReply(
            plain(locale, services.settings, locale.text("resumed")), send_now=(checkin.id,)
        )


def stop(services: Services, ref: PersonRef) -> CommandReply:
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        locale = services.content.for_locale(
            person.preferred_locale if person else None, ref.platform
        )
        journey = journeys.open_journey(session, person_id=person.id or 0) if person else None
        if journey is None:
            return CommandReply(plain(locale, services.settings, locale.text("nothing_to_stop")))
        rules.end(session, journey=journey, now=now)
        return CommandReply(plain(locale, services.settings, locale.text("stopped")))


def request_forget(services: Services, ref: PersonRef) -> CommandReply:
    locale = person_locale(services, ref)
    with services.sessions.begin() as session:
        known = people.find_person(session, ref=ref) is not None
    if not known:
        return CommandReply(plain(locale, services.settings, locale.text("nothing_to_forget")))
    return CommandReply(forget_prompt(locale, services.settings))


def confirm_forget(services: Services, ref: PersonRef) -> ChoiceReply:
    locale = person_locale(services, ref)
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        if person is None or person.id is None:
            return ChoiceReply(note=locale.text("nothing_to_forget"))
        erase_person(session, services, person)
    return ChoiceReply(note=locale.text("forgotten"))


def cancel_forget(services: Services, ref: PersonRef) -> ChoiceReply:
    return ChoiceReply(note=person_locale(services, ref).text("forget_cancelled"))


def open_goals(services: Services, ref: PersonRef) -> CommandReply:
    locale = person_locale(services, ref)
    return CommandReply(
        plain(locale, services.settings, locale.text("goals_opening")), open_form=ids.GOALS_FORM
    )


def working_hours(services: Services, ref: PersonRef, text: str) -> CommandReply:
    """`hours` shows the person's working time; `hours 08:00-16:00 mon-thu` changes it, and
    `hours 08:00-16:00 mon-thu Europe/Berlin` their own time zone too (as the Home's form)."""
    words = text.split()
    if len(words) > 3:
        return CommandReply(
            plain(person_locale(services, ref), services.settings, _hours_bad(services, ref))
        )
    hours = words[0] if words else None
    days = words[1] if len(words) >= 2 else None
    zone = words[2] if len(words) == 3 else None
    result = set_working_time(
        services, ref, hours=hours, days=days, zone=zone, keep_zone=zone is None
    )
    locale = person_locale(services, ref)
    if result.errors:
        return CommandReply(plain(locale, services.settings, next(iter(result.errors.values()))))
    shown = plain(locale, services.settings, result.summary)
    if not words:  # only asked: the form that changes them is a click away, on every platform
        change = Button(ids.OPEN_HOURS_FORM, locale.text("hours_button_change"), "hours")
        shown = replace(shown, buttons=(change,))
    return CommandReply(shown)


@dataclass(frozen=True)
class WorkingTimeResult:
    errors: dict[str, str]
    summary: str = ""
    current: tuple[str, str, str] = ("", "", "")  # hours, days and chosen zone, as typed


def set_working_time(
    services: Services,
    ref: PersonRef,
    *,
    hours: str | None,
    days: str | None,
    zone: str | None,
    keep_zone: bool = False,
) -> WorkingTimeResult:
    """Change (or, given nothing, show) the person's own working hours, days and time zone."""
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.get_or_create_person(session, ref=ref, now=now)
        locale = services.content.for_locale(person.preferred_locale, ref.platform)
        errors: dict[str, str] = {}
        if hours and parse_hours(hours) is None:
            errors["hours"] = locale.text("hours_bad")
        if days:
            days = english_days(days, locale.locale)
        if days and parse_weekdays(days) is None:
            errors["days"] = locale.text("hours_bad")
        if zone and not is_time_zone(zone.strip()):
            errors["zone"] = locale.text("hours_zone_bad")
        if errors:
            return WorkingTimeResult(errors=errors)
        changed = bool(hours or days or not keep_zone)
        if hours:
            person.work_hours = hours.strip()
        if days:
            person.work_days = days.strip().lower()
        if not keep_zone:
            person.time_zone_override = zone.strip() if zone and zone.strip() else None
        if changed:
            session.add(person)
            session.flush()
            replan_for_person(
                session, person=person, settings=services.settings, timing=services.content.timing
            )
        zone_info, working = person_time(session, person=person, settings=services.settings)
        text = locale.text(
            "hours_set" if changed else "hours_now",
            hours=describe_hours(working),
            days=describe_days(working, locale),
            zone=zone_info.key,
        )
        current = (
            f"{working.start:%H:%M}-{describe_hours(working).split('–')[1]}",
            ",".join(typed_day_names(locale.locale)[d] for d in sorted(working.days)),
            person.time_zone_override or "",
        )
        return WorkingTimeResult(errors={}, summary=text, current=current)


def _hours_bad(services: Services, ref: PersonRef) -> str:
    return person_locale(services, ref).text("hours_bad")


def describe_hours(working: WorkingTime) -> str:
    end = "24:00" if working.end == time.max else working.end.strftime("%H:%M")
    return f"{working.start.strftime('%H:%M')}–{end}"


def describe_days(working: WorkingTime, locale: LocaleContent) -> str:
    return list_of_days(locale.locale, working.days)


ENGLISH_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def english_days(text: str, language: str) -> str:
    """Days as typed in the person's language ("mo-do", "lun,mié") in the English words they
    are stored in ("mon-thu", "mon,wed"); a word that is no day is left for the check."""
    known = {**day_words(language), **{word: day for day, word in enumerate(ENGLISH_DAYS)}}
    words = re.split(r"([,\-\s]+)", text.strip())
    return "".join(
        ENGLISH_DAYS[known[plain_word(w)]] if plain_word(w) in known else w for w in words
    )


def export(services: Services, ref: PersonRef) -> CommandReply:
    locale = person_locale(services, ref)
    with services.sessions.begin() as session:
        known = people.find_person(session, ref=ref) is not None
    key = "export_sending" if known else "export_nothing"
    return CommandReply(plain(locale, services.settings, locale.text(key)), send_export=known)

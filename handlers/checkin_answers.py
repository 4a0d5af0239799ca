"""A click on a check-in that came days later: feedback, goals, progress."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core import ids
from bot.core.checkin_planning import add_checkin, next_key, person_time
from bot.core.dependencies import Services
from bot.core.models import CheckinStatus, GoalStatus, Journey, JourneyStatus, Person
from bot.core.person_ref import PersonRef
from bot.core.storage import checkins
from bot.core.working_calendar import add_days, add_working_days
from handlers.feedback import NOTE_LIMIT, FormResult
from handlers.goals import close_all_goals
from handlers.neutral_messages import format_when
from handlers.replies import ChoiceReply, find_clicked
from messages.content import LocaleContent
from messages.model import Button

# Answers that leave the check-in's buttons in place.
KEEPS_BUTTONS = {
    ids.NUDGE_HELP: ids.FEEDBACK_FORM,
    ids.NUDGE_WRITE_GOALS: ids.GOALS_FORM,
    ids.NUDGE_NOTES: ids.NOTES_FORM,
}


def answer_nudge(
    services: Services, ref: PersonRef, *, checkin_id: int | None, choice: str
) -> ChoiceReply:
    now = services.clock()
    with services.sessions.begin() as session:
        clicked = find_clicked(session, ref, checkin_id)
        locale = services.content.for_locale(
            clicked.person.preferred_locale if clicked else None, ref.platform
        )
        if (
            clicked is None
            or ids.NUDGE_ANSWERS.get(choice) != clicked.checkin.kind
            or clicked.checkin.status != CheckinStatus.SENT
            or clicked.journey.status == JourneyStatus.STOPPED
        ):
            return ChoiceReply(note=locale.text("button_expired"))
        person, checkin, journey = clicked.person, clicked.checkin, clicked.journey
        if checkin.answered_at is not None:
            return ChoiceReply(note=None)  # another click on it already counted
        if choice in KEEPS_BUTTONS:  # the form it opens answers it when it is sent
            return ChoiceReply(note=None, open_form=KEEPS_BUTTONS[choice])
        if not checkins.answer_checkin(session, checkin_id=checkin.id or 0, answer=choice, now=now):
            return ChoiceReply(note=None)
        note = _settle(session, services, locale, person, journey, choice, now)
        if checkin.kind != ids.CHECKIN_KIND_GOAL_PROGRESS:
            return ChoiceReply(note=note)
        add_note = Button(
            ids.OPEN_PROGRESS_NOTE,
            locale.checkin("goal_progress", "button_note"),
            str(checkin.id),
        )
        stuck = None
        if choice == ids.NUDGE_STUCK:  # guidance, and a way to reshape or wait a week
            kind = ids.CHECKIN_KIND_GOAL_STUCK
            stuck = add_checkin(
                session,
                journey=journey,
                kind=kind,
                key=next_key(session, journey=journey, kind=kind),
                due_at=now,
                now=now,
                within_hours=False,
            )
        return ChoiceReply(
            note=note,
            follow_up=(add_note,),
            send_now=(stuck.id,) if stuck and stuck.id else (),
        )


def save_progress_note(
    services: Services, ref: PersonRef, *, checkin_id: int | None, text: str
) -> FormResult:
    """Keep a private note with a progress answer."""
    with services.sessions.begin() as session:
        clicked = find_clicked(session, ref, checkin_id)
        locale = services.content.for_locale(
            clicked.person.preferred_locale if clicked else None, ref.platform
        )
        if clicked is None or clicked.checkin.kind != ids.CHECKIN_KIND_GOAL_PROGRESS:
            return FormResult(errors={"note": locale.text("button_expired")})
        if len(text) > NOTE_LIMIT:
            return FormResult(errors={"note": locale.text("too_long", limit=NOTE_LIMIT)})
        clicked.checkin.note = text.strip() or None
        session.add(clicked.checkin)
        return FormResult(errors={})


def _settle(
    session: Session,
    services: Services,
    locale: LocaleContent,
    person: Person,
    journey: Journey,
    choice: str,
    now: datetime,
) -> str:
    """Record what the answer means for what comes next; return the note to show."""
    timing = services.content.timing
    zone, working = person_time(session, person=person, settings=services.settings)
    section = ids.NUDGE_ANSWERS[choice]
    if choice == ids.NUDGE_ASKED:
        due = add_working_days(now, timing.feedback_followup_working_days, zone, working)
        add_checkin(
            session,
            journey=journey,
            kind=ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP,
            key=ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP,
            due_at=due,
            now=now,
            spread_minutes=timing.spread_minutes,
        )
        return locale.checkin(section, "chose_asked")
    if choice == ids.PROGRESS_LATER:
        kind = ids.CHECKIN_KIND_GOAL_PROGRESS
        again = add_checkin(
            session,
            journey=journey,
            kind=kind,
            key=next_key(session, journey=journey, kind=kind),
            due_at=add_days(now, 7, zone, working),
            now=now,
            spread_minutes=timing.spread_minutes,
        )
        when = format_when(locale, again.due_at if again else now, zone, now)
        return locale.checkin(section, "chose_later", when=when)
    if choice == ids.NUDGE_LATER:
        due = add_working_days(now, timing.feedback_later_working_days, zone, working)
        kind = ids.CHECKIN_KIND_FEEDBACK_NUDGE
        again = add_checkin(
            session,
            journey=journey,
            kind=kind,
            key=next_key(session, journey=journey, kind=kind),
            due_at=due,
            now=now,
            spread_minutes=timing.spread_minutes,
        )
        when = format_when(locale, again.due_at if again else due, zone, now)
        return locale.checkin(section, "chose_later", when=when)
    if choice in (ids.NUDGE_DONE, ids.NUDGE_LET_GO):
        status = GoalStatus.DONE if choice == ids.NUDGE_DONE else GoalStatus.DROPPED
        close_all_goals(session, person, status, now)
    keys = {
        ids.NUDGE_DECLINE: "chose_decline",
        ids.NUDGE_HELPED: "chose_helped",
        ids.NUDGE_HARD: "chose_hard",
        ids.NUDGE_NONE: "chose_none",
        ids.NUDGE_NOT_NOW: "chose_later",
        ids.NUDGE_ON_TRACK: "chose_on_track",
        ids.NUDGE_STUCK: "chose_stuck",
        ids.NUDGE_DONE: "chose_done",
        ids.NUDGE_LET_GO: "chose_let_go",
    }
    return locale.checkin(section, keys[choice])

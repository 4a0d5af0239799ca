"""Writing goals down: the form's data, its validation, and what saving schedules."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.core import ids
from bot.core.checkin_planning import add_checkin, next_key, person_time
from bot.core.dependencies import Services
from bot.core.models import Checkin, CheckinStatus, Goal, GoalStatus, Journey, Person
from bot.core.person_ref import PersonRef
from bot.core.storage import checkins, journeys, people
from bot.core.working_calendar import add_days
from handlers import enqueue_limit
from handlers.checkin_messages import checkin_message
from messages.content import LocaleContent
from messages.formatting import short_date
from messages.model import Message, clean_typed

MAX_GOALS = 3
TEXT_LIMIT = 300


@dataclass(frozen=True)
class GoalDraft:
    number: int  # 1 to MAX_GOALS, the row of the form
    what: str
    first_step: str
    by_when: date | None
    why: str = ""


@dataclass(frozen=True)
class SavedGoals:
    """`errors` maps a form field ("what_1", "by_when_2") to its message; empty when saved."""

    errors: dict[str, str]
    send_now: tuple[int, ...] = ()
    # The check-in that offered the form, to show in place with its buttons gone.
    retire: tuple[str, str, Message] | None = None


def current_goals(services: Services, ref: PersonRef) -> tuple[LocaleContent, list[GoalDraft]]:
    """The locale and the active goals, to fill the form with."""
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        locale = services.content.for_locale(
            person.preferred_locale if person else None, ref.platform
        )
        if person is None:
            return locale, []
        goals = _active_goals(session, person)
        return locale, [
            GoalDraft(
                number=i,
                what=g.what,
                first_step=g.first_step or "",
                by_when=g.by_when,
                why=g.why or "",
            )
            for i, g in enumerate(goals, start=1)
        ]


def save_goals(
    services: Services, ref: PersonRef, drafts: list[GoalDraft], *, from_checkin: int | None
) -> SavedGoals:
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        locale = services.content.for_locale(
            person.preferred_locale if person else None, ref.platform
        )
        form = locale.checkins["goals_form"]
        journey = _journey_for_goals(session, person) if person else None
        if person is None or journey is None:
            return SavedGoals(errors={"what_1": locale.text("status_none")})
        zone, _ = person_time(session, person=person, settings=services.settings)
        today = now.astimezone(zone).date()
        too_long = locale.text("too_long", limit=TEXT_LIMIT)
        errors = _validate(drafts, today=today, form=form, too_long=too_long)
        if errors:
            return SavedGoals(errors=errors)
        if enqueue_limit.at_limit(session, person_id=person.id or 0, now=now):
            return SavedGoals(errors={"what_1": locale.text(enqueue_limit.TEXT_KEY)})
        kept = [d for d in drafts if d.what.strip()]
        for goal in _active_goals(session, person):
            session.delete(goal)
        for draft in kept:
            session.add(
                Goal(
                    person_id=person.id or 0,
                    journey_id=journey.id,
                    what=draft.what.strip(),
                    why=draft.why.strip() or None,
                    first_step=draft.first_step.strip() or None,
                    by_when=draft.by_when,
                    created_at=now,
                    updated_at=now,
                )
            )
        _replan_progress(session, services, journey, person, now)
        saved = add_checkin(
            session,
            journey=journey,
            kind=ids.CHECKIN_KIND_GOALS_SAVED,
            key=next_key(session, journey=journey, kind=ids.CHECKIN_KIND_GOALS_SAVED),
            due_at=now,
            now=now,
            within_hours=False,
        )
        retire = _answer_offer(session, services, locale, journey, from_checkin, len(kept))
        return SavedGoals(
            errors={}, send_now=(saved.id,) if saved and saved.id else (), retire=retire
        )


def goals_of(session: Session, person_id: int, locale: LocaleContent) -> list[str]:
    goals = session.exec(
        select(Goal)
        .where(Goal.person_id == person_id, Goal.status == GoalStatus.ACTIVE)
        .order_by(col(Goal.id))
    ).all()
    return [_describe(goal, locale) for goal in goals]


def _describe(goal: Goal, locale: LocaleContent) -> str:
    what = clean_typed(goal.what)  # stored before typed text was cleaned on the way in
    if goal.by_when is None:
        return what
    return locale.text("goal_by_when", goal=what, date=short_date(locale.locale, goal.by_when))


def _active_goals(session: Session, person: Person) -> list[Goal]:
    return list(
        session.exec(
            select(Goal)
            .where(Goal.person_id == person.id, Goal.status == GoalStatus.ACTIVE)
            .order_by(col(Goal.id))
        ).all()
    )


def _journey_for_goals(session: Session, person: Person) -> Journey | None:
    assert person.id is not None
    return journeys.open_journey(session, person_id=person.id) or journeys.latest_journey(
        session, person_id=person.id
    )


def _validate(
    drafts: list[GoalDraft], *, today: date, form: dict[str, str], too_long: str
) -> dict[str, str]:
    """The form's errors by field; checked here, not only by the forms that have three rows,
    so that no way in can store more than MAX_GOALS goals."""
    errors: dict[str, str] = {}
    numbers = [draft.number for draft in drafts]
    if len(set(numbers)) != len(numbers) or not all(1 <= n <= MAX_GOALS for n in numbers):
        return {"what_1": form["too_many"].format(count=MAX_GOALS)}
    for draft in drafts:
        if not draft.what.strip() and draft.first_step.strip():
            errors[f"what_{draft.number}"] = form["step_without_goal"]
        if draft.by_when is not None and draft.by_when < today:
            errors[f"by_when_{draft.number}"] = form["date_in_past"]
        for field, text in (
            ("what", draft.what),
            ("why", draft.why),
            ("first_step", draft.first_step),
        ):
            if len(text) > TEXT_LIMIT:
                errors[f"{field}_{draft.number}"] = too_long
    if not any(d.what.strip() for d in drafts):
        errors.setdefault("what_1", form["need_one"])
    return errors


def _replan_progress(
    session: Session, services: Services, journey: Journey, person: Person, now: datetime
) -> None:
    """Progress check-ins count from the moment goals are (re)written."""
    assert journey.id is not None
    for row in session.exec(
        select(Checkin).where(
            Checkin.journey_id == journey.id,
            Checkin.kind == ids.CHECKIN_KIND_GOAL_PROGRESS,
            Checkin.status == CheckinStatus.PENDING,
        )
    ).all():
        row.status = CheckinStatus.CANCELLED
        session.add(row)
    zone, working = person_time(session, person=person, settings=services.settings)
    timing = services.content.timing
    for days in timing.goal_progress_days:
        add_checkin(
            session,
            journey=journey,
            kind=ids.CHECKIN_KIND_GOAL_PROGRESS,
            key=next_key(session, journey=journey, kind=ids.CHECKIN_KIND_GOAL_PROGRESS),
            due_at=add_days(now, days, zone, working),
            now=now,
            spread_minutes=timing.spread_minutes,
        )


def _answer_offer(
    session: Session,
    services: Services,
    locale: LocaleContent,
    journey: Journey,
    checkin_id: int | None,
    count: int,
) -> tuple[str, str, Message] | None:
    """Mark the goals check-in that offered the form answered, and give back its new look."""
    if checkin_id is None:
        return None
    offer = session.get(Checkin, checkin_id)
    if (
        offer is None
        or offer.journey_id != journey.id
        or offer.kind != ids.CHECKIN_KIND_GOALS_NUDGE
        or not offer.channel_id
        or not offer.message_ts
    ):
        return None
    checkins.answer_checkin(
        session, checkin_id=checkin_id, answer=ids.NUDGE_WRITE_GOALS, now=services.clock()
    )
    shown = checkin_message(
        offer.kind, locale=locale, settings=services.settings, checkin_id=checkin_id
    )
    note = locale.checkin("goals_nudge", "saved", count=count)
    return offer.channel_id, offer.message_ts, _without_buttons(shown, note)


def _without_buttons(message: Message, note: str) -> Message:
    return replace(message, buttons=(), note=f"✓ {note}")


def set_goal_status(
    services: Services, ref: PersonRef, *, goal_id: int | None, status: str
) -> bool:
    """Mark one of the person's own active goals done or dropped."""
    if status not in (GoalStatus.DONE, GoalStatus.DROPPED):
        return False
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        goal = session.get(Goal, goal_id) if goal_id is not None else None
        if person is None or goal is None or goal.person_id != person.id:
            return False
        if goal.status != GoalStatus.ACTIVE:
            return False
        goal.status = status
        goal.updated_at = services.clock()
        session.add(goal)
        return True


def close_all_goals(session: Session, person: Person, status: str, now: datetime) -> None:
    for goal in _active_goals(session, person):
        goal.status = status
        goal.updated_at = now
        session.add(goal)


def active_goal_rows(
    session: Session, person: Person, locale: LocaleContent
) -> list[tuple[int, str]]:
    return [(goal.id or 0, _describe(goal, locale)) for goal in _active_goals(session, person)]

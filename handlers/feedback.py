"""Asking for feedback: the request the person sends themselves, and their private notes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core import ids
from bot.core.checkin_planning import add_checkin, next_key, person_time
from bot.core.dependencies import Services
from bot.core.models import FeedbackNote, FeedbackRequest, Person
from bot.core.person_ref import PersonRef
from bot.core.storage import journeys, people
from bot.core.working_calendar import add_working_days
from handlers import enqueue_limit
from handlers.neutral_messages import notification
from messages.content import LocaleContent
from messages.model import Message, Paragraph, Preformatted, clean_typed

TONES = ("short", "warm", "formal")
FOCUS_LIMIT = 500
NOTE_LIMIT = 1000


@dataclass(frozen=True)
class FormResult:
    """`errors` maps a form field to its message; empty when the form was accepted."""

    errors: dict[str, str]
    send_now: tuple[int, ...] = ()


def request_feedback(
    services: Services, ref: PersonRef, *, decider: str | None, focus: str, tone: str
) -> FormResult:
    """Record the plan, send the draft to the person, and check in a few working days later."""
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.get_or_create_person(session, ref=ref, now=now)
        locale = services.content.for_locale(person.preferred_locale, person.platform)
        form = locale.checkins["feedback_form"]
        if not decider:
            return FormResult(errors={"decider": form["need_decider"]})
        if decider == ref.user_id:
            return FormResult(errors={"decider": form["not_yourself"]})
        if len(focus) > FOCUS_LIMIT:
            return FormResult(errors={"focus": locale.text("too_long", limit=FOCUS_LIMIT)})
        journey = journeys.open_journey(
            session, person_id=person.id or 0
        ) or journeys.latest_journey(session, person_id=person.id or 0)
        if journey is None:
            return FormResult(errors={"decider": locale.text("status_none")})
        if enqueue_limit.at_limit(session, person_id=person.id or 0, now=now):
            return FormResult(errors={"decider": locale.text(enqueue_limit.TEXT_KEY)})
        session.add(
            FeedbackRequest(
                person_id=person.id or 0,
                decider_user_id=decider,
                focus=focus.strip() or None,
                tone=tone if tone in TONES else "warm",
                created_at=now,
            )
        )
        draft = add_checkin(
            session,
            journey=journey,
            kind=ids.CHECKIN_KIND_FEEDBACK_REQUEST,
            key=next_key(session, journey=journey, kind=ids.CHECKIN_KIND_FEEDBACK_REQUEST),
            due_at=now,
            now=now,
            within_hours=False,
        )
        zone, working = person_time(session, person=person, settings=services.settings)
        timing = services.content.timing
        add_checkin(  # once per journey: a second request does not ask twice how it went
            session,
            journey=journey,
            kind=ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP,
            key=ids.CHECKIN_KIND_FEEDBACK_FOLLOWUP,
            due_at=add_working_days(now, timing.feedback_followup_working_days, zone, working),
            now=now,
            spread_minutes=timing.spread_minutes,
        )
        return FormResult(errors={}, send_now=(draft.id,) if draft and draft.id else ())


def save_notes(services: Services, ref: PersonRef, *, keep: str, work_on: str) -> FormResult:
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.get_or_create_person(session, ref=ref, now=now)
        locale = services.content.for_locale(person.preferred_locale, person.platform)
        form = locale.checkins["feedback_notes"]
        if not keep.strip() and not work_on.strip():
            return FormResult(errors={"keep": form["need_one"]})
        errors = {
            field: locale.text("too_long", limit=NOTE_LIMIT)
            for field, text in (("keep", keep), ("work_on", work_on))
            if len(text) > NOTE_LIMIT
        }
        if errors:
            return FormResult(errors=errors)
        session.add(
            FeedbackNote(
                person_id=person.id or 0,
                keep=keep.strip() or None,
                work_on=work_on.strip() or None,
                created_at=now,
            )
        )
        return FormResult(errors={})


def draft_message(
    session: Session, *, person_id: int, locale: LocaleContent, services: Services
) -> Message:
    """The copy-ready request, in the tone and with the focus the person chose."""
    request = session.exec(
        select(FeedbackRequest)
        .where(FeedbackRequest.person_id == person_id)
        .order_by(col(FeedbackRequest.id).desc())
        .limit(1)
    ).first()
    texts = locale.checkins["feedback_request"]
    tone = request.tone if request else "warm"
    focus = clean_typed(request.focus) if request and request.focus else None
    focus_line = f"\n{texts['focus_line'].format(focus=focus)}\n" if focus else ""
    draft = texts[f"draft_{tone}"].format(focus_line=focus_line)
    return Message(
        notification=notification(locale, services.settings),
        title=texts["title"],
        blocks=(Paragraph(texts["intro"]), Preformatted(draft)),
        todo=texts["todo"],
        todo_lead=locale.text("todo_lead"),
    )


def notes_of(session: Session, person: Person) -> list[FeedbackNote]:
    return list(
        session.exec(
            select(FeedbackNote)
            .where(FeedbackNote.person_id == person.id)
            .order_by(col(FeedbackNote.id))
        ).all()
    )

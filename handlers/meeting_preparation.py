"""The manager prepares a feedback meeting: the template, checked and saved, and the messages
it sends (the agenda to the manager, the offer to the person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core import audit, ids
from bot.core.checkin_planning import add_message, person_time
from bot.core.dependencies import Services
from bot.core.models import FeedbackMeeting
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from handlers import enqueue_limit
from handlers.locale_lookup import locale_in
from handlers.meeting_access import Someone, access_in, record_refusal, ref_for
from handlers.replies import FormAnswer, row_ids
from messages.content import LocaleContent
from messages.model import mention

FIELD_LIMIT = 1500


@dataclass(frozen=True)
class MeetingDraft:
    thanks: str
    observed: str
    gaps: str
    next_steps: str
    growth: str
    meeting_on: date | None
    follow_up_on: date | None


def prepare_meeting(
    services: Services,
    actor: PersonRef,
    subject: Someone,
    draft: MeetingDraft,
    *,
    in_group: bool,
) -> FormAnswer:
    now = services.clock()
    with services.sessions.begin() as session:
        locale = locale_in(session, services, actor)
        access = access_in(session, services, actor, subject, in_group=in_group, locale=locale)
        if access.authority is None:
            record_refusal(session, services, actor, subject, access)
            return FormAnswer(errors={"thanks": access.refusal or ""})
        manager = people.get_or_create_person(session, ref=actor, now=now)
        zone, _ = person_time(session, person=manager, settings=services.settings)
        errors = _validate(draft, locale, today=now.astimezone(zone).date())
        if errors:
            return FormAnswer(errors=errors)
        if enqueue_limit.at_limit(session, person_id=manager.id or 0, now=now):
            return FormAnswer(errors={"thanks": locale.text(enqueue_limit.TEXT_KEY)})
        assert draft.meeting_on is not None and draft.follow_up_on is not None
        person = people.get_or_create_person(session, ref=ref_for(actor, subject.user_id), now=now)
        meeting = FeedbackMeeting(
            person_id=person.id or 0,
            manager_id=manager.id or 0,
            authority=access.authority,
            thanks=draft.thanks.strip(),
            observed=draft.observed.strip(),
            gaps=draft.gaps.strip(),
            next_steps=draft.next_steps.strip(),
            growth=draft.growth.strip() or None,
            meeting_on=draft.meeting_on,
            follow_up_on=draft.follow_up_on,
            created_at=now,
        )
        session.add(meeting)
        session.flush()
        audit.record(
            session,
            at=now,
            actor=actor,
            subject=subject.user_id,
            action=audit.PREPARE,
            outcome=audit.ALLOWED,
            reason=access.authority,
        )
        agenda = add_message(
            session,
            recipient=manager,
            meeting_id=meeting.id,
            kind=ids.CHECKIN_KIND_MEETING_AGENDA,
            key="agenda",
            due_at=now,
            now=now,
            within_hours=False,
        )
        # The person hears of it in their own working hours, not at night.
        offer = add_message(
            session,
            recipient=person,
            meeting_id=meeting.id,
            kind=ids.CHECKIN_KIND_MEETING_OFFER,
            key="offer",
            due_at=now,
            now=now,
        )
        saved = locale.checkin("meeting_template_form", "saved", person=mention(subject.user_id))
        return FormAnswer(errors={}, saved=saved, send_now=row_ids(agenda, offer))


def _validate(draft: MeetingDraft, locale: LocaleContent, *, today: date) -> dict[str, str]:
    form = locale.checkins["meeting_template_form"]
    errors: dict[str, str] = {}
    for field in ("thanks", "observed", "gaps", "next_steps"):
        if not getattr(draft, field).strip():
            errors[field] = form["error_required"]
    for field in ("thanks", "observed", "gaps", "next_steps", "growth"):
        if len(getattr(draft, field).strip()) > FIELD_LIMIT:
            errors[field] = locale.checkin(
                "meeting_template_form", "error_too_long", limit=FIELD_LIMIT
            )
    if draft.meeting_on is None:
        errors["meeting_on"] = form["error_date_missing"]
    elif draft.meeting_on < today:
        errors["meeting_on"] = form["error_past"]
    if draft.follow_up_on is None:
        errors["follow_up_on"] = form["error_date_missing"]
    elif draft.meeting_on is not None and draft.follow_up_on <= draft.meeting_on:
        errors["follow_up_on"] = form["error_order"]
    return errors

"""The person answers a meeting offer: both are told, and on a yes the follow-up and the
reminder are planned; the meeting's next steps can then become the person's goals."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, update

from bot.core import audit, ids
from bot.core.checkin_planning import add_message, person_time
from bot.core.dependencies import Services
from bot.core.models import FeedbackMeeting, MeetingStatus, Person
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from bot.core.working_calendar import next_working_moment
from handlers.goals import MAX_GOALS, TEXT_LIMIT, GoalDraft, current_goals
from handlers.locale_lookup import locale_in
from handlers.replies import ChoiceReply, row_ids
from messages.content import LocaleContent
from messages.model import mention


def answer_offer(
    services: Services, ref: PersonRef, meeting_id: int | None, *, accept: bool
) -> ChoiceReply:
    now = services.clock()
    with services.sessions.begin() as session:
        locale = locale_in(session, services, ref)
        offer = locale.checkins["meeting_offer"]
        person = people.find_person(session, ref=ref)
        meeting = session.get(FeedbackMeeting, meeting_id) if meeting_id is not None else None
        if person is None or meeting is None or meeting.person_id != person.id:
            return ChoiceReply(note=locale.text("button_expired"))
        status = MeetingStatus.ACCEPTED if accept else MeetingStatus.DECLINED
        changed = session.exec(
            update(FeedbackMeeting)
            .where(
                col(FeedbackMeeting.id) == meeting.id,
                col(FeedbackMeeting.status) == MeetingStatus.OFFERED,
            )
            .values(status=status, answered_at=now)
        )
        if changed.rowcount != 1:
            return ChoiceReply(note=offer["answered"])
        manager = session.get(Person, meeting.manager_id)
        assert manager is not None
        audit.record(
            session,
            at=now,
            actor=ref,
            subject=ref.user_id,
            other=manager.user_id,
            action=audit.ACCEPT if accept else audit.DECLINE,
            outcome=audit.DONE,
        )
        if not accept:
            told = add_message(
                session,
                recipient=manager,
                meeting_id=meeting.id,
                kind=ids.CHECKIN_KIND_MEETING_DECLINED,
                key="declined",
                due_at=now,
                now=now,
            )
            note = locale.checkin(
                "meeting_offer", "chose_decline", manager=mention(manager.user_id)
            )
            return ChoiceReply(note=note, send_now=row_ids(told))
        sent = [
            add_message(
                session,
                recipient=person,
                meeting_id=meeting.id,
                kind=ids.CHECKIN_KIND_MEETING_ACCEPTED,
                key="accepted",
                due_at=now,
                now=now,
                within_hours=False,
            ),
            add_message(
                session,
                recipient=manager,
                meeting_id=meeting.id,
                kind=ids.CHECKIN_KIND_MEETING_ACCEPTED,
                key="accepted",
                due_at=now,
                now=now,
            ),
        ]
        for someone in (person, manager):
            _plan_after(session, services, meeting, someone, now)
        return ChoiceReply(note=offer["chose_accept"], send_now=row_ids(*sent))


def _plan_after(
    session: Session, services: Services, meeting: FeedbackMeeting, someone: Person, now: datetime
) -> None:
    """The follow-up the day after the meeting and the reminder on the follow-up date, each at
    the start of that person's working hours."""
    zone, working = person_time(session, person=someone, settings=services.settings)
    for kind, day in (
        (ids.CHECKIN_KIND_MEETING_FOLLOWUP, meeting.meeting_on + timedelta(days=1)),
        (ids.CHECKIN_KIND_MEETING_REMINDER, meeting.follow_up_on),
    ):
        morning = datetime.combine(day, time(0, 0), tzinfo=zone)
        add_message(
            session,
            recipient=someone,
            meeting_id=meeting.id,
            kind=kind,
            key=kind,
            due_at=max(next_working_moment(morning, zone, working).astimezone(UTC), now),
            now=now,
        )


def next_steps_as_goals(
    services: Services, ref: PersonRef, meeting_id: int | None
) -> tuple[LocaleContent, list[GoalDraft]] | None:
    """The goals form, filled with the person's goals and then the meeting's next steps."""
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        meeting = session.get(FeedbackMeeting, meeting_id) if meeting_id is not None else None
        if person is None or meeting is None or meeting.person_id != person.id:
            return None
        if meeting.status != MeetingStatus.ACCEPTED:
            return None
        meeting.linked_to_goals = True
        session.add(meeting)
    locale, goals = current_goals(services, ref)
    steps = [line.strip(" -•*\t") for line in meeting.next_steps.splitlines()]
    for step in (s for s in steps if s):
        if len(goals) >= MAX_GOALS:
            break
        goals.append(
            GoalDraft(number=len(goals) + 1, what=step[:TEXT_LIMIT], first_step="", by_when=None)
        )
    return locale, goals

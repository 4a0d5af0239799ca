"""Feedback meetings: who may prepare one for whom, the template, and the person's answer.

Platform-neutral. The adapter looks up what the platform knows about the people named (do
they exist, are they active, are they a bot, is the actor in the managers' group) and hands
it in as `Someone` and `in_group`; everything that is decided is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from bot.core import audit, ids
from bot.core.checkin_planning import add_message, person_time
from bot.core.dependencies import Services
from bot.core.models import (
    Checkin,
    CheckinStatus,
    FeedbackMeeting,
    ManagerGrant,
    MeetingStatus,
    Person,
)
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from bot.core.working_calendar import next_working_moment
from handlers.controls import locale_in
from handlers.goals import MAX_GOALS, TEXT_LIMIT, GoalDraft, current_goals
from handlers.replies import ChoiceReply
from messages.loader import LocaleContent
from messages.model import mention

FIELD_LIMIT = 1500
AUTHORITY_INVITED = "invited"
AUTHORITY_GROUP = "group"
AUTHORITY_ADMIN = "admin"
# An invitation messages a manager; so that nobody can make the bot message a colleague over
# and over, one person's invitations message the same manager at most once in QUIET_WINDOW
# (a renewed one is granted quietly) and reach at most INVITES_PER_DAY managers a day.
QUIET_WINDOW = timedelta(days=7)
INVITES_PER_DAY = 5


@dataclass(frozen=True)
class Someone:
    """A user someone named, as the platform describes them."""

    user_id: str
    found: bool = True
    active: bool = True
    is_bot: bool = False
    # True where the platform cannot say whether they can be messaged yet, and must not be
    # asked (Teams: whether they added the app is theirs to share): an invitation to them
    # waits in the outbox until they can be, and the inviter's answer says so, either way.
    reached_later: bool = False


@dataclass(frozen=True)
class MeetingDraft:
    thanks: str
    observed: str
    gaps: str
    next_steps: str
    growth: str
    meeting_on: date | None
    follow_up_on: date | None


@dataclass(frozen=True)
class Access:
    """`authority` says why the actor may prepare a meeting; None with `refusal` if not."""

    authority: str | None
    refusal: str | None = None
    reason: str | None = None  # for the audit trail: self, bot, not_invited, declined...


@dataclass(frozen=True)
class FormAnswer:
    """Errors by form field, or the text that replaces the form once saved."""

    errors: dict[str, str]
    saved: str = ""
    send_now: tuple[int, ...] = ()


# -- who may ------------------------------------------------------------------------------


def check_access(
    services: Services, actor: PersonRef, subject: Someone, *, in_group: bool
) -> Access:
    """May `actor` prepare a meeting for `subject`? A refusal is written to the audit trail."""
    with services.sessions.begin() as session:
        locale = locale_in(session, services, actor)
        access = _access(session, services, actor, subject, in_group=in_group, locale=locale)
        if access.authority is None:
            _record_refusal(session, services, actor, subject, access)
        return access


def _access(
    session: Session,
    services: Services,
    actor: PersonRef,
    subject: Someone,
    *,
    in_group: bool,
    locale: LocaleContent,
) -> Access:
    refused = locale.checkins["meeting_refused"]
    if subject.user_id == actor.user_id:
        return Access(None, refused["self"], "self")
    # Whether the actor may comes first: someone without a role or an invitation reads the
    # same refusal whoever they named, so the answer never tells them whether that colleague
    # is known here (on Teams, "found" means the colleague has the app).
    grant = _live_grant(session, _ref_for(actor, subject.user_id), actor.user_id)
    if actor.user_id in services.settings.admin_users:
        authority = AUTHORITY_ADMIN
    elif in_group:
        authority = AUTHORITY_GROUP
    elif grant is not None:
        authority = AUTHORITY_INVITED
    else:
        return Access(None, refused["not_allowed"], "not_invited")
    if not subject.found or not subject.active or subject.is_bot:
        reason = "unknown_user" if not subject.found else "bot" if subject.is_bot else "deactivated"
        return Access(None, refused["not_a_person"], reason)
    last = _last_meeting(session, actor, subject.user_id)
    if last is not None and last.status == MeetingStatus.OFFERED:
        return Access(None, refused["waiting"], "waiting")
    if _declined_since(last, grant):
        return Access(None, refused["not_allowed"], "declined")
    return Access(authority)


def _declined_since(last: FeedbackMeeting | None, grant: ManagerGrant | None) -> bool:
    """A decline is final: the person said no to this manager's last meeting and has not
    invited them again since."""
    if last is None or last.status != MeetingStatus.DECLINED:
        return False
    return grant is None or grant.granted_at <= (last.answered_at or last.created_at)


def _last_meeting(session: Session, actor: PersonRef, subject_id: str) -> FeedbackMeeting | None:
    """The latest meeting this actor prepared for this person, if any."""
    manager = people.find_person(session, ref=actor)
    person = people.find_person(session, ref=_ref_for(actor, subject_id))
    if manager is None or person is None:
        return None
    return session.exec(
        select(FeedbackMeeting)
        .where(
            FeedbackMeeting.person_id == person.id,
            FeedbackMeeting.manager_id == manager.id,
        )
        .order_by(col(FeedbackMeeting.id).desc())
    ).first()


def _record_refusal(
    session: Session, services: Services, actor: PersonRef, subject: Someone, access: Access
) -> None:
    audit.record(
        session,
        at=services.clock(),
        actor=actor,
        subject=subject.user_id,
        action=audit.PREPARE,
        outcome=audit.REFUSED,
        reason=access.reason,
    )


def _live_grant(session: Session, person_ref: PersonRef, manager_id: str) -> ManagerGrant | None:
    person = people.find_person(session, ref=person_ref)
    if person is None:
        return None
    return session.exec(
        select(ManagerGrant).where(
            ManagerGrant.person_id == person.id,
            ManagerGrant.manager_user_id == manager_id,
            col(ManagerGrant.revoked_at).is_(None),
        )
    ).first()


# -- the person invites their manager -------------------------------------------------------


def invite_manager(services: Services, ref: PersonRef, manager: Someone) -> FormAnswer:
    now = services.clock()
    with services.sessions.begin() as session:
        locale = locale_in(session, services, ref)
        form = locale.checkins["meeting_invite_form"]
        if manager.user_id == ref.user_id:
            return FormAnswer(errors={"manager": form["error_self"]})
        if manager.is_bot:
            return FormAnswer(errors={"manager": form["error_bot"]})
        if not manager.found or not manager.active:
            return FormAnswer(errors={"manager": form["error_unknown"]})
        person = people.get_or_create_person(session, ref=ref, now=now)
        _hold(session, person)
        live = _live_grant(session, ref, manager.user_id)
        after_no = False
        if live is not None:
            last = _last_meeting(session, _ref_for(ref, manager.user_id), ref.user_id)
            if not _declined_since(last, live):
                return FormAnswer(errors={}, saved=form["already"])
            live.revoked_at = now  # asked again after a "no": a fresh invitation
            session.add(live)
            after_no = True
        quiet = not after_no and _told_lately(session, services, ref, manager.user_id, now)
        if not quiet and _told_today(session, services, ref, now) >= INVITES_PER_DAY:
            _record_grant(session, now, ref, manager, audit.REFUSED, audit.DAILY_LIMIT)
            return FormAnswer(errors={"manager": form["error_too_many"]})
        grant = ManagerGrant(
            person_id=person.id or 0, manager_user_id=manager.user_id, granted_at=now
        )
        session.add(grant)
        session.flush()
        _record_grant(session, now, ref, manager, audit.DONE, audit.RENEWED if quiet else None)
        manager_person = people.get_or_create_person(
            session, ref=_ref_for(ref, manager.user_id), now=now
        )
        saved = _saved_text(locale, services, manager, renewed=quiet)
        if quiet and _reached(session, person, manager_person, since=now - QUIET_WINDOW):
            return FormAnswer(errors={}, saved=saved)
        told = add_message(
            session,
            recipient=manager_person,
            kind=ids.CHECKIN_KIND_MEETING_GRANT,
            key=f"grant:{grant.id}",
            due_at=now,
            now=now,
            within_hours=False,
        )
        return FormAnswer(errors={}, saved=saved, send_now=_ids(told))


def _saved_text(
    locale: LocaleContent, services: Services, manager: Someone, *, renewed: bool
) -> str:
    """What the inviter reads once it is saved: the same whether or not the manager can be
    messaged yet, so the answer never tells them which."""
    if not manager.reached_later:
        return locale.checkins["meeting_invite_form"]["renewed" if renewed else "saved"]
    key = "renewed_in_teams" if renewed else "saved_in_teams"
    return locale.checkin("meeting_invite_form", key, app_name=services.settings.display_name)


def _reached(session: Session, person: Person, manager: Person, *, since: datetime) -> bool:
    """Did one of this person's invitations within the quiet window reach this manager (or
    may it have)? One withdrawn before it could be delivered (on Teams, before they added the
    app) did not: a renewed invitation is then written like a new one, still at most one
    message in the window, and the inviter reads "renewed" either way."""
    grant_ids = session.exec(
        select(ManagerGrant.id).where(
            ManagerGrant.person_id == person.id,
            ManagerGrant.manager_user_id == manager.user_id,
        )
    ).all()
    found = session.exec(
        select(Checkin.id)
        .where(
            Checkin.recipient_id == manager.id,
            Checkin.kind == ids.CHECKIN_KIND_MEETING_GRANT,
            col(Checkin.key).in_([f"grant:{grant_id}" for grant_id in grant_ids]),
            col(Checkin.created_at) >= since,
            # Sent, or maybe: a post whose answer was lost counts as reached.
            or_(col(Checkin.status) == CheckinStatus.SENT, col(Checkin.posting_since).is_not(None)),
        )
        .limit(1)
    ).first()
    return found is not None


def _hold(session: Session, person: Person) -> None:
    """Lock the inviter's row until the invitation is written, so that two requests at once
    (in any process) cannot both pass the limits (PostgreSQL; SQLite has one writer anyway)."""
    session.exec(select(Person.id).where(Person.id == person.id).with_for_update()).first()


def _told_lately(
    session: Session, services: Services, ref: PersonRef, manager_id: str, now: datetime
) -> bool:
    """Has an invitation from this person messaged this manager within the quiet window?"""
    key = services.settings.secret_key
    since = now - QUIET_WINDOW
    return audit.invitations_told(session, ref, since=since, key=key, manager=manager_id) > 0


def _told_today(session: Session, services: Services, ref: PersonRef, now: datetime) -> int:
    """How many managers this person's invitations messaged in the last 24 hours."""
    key = services.settings.secret_key
    return audit.invitations_told(session, ref, since=now - timedelta(days=1), key=key)


def _record_grant(
    session: Session,
    now: datetime,
    ref: PersonRef,
    manager: Someone,
    outcome: str,
    reason: str | None,
) -> None:
    audit.record(
        session,
        at=now,
        actor=ref,
        subject=ref.user_id,
        other=manager.user_id,
        action=audit.GRANT,
        outcome=outcome,
        reason=reason,
    )


def withdraw_invitation(services: Services, ref: PersonRef, grant_id: int | None) -> bool:
    """The person takes an invitation back; the manager can no longer prepare a meeting."""
    now = services.clock()
    with services.sessions.begin() as session:
        person = people.find_person(session, ref=ref)
        grant = session.get(ManagerGrant, grant_id) if grant_id is not None else None
        if person is None or grant is None or grant.person_id != person.id:
            return False
        if grant.revoked_at is not None:
            return False
        grant.revoked_at = now
        session.add(grant)
        _cancel_undelivered(session, ref, grant)
        audit.record(
            session,
            at=now,
            actor=ref,
            subject=ref.user_id,
            other=grant.manager_user_id,
            action=audit.WITHDRAW,
            outcome=audit.DONE,
        )
        return True


def _cancel_undelivered(session: Session, ref: PersonRef, grant: ManagerGrant) -> None:
    """An invitation not yet delivered (in Teams it may wait weeks for the manager to add the
    app) is cancelled with its withdrawal, so it never arrives after it."""
    manager = people.find_person(session, ref=_ref_for(ref, grant.manager_user_id))
    if manager is None:
        return
    session.exec(
        update(Checkin)
        .where(
            col(Checkin.recipient_id) == manager.id,
            col(Checkin.kind) == ids.CHECKIN_KIND_MEETING_GRANT,
            col(Checkin.key) == f"grant:{grant.id}",
            # Not one a dispatcher holds: if it is posting now, it is marked sent and counts
            # as reached (`_reached`); if not, it finds the grant revoked and sends nothing.
            col(Checkin.status) == CheckinStatus.PENDING,
        )
        .values(status=CheckinStatus.CANCELLED)
    )


def live_grants(session: Session, person: Person) -> list[ManagerGrant]:
    return list(
        session.exec(
            select(ManagerGrant)
            .where(ManagerGrant.person_id == person.id, col(ManagerGrant.revoked_at).is_(None))
            .order_by(col(ManagerGrant.id))
        ).all()
    )


# -- the manager prepares the meeting ---------------------------------------------------------


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
        access = _access(session, services, actor, subject, in_group=in_group, locale=locale)
        if access.authority is None:
            _record_refusal(session, services, actor, subject, access)
            return FormAnswer(errors={"thanks": access.refusal or ""})
        manager = people.get_or_create_person(session, ref=actor, now=now)
        zone, _ = person_time(session, person=manager, settings=services.settings)
        errors = _validate(draft, locale, today=now.astimezone(zone).date())
        if errors:
            return FormAnswer(errors=errors)
        assert draft.meeting_on is not None and draft.follow_up_on is not None
        person = people.get_or_create_person(session, ref=_ref_for(actor, subject.user_id), now=now)
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
        return FormAnswer(errors={}, saved=saved, send_now=_ids(agenda, offer))


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


# -- the person answers -----------------------------------------------------------------------


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
            return ChoiceReply(note=note, send_now=_ids(told))
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
        return ChoiceReply(note=offer["chose_accept"], send_now=_ids(*sent))


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


# -- helpers ------------------------------------------------------------------------------------


def _ref_for(like: PersonRef, user_id: str) -> PersonRef:
    """Someone else in the same workspace, on the same platform."""
    return PersonRef(
        platform=like.platform,
        workspace_id=like.workspace_id,
        user_id=user_id,
        enterprise_id=like.enterprise_id,
    )


def _ids(*rows: Checkin | None) -> tuple[int, ...]:
    return tuple(row.id for row in rows if row is not None and row.id is not None)

"""Who may prepare a feedback meeting for whom: the manager's authority (admin, the managers'
group, or the person's invitation), and the refusals, which are written to the audit trail.

Platform-neutral. The adapter looks up what the platform knows about the people named (do
they exist, are they active, are they a bot, is the actor in the managers' group) and hands
it in as `Someone` and `in_group`; everything that is decided is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.dependencies import Services
from bot.core.models import FeedbackMeeting, ManagerGrant, MeetingStatus
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from handlers.locale_lookup import locale_in
from messages.content import LocaleContent

AUTHORITY_INVITED = "invited"
AUTHORITY_GROUP = "group"
AUTHORITY_ADMIN = "admin"


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
class Access:
    """`authority` says why the actor may prepare a meeting; None with `refusal` if not."""

    authority: str | None
    refusal: str | None = None
    reason: str | None = None  # for the audit trail: self, bot, not_invited, declined...


def check_access(
    services: Services, actor: PersonRef, subject: Someone, *, in_group: bool
) -> Access:
    """May `actor` prepare a meeting for `subject`? A refusal is written to the audit trail."""
    with services.sessions.begin() as session:
        locale = locale_in(session, services, actor)
        access = access_in(session, services, actor, subject, in_group=in_group, locale=locale)
        if access.authority is None:
            record_refusal(session, services, actor, subject, access)
        return access


def access_in(
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
    grant = live_grant(session, ref_for(actor, subject.user_id), actor.user_id)
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
    last = last_meeting(session, actor, subject.user_id)
    if last is not None and last.status == MeetingStatus.OFFERED:
        return Access(None, refused["waiting"], "waiting")
    if declined_since(last, grant):
        return Access(None, refused["not_allowed"], "declined")
    return Access(authority)


def declined_since(last: FeedbackMeeting | None, grant: ManagerGrant | None) -> bool:
    """A decline is final: the person said no to this manager's last meeting and has not
    invited them again since."""
    if last is None or last.status != MeetingStatus.DECLINED:
        return False
    return grant is None or grant.granted_at <= (last.answered_at or last.created_at)


def last_meeting(session: Session, actor: PersonRef, subject_id: str) -> FeedbackMeeting | None:
    """The latest meeting this actor prepared for this person, if any."""
    manager = people.find_person(session, ref=actor)
    person = people.find_person(session, ref=ref_for(actor, subject_id))
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


def record_refusal(
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


def live_grant(session: Session, person_ref: PersonRef, manager_id: str) -> ManagerGrant | None:
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


def ref_for(like: PersonRef, user_id: str) -> PersonRef:
    """Someone else in the same workspace, on the same platform."""
    return PersonRef(
        platform=like.platform,
        workspace_id=like.workspace_id,
        user_id=user_id,
        enterprise_id=like.enterprise_id,
    )

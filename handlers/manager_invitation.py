"""The person invites their manager to prepare a feedback meeting, or withdraws the
invitation; apart from the access rules for the limits that keep invitations from messaging a
colleague over and over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from bot.core import audit, ids
from bot.core.checkin_planning import add_message
from bot.core.dependencies import Services
from bot.core.models import Checkin, CheckinStatus, ManagerGrant, Person
from bot.core.person_ref import PersonRef
from bot.core.storage import people
from handlers.locale_lookup import locale_in
from handlers.meeting_access import Someone, declined_since, last_meeting, live_grant, ref_for
from handlers.replies import FormAnswer, row_ids
from messages.content import LocaleContent

# An invitation messages a manager; so that nobody can make the bot message a colleague over
# and over, one person's invitations message the same manager at most once in QUIET_WINDOW
# (a renewed one is granted quietly) and reach at most INVITES_PER_DAY managers a day.
QUIET_WINDOW = timedelta(days=7)
INVITES_PER_DAY = 5


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
        people.hold_person(session, person_id=person.id or 0)  # until the invitation is written
        live = live_grant(session, ref, manager.user_id)
        after_no = False
        if live is not None:
            last = last_meeting(session, ref_for(ref, manager.user_id), ref.user_id)
            if not declined_since(last, live):
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
            session, ref=ref_for(ref, manager.user_id), now=now
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
        return FormAnswer(errors={}, saved=saved, send_now=row_ids(told))


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
    manager = people.find_person(session, ref=ref_for(ref, grant.manager_user_id))
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

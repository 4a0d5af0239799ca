"""Retention: a journey nobody has touched for NOTPROMOTED_RETENTION_DAYS is erased.

A journey's last activity is the latest of:
- its `updated_at`: started, moved to another step, snoozed, paused, resumed, stopped, finished;
- the `sent_at` of any of its check-ins: the bot wrote to the person;
- the `answered_at` of any of its check-ins: the person clicked an answer.

A person with no journey at all (a manager who was invited, someone who opened the app and
never began) is erased once nothing refers to them (no journey, goal, note, feedback plan,
invitation, meeting on either side, or message addressed to them) and nothing about them is
newer than the period: their row's creation, their profile's last reading, their Teams chat's
last activity (`idle_people`).

When every journey of a person is inactive, the person is erased exactly as `forget` erases
them (bot.core.erasure.erase_person), unless they prepared or answered a feedback meeting for
someone else within the period: then, as for a person who still has a live journey, only the
old journeys go, with their messages and goals, and what the person wrote before their live
journey began (or before the cutoff): feedback plans and notes, withdrawn invitations, meetings
they were the subject of. Each purge leaves one audit row naming the person by keyed hash only.

Safe to run in several workers at once: each batch locks the people it works on (FOR UPDATE
SKIP LOCKED on PostgreSQL; SQLite has one writer), and a second run finds nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core import audit
from bot.core.dependencies import Services
from bot.core.erasure import erase_person
from bot.core.models import (
    Checkin,
    FeedbackMeeting,
    FeedbackNote,
    FeedbackRequest,
    Goal,
    Journey,
    ManagerGrant,
    Person,
    TeamsConversation,
)
from bot.core.person_ref import PersonRef
from bot.core.storage import checkins

logger = logging.getLogger(__name__)

# Who the audit trail says did it.
RETENTION_ACTOR = "system:retention"
BATCH_SIZE = 100
# One daily run stops after this many batches; the next run carries on.
MAX_BATCHES = 100


@dataclass(frozen=True)
class Purged:
    people_erased: int = 0
    journeys_erased: int = 0


def inactive_before(before: datetime) -> ColumnElement[bool]:
    """A condition on Journey: no activity (see the module docstring) at or after `before`."""
    touched = (
        select(Checkin.id)
        .where(
            col(Checkin.journey_id) == col(Journey.id),
            or_(col(Checkin.sent_at) >= before, col(Checkin.answered_at) >= before),
        )
        .exists()
    )
    return and_(col(Journey.updated_at) < before, ~touched)


def people_with_inactive_journeys(
    session: Session, *, before: datetime, limit: int
) -> Sequence[int]:
    """Ids of people with at least one inactive journey, locked for this transaction."""
    has_inactive = (
        select(Journey.id)
        .where(col(Journey.person_id) == col(Person.id), inactive_before(before))
        .exists()
    )
    query = select(Person.id).where(has_inactive).order_by(col(Person.id)).limit(limit)
    return _locked_people(session, query)


def idle_people(session: Session, *, before: datetime, limit: int) -> Sequence[int]:
    """Ids of people without a journey whom nothing refers to and nothing about whom is at or
    after `before` (see the module docstring), locked for this transaction."""
    person = col(Person.id)
    referring = [
        select(Journey.id).where(col(Journey.person_id) == person),
        select(Goal.id).where(col(Goal.person_id) == person),
        select(FeedbackRequest.id).where(col(FeedbackRequest.person_id) == person),
        select(FeedbackNote.id).where(col(FeedbackNote.person_id) == person),
        select(ManagerGrant.id).where(col(ManagerGrant.person_id) == person),
        select(FeedbackMeeting.id).where(col(FeedbackMeeting.person_id) == person),
        select(FeedbackMeeting.id).where(col(FeedbackMeeting.manager_id) == person),
        select(Checkin.id).where(col(Checkin.recipient_id) == person),
        select(TeamsConversation.id).where(
            col(TeamsConversation.person_id) == person,
            col(TeamsConversation.updated_at) >= before,
        ),
    ]
    query = (
        select(Person.id)
        .where(
            col(Person.created_at) < before,
            or_(col(Person.profile_checked_at).is_(None), col(Person.profile_checked_at) < before),
            *(~found.exists() for found in referring),
        )
        .order_by(person)
        .limit(limit)
    )
    return _locked_people(session, query)


def _locked_people(session: Session, query: SelectOfScalar[Any]) -> list[int]:
    """The people's ids the query finds, locked for this transaction (others skipped) where
    PostgreSQL can: several workers purge at once without working on one person twice."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Person, skip_locked=True)
    return [person_id for person_id in session.exec(query) if person_id is not None]


def purge_expired(services: Services, *, batch_size: int = BATCH_SIZE) -> Purged:
    """Erase what retention says must go, a batch of people per transaction."""
    key = services.settings.require_secret_key()
    before = services.clock() - timedelta(days=services.settings.retention_days)
    people = journeys = 0
    for _ in range(MAX_BATCHES):
        with services.sessions.begin() as session:
            found = people_with_inactive_journeys(session, before=before, limit=batch_size)
            for person_id in found:
                erased, removed = _purge_person(session, services, person_id, before, key)
                people += erased
                journeys += removed
        if len(found) < batch_size:
            break
    for _ in range(MAX_BATCHES):
        with services.sessions.begin() as session:
            idle = idle_people(session, before=before, limit=batch_size)
            for person_id in idle:
                person = session.get(Person, person_id)
                if person is not None:
                    erase_person(session, services, person)
                    _record(session, person, key, services.clock(), outcome=audit.ERASED)
                    people += 1
        if len(idle) < batch_size:
            break
    if journeys or people:
        logger.info("retention: erased %s journey(s), %s person(s) entirely", journeys, people)
    return Purged(people_erased=people, journeys_erased=journeys)


def _purge_person(
    session: Session, services: Services, person_id: int, before: datetime, key: str
) -> tuple[int, int]:
    person = session.get(Person, person_id)
    if person is None:
        return 0, 0
    journeys = session.exec(select(Journey).where(col(Journey.person_id) == person_id)).all()
    stale_ids = set(
        session.exec(
            select(Journey.id).where(col(Journey.person_id) == person_id, inactive_before(before))
        ).all()
    )
    live = [j for j in journeys if j.id not in stale_ids]
    if not stale_ids:
        return 0, 0
    if not live and not _recently_a_manager(session, person_id, before):
        erase_person(session, services, person)
        _record(session, person, key, services.clock(), outcome=audit.ERASED)
        return 1, len(stale_ids)
    keep_since = min((j.started_at for j in live), default=before)
    removed = _purge_journeys(session, person_id, sorted(i for i in stale_ids if i), keep_since)
    if removed:
        _record(session, person, key, services.clock(), outcome=audit.JOURNEYS_ONLY)
    return 0, removed


def _recently_a_manager(session: Session, person_id: int, before: datetime) -> bool:
    """Prepared, or had answered, a feedback meeting for someone else within the period."""
    return (
        session.exec(
            select(FeedbackMeeting.id)
            .where(
                col(FeedbackMeeting.manager_id) == person_id,
                or_(
                    col(FeedbackMeeting.created_at) >= before,
                    col(FeedbackMeeting.answered_at) >= before,
                ),
            )
            .limit(1)
        ).first()
        is not None
    )


def _purge_journeys(
    session: Session, person_id: int, journey_ids: list[int], keep_since: datetime
) -> int:
    """Old journeys with their messages and goals, and what the person wrote before
    `keep_since`; returns how many journeys this transaction removed."""
    session.exec(delete(Checkin).where(col(Checkin.journey_id).in_(journey_ids)))
    session.exec(
        delete(Goal).where(
            col(Goal.person_id) == person_id,
            or_(
                col(Goal.journey_id).in_(journey_ids),
                and_(col(Goal.journey_id).is_(None), col(Goal.updated_at) < keep_since),
            ),
        )
    )
    old_meetings = select(FeedbackMeeting.id).where(
        col(FeedbackMeeting.person_id) == person_id, col(FeedbackMeeting.created_at) < keep_since
    )
    session.exec(delete(Checkin).where(col(Checkin.meeting_id).in_(old_meetings)))
    session.exec(delete(FeedbackMeeting).where(col(FeedbackMeeting.id).in_(old_meetings)))
    session.exec(
        delete(FeedbackRequest).where(
            col(FeedbackRequest.person_id) == person_id,
            col(FeedbackRequest.created_at) < keep_since,
        )
    )
    session.exec(
        delete(FeedbackNote).where(
            col(FeedbackNote.person_id) == person_id, col(FeedbackNote.created_at) < keep_since
        )
    )
    withdrawn = session.exec(
        select(ManagerGrant.id).where(
            col(ManagerGrant.person_id) == person_id, col(ManagerGrant.revoked_at) < keep_since
        )
    )
    old_grants = [grant_id for grant_id in withdrawn if grant_id is not None]
    checkins.delete_grant_messages(session, old_grants)
    session.exec(delete(ManagerGrant).where(col(ManagerGrant.id).in_(old_grants)))
    result = session.exec(delete(Journey).where(col(Journey.id).in_(journey_ids)))
    return int(result.rowcount)


def _record(session: Session, person: Person, key: str, now: datetime, *, outcome: str) -> None:
    audit.record(
        session,
        at=now,
        actor=PersonRef(person.platform, person.workspace_id, RETENTION_ACTOR),
        action=audit.PURGE,
        outcome=outcome,
        subject=audit.hashed(person.user_id, key),
        reason="retention",
    )

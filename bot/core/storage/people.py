"""People: found or created when they first write, what the platform says of them, what
answering `/notpromoted` needs to know, everyone of a workspace, and erasing one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, delete, func, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.core.models import (
    Checkin,
    FeedbackMeeting,
    FeedbackNote,
    FeedbackRequest,
    Goal,
    Journey,
    JourneyStatus,
    ManagerGrant,
    Person,
    Workspace,
)
from bot.core.person_ref import PersonRef
from bot.core.storage.checkins import delete_grant_messages


def find_person(session: Session, *, ref: PersonRef) -> Person | None:
    return session.exec(
        select(Person).where(
            Person.platform == ref.platform,
            Person.workspace_id == ref.workspace_id,
            Person.user_id == ref.user_id,
        )
    ).first()


def get_or_create_person(session: Session, *, ref: PersonRef, now: datetime) -> Person:
    person = find_person(session, ref=ref)
    if person is not None:
        if ref.enterprise_id and person.enterprise_id != ref.enterprise_id:
            person.enterprise_id = ref.enterprise_id  # the workspace joined a Grid org since
            session.add(person)
        return person
    person_id = _insert_person(session, ref=ref, now=now)
    person = session.get(Person, person_id) if person_id else find_person(session, ref=ref)
    assert person is not None
    return person


def _insert_person(session: Session, *, ref: PersonRef, now: datetime) -> int | None:
    """A new person's id; None if a concurrent request created them a moment ago (their
    INSERT does nothing: no savepoint, no error to catch, two round trips fewer)."""
    connection = session.connection()
    values = {
        "platform": ref.platform,
        "workspace_id": ref.workspace_id,
        "user_id": ref.user_id,
        "enterprise_id": ref.enterprise_id,
        "created_at": now,
    }
    inserted: int | None = connection.execute(_NEW_PERSON[connection.dialect.name], values).scalar()
    return inserted


class StartFacts(NamedTuple):
    """What answering `/notpromoted` needs to know of a person, read in one query."""

    person_id: int
    locale: str | None  # the person's own choice, else their platform's
    zone_name: str | None
    work_hours: str | None
    work_days: str | None
    journey_id: int | None
    journey_status: str | None
    workspace_hours: str | None
    workspace_days: str | None


# Built once: on the path a person waits on, building a statement costs more than running it.
_PERSON = Person.__table__  # type: ignore[attr-defined]
_PERSON_KEY = [_PERSON.c.platform, _PERSON.c.workspace_id, _PERSON.c.user_id]
_NEW_PERSON = {
    "postgresql": postgresql_insert(_PERSON)
    .on_conflict_do_nothing(index_elements=_PERSON_KEY)
    .returning(_PERSON.c.id),
    "sqlite": sqlite_insert(_PERSON)
    .on_conflict_do_nothing(index_elements=_PERSON_KEY)
    .returning(_PERSON.c.id),
}
_JOURNEY = Journey.__table__  # type: ignore[attr-defined]
_WORKSPACE = Workspace.__table__  # type: ignore[attr-defined]
_START_FACTS = (
    select_columns(
        _PERSON.c.id,
        func.coalesce(_PERSON.c.language, _PERSON.c.locale),
        func.coalesce(_PERSON.c.time_zone_override, _PERSON.c.time_zone),
        _PERSON.c.work_hours,
        _PERSON.c.work_days,
        _JOURNEY.c.id,
        _JOURNEY.c.status,
        _WORKSPACE.c.work_hours,
        _WORKSPACE.c.work_days,
        _PERSON.c.enterprise_id,
    )
    .select_from(_PERSON)
    .outerjoin(
        _JOURNEY,
        and_(
            _JOURNEY.c.person_id == _PERSON.c.id,
            _JOURNEY.c.status.in_(JourneyStatus.OPEN),
        ),
    )
    .outerjoin(
        _WORKSPACE,
        and_(
            _WORKSPACE.c.platform == _PERSON.c.platform,
            _WORKSPACE.c.workspace_id == _PERSON.c.workspace_id,
        ),
    )
    .where(
        _PERSON.c.platform == bindparam("platform"),
        _PERSON.c.workspace_id == bindparam("workspace_id"),
        _PERSON.c.user_id == bindparam("user_id"),
    )
)

_WORKSPACE_HOURS = select_columns(_WORKSPACE.c.work_hours, _WORKSPACE.c.work_days).where(
    _WORKSPACE.c.platform == bindparam("platform"),
    _WORKSPACE.c.workspace_id == bindparam("workspace_id"),
)

_SAVE_PROFILE = (
    update(_PERSON)
    .where(_PERSON.c.id == bindparam("row_id"))
    .values(
        time_zone=func.coalesce(
            bindparam("zone", type_=_PERSON.c.time_zone.type), _PERSON.c.time_zone
        ),
        locale=func.coalesce(bindparam("lang", type_=_PERSON.c.locale.type), _PERSON.c.locale),
        profile_checked_at=bindparam("now_"),
    )
)
_SET_DM_CHANNEL = (
    update(_PERSON)
    .where(
        _PERSON.c.id == bindparam("row_id"),
        or_(_PERSON.c.dm_channel_id.is_(None), _PERSON.c.dm_channel_id != bindparam("channel")),
    )
    .values(dm_channel_id=bindparam("channel"))
)


def start_facts(session: Session, *, ref: PersonRef) -> StartFacts | None:
    row = (
        session.connection()
        .execute(
            _START_FACTS,
            {"platform": ref.platform, "workspace_id": ref.workspace_id, "user_id": ref.user_id},
        )
        .first()
    )
    if row is None:
        return None
    *facts, enterprise_id = row
    if ref.enterprise_id and enterprise_id != ref.enterprise_id:
        # The workspace joined a Grid org since.
        session.connection().execute(
            update(_PERSON).where(_PERSON.c.id == facts[0]).values(enterprise_id=ref.enterprise_id)
        )
    return StartFacts(*facts)


def create_person_for_start(session: Session, *, ref: PersonRef, now: datetime) -> StartFacts:
    """A person seen for the first time; the one a concurrent request made, if it won."""
    person_id = _insert_person(session, ref=ref, now=now)
    if person_id is None:
        found = start_facts(session, ref=ref)
        assert found is not None
        return found
    workspace = (
        session.connection()
        .execute(_WORKSPACE_HOURS, {"platform": ref.platform, "workspace_id": ref.workspace_id})
        .first()
    )
    hours, days = workspace if workspace is not None else (None, None)
    return StartFacts(person_id, None, None, None, None, None, None, hours, days)


def hold_person(session: Session, *, person_id: int) -> None:
    """Lock the person's row until the transaction ends, so that two requests of theirs at once
    (in any process) check a limit one after the other (PostgreSQL; SQLite has one writer)."""
    session.exec(select(Person.id).where(Person.id == person_id).with_for_update()).first()


def save_profile(
    session: Session, *, person_id: int, time_zone: str | None, locale: str | None, now: datetime
) -> None:
    """What the platform says of a person: kept where it says something, and when we asked."""
    session.connection().execute(
        _SAVE_PROFILE,
        {"row_id": person_id, "zone": time_zone or None, "lang": locale or None, "now_": now},
    )


def set_dm_channel(session: Session, *, person_id: int, channel_id: str) -> None:
    session.connection().execute(_SET_DM_CHANNEL, {"row_id": person_id, "channel": channel_id})


def delete_person(session: Session, *, person_id: int) -> None:
    """Erase a person: journeys, messages, goals, notes, invitations, and the meetings they
    were part of on either side (with those meetings' messages)."""
    journey_ids = select(Journey.id).where(Journey.person_id == person_id)
    meeting_ids = select(FeedbackMeeting.id).where(
        or_(
            col(FeedbackMeeting.person_id) == person_id,
            col(FeedbackMeeting.manager_id) == person_id,
        )
    )
    session.exec(delete(Checkin).where(col(Checkin.meeting_id).in_(meeting_ids)))
    session.exec(delete(FeedbackMeeting).where(col(FeedbackMeeting.id).in_(meeting_ids)))
    session.exec(delete(Checkin).where(col(Checkin.recipient_id) == person_id))
    grants = session.exec(select(ManagerGrant.id).where(col(ManagerGrant.person_id) == person_id))
    delete_grant_messages(session, [grant_id for grant_id in grants if grant_id is not None])
    for model in (Goal, FeedbackRequest, FeedbackNote, ManagerGrant):
        session.exec(delete(model).where(col(model.person_id) == person_id))
    session.exec(delete(Checkin).where(col(Checkin.journey_id).in_(journey_ids)))
    session.exec(delete(Journey).where(col(Journey.person_id) == person_id))
    session.exec(delete(Person).where(col(Person.id) == person_id))


def people_of_workspace(
    session: Session, *, platform: str, workspace_id: str | None, enterprise_id: str | None
) -> Sequence[Person]:
    """Everyone in a workspace; with no workspace given, everyone in the Enterprise Grid org
    (including what happened at the org's own level, kept under the org's id)."""
    query = select(Person).where(Person.platform == platform)
    if workspace_id is not None:
        query = query.where(Person.workspace_id == workspace_id)
    elif enterprise_id is not None:
        query = query.where(
            or_(
                col(Person.enterprise_id) == enterprise_id,
                col(Person.workspace_id) == enterprise_id,
            )
        )
    else:
        return []
    return session.exec(query).all()

"""Retention on both databases: what counts as activity, what goes, what stays, and the trail."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import ColumnElement, Engine, func
from sqlmodel import col, select

from bot.core import audit
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.db import make_sessions
from bot.core.dependencies import Services
from bot.core.models import (
    AuditEntry,
    Checkin,
    FeedbackMeeting,
    FeedbackNote,
    FeedbackRequest,
    Goal,
    Journey,
    JourneyStatus,
    MeetingStatus,
    Person,
    TeamsConversation,
)
from bot.core.person_ref import PersonRef
from bot.core.retention import RETENTION_ACTOR, purge_expired
from bot.core.storage import people
from handlers.outbox import OutboxComposer
from messages.loader import load_content
from scheduler.dispatcher import Dispatcher
from scheduler.runner import start_dispatching, stop_dispatching

T0 = datetime(2025, 1, 6, 10, tzinfo=UTC)
KEY = "retention-test-key-0123456789"
CONTENT = load_content()


@pytest.fixture
def services(engine: Engine) -> Services:
    return Services(
        settings=Settings(secret_key=KEY, retention_days=365),
        sessions=make_sessions(engine),
        content=CONTENT,
        clock=ManualClock(T0),
    )


def _clock(services: Services) -> ManualClock:
    assert isinstance(services.clock, ManualClock)
    return services.clock


def seed(
    services: Services,
    user: str,
    *,
    started: datetime = T0,
    status: str = JourneyStatus.STOPPED,
    sent_at: datetime | None = None,
    answered_at: datetime | None = None,
) -> int:
    """A person's journey with a message, a goal, a feedback plan and a note, all at `started`."""
    with services.sessions.begin() as session:
        person = people.get_or_create_person(
            session, ref=PersonRef("slack", "T1", user), now=started
        )
        assert person.id is not None
        journey = Journey(
            person_id=person.id,
            status=status,
            stage_id="acknowledge",
            started_at=started,
            updated_at=started,
        )
        session.add(journey)
        session.flush()
        assert journey.id is not None
        session.add(
            Checkin(
                journey_id=journey.id,
                kind="stage",
                key=f"stage:{journey.id}",
                status="sent" if sent_at else "cancelled",
                due_at=started,
                sent_at=sent_at,
                answered_at=answered_at,
                answer="stage_next" if answered_at else None,
                created_at=started,
            )
        )
        session.add(
            Goal(
                person_id=person.id,
                journey_id=journey.id,
                what="a goal",
                created_at=started,
                updated_at=started,
            )
        )
        session.add(
            FeedbackRequest(person_id=person.id, decider_user_id="U0BOSS", created_at=started)
        )
        session.add(FeedbackNote(person_id=person.id, keep="a note", created_at=started))
        audit.record(
            session,
            at=started,
            actor=PersonRef("slack", "T1", user),
            action=audit.GRANT,
            outcome=audit.DONE,
            subject=user,
            other="U0BOSS",
        )
        return journey.id


def _count(services: Services, model: type, *where: ColumnElement[bool] | bool) -> int:
    with services.sessions.begin() as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def _trail(services: Services) -> list[AuditEntry]:
    with services.sessions.begin() as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


def test_a_journey_untouched_for_the_period_goes_with_the_person(services: Services) -> None:
    seed(services, "U1", sent_at=T0)
    _clock(services).move_to(T0 + timedelta(days=365, seconds=1))
    purged = purge_expired(services)
    assert (purged.people_erased, purged.journeys_erased) == (1, 1)
    for model in (Person, Journey, Checkin, Goal, FeedbackRequest, FeedbackNote):
        assert _count(services, model) == 0, model.__name__
    trail = _trail(services)
    purge = trail[-1]
    assert (purge.actor, purge.action, purge.outcome, purge.reason) == (
        RETENTION_ACTOR,
        audit.PURGE,
        audit.ERASED,
        "retention",
    )
    assert purge.subject == audit.hashed("U1", KEY)
    # No row names the person any more, the earlier ones included.
    assert all("U1" not in (row.actor, row.subject, row.other) for row in trail)


@pytest.mark.parametrize("activity", ["updated", "sent", "answered"])
def test_each_kind_of_activity_restarts_the_period(services: Services, activity: str) -> None:
    later = T0 + timedelta(days=200)
    journey_id = seed(
        services,
        "U1",
        sent_at=later if activity == "sent" else None,
        answered_at=later if activity == "answered" else None,
    )
    if activity == "updated":
        with services.sessions.begin() as session:
            journey = session.get(Journey, journey_id)
            assert journey is not None
            journey.updated_at = later
            session.add(journey)
    _clock(services).move_to(later + timedelta(days=365))
    assert purge_expired(services).journeys_erased == 0  # exactly the period: kept
    _clock(services).move_to(later + timedelta(days=365, seconds=1))
    assert purge_expired(services).journeys_erased == 1
    assert _count(services, Person) == 0


def test_a_live_journey_keeps_the_person_and_what_came_with_it(services: Services) -> None:
    old_journey = seed(services, "U1", sent_at=T0)
    restart = T0 + timedelta(days=300)
    live_journey = seed(services, "U1", started=restart, status=JourneyStatus.ACTIVE)
    _clock(services).move_to(T0 + timedelta(days=400))
    purged = purge_expired(services)
    assert (purged.people_erased, purged.journeys_erased) == (0, 1)
    assert _count(services, Person) == 1
    assert _count(services, Journey, col(Journey.id) == old_journey) == 0
    assert _count(services, Journey, col(Journey.id) == live_journey) == 1
    assert _count(services, Checkin, col(Checkin.journey_id) == old_journey) == 0
    assert _count(services, Goal) == 1 and _count(services, Goal, Goal.journey_id == live_journey)
    # What the person wrote before the live journey began goes; what came after stays.
    assert _count(services, FeedbackNote) == 1
    assert _count(services, FeedbackNote, col(FeedbackNote.created_at) >= restart) == 1
    assert _count(services, FeedbackRequest) == 1
    assert _trail(services)[-1].outcome == audit.JOURNEYS_ONLY


def test_someone_who_recently_prepared_a_meeting_for_another_keeps_their_record(
    services: Services,
) -> None:
    seed(services, "U0BOSS")
    seed(services, "U2", started=T0 + timedelta(days=300), status=JourneyStatus.ACTIVE)
    with services.sessions.begin() as session:
        boss = session.exec(select(Person).where(Person.user_id == "U0BOSS")).one()
        person = session.exec(select(Person).where(Person.user_id == "U2")).one()
        assert boss.id is not None and person.id is not None
        session.add(
            FeedbackMeeting(
                person_id=person.id,
                manager_id=boss.id,
                authority="grant",
                status=MeetingStatus.ACCEPTED,
                thanks="t",
                observed="o",
                gaps="g",
                next_steps="n",
                meeting_on=date(2025, 11, 3),
                follow_up_on=date(2025, 12, 1),
                created_at=T0 + timedelta(days=301),
            )
        )
    _clock(services).move_to(T0 + timedelta(days=400))
    purged = purge_expired(services)
    assert (purged.people_erased, purged.journeys_erased) == (0, 1)
    assert _count(services, Person) == 2
    assert _count(services, FeedbackMeeting) == 1  # U2's meeting is U2's


def test_several_workers_at_once_and_again_purge_each_person_once(services: Services) -> None:
    for number in range(7):
        seed(services, f"U{number}", sent_at=T0)
    _clock(services).move_to(T0 + timedelta(days=400))
    small = replace(services)
    results = []

    def run() -> None:
        results.append(purge_expired(small, batch_size=2))

    workers = [threading.Thread(target=run) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sum(r.people_erased for r in results) == 7
    assert purge_expired(services).journeys_erased == 0
    purges = [row for row in _trail(services) if row.action == audit.PURGE]
    assert sorted(row.subject or "" for row in purges) == sorted(
        audit.hashed(f"U{number}", KEY) for number in range(7)
    )
    assert _count(services, Person) == 0


def test_purge_needs_the_secret_key(services: Services) -> None:
    seed(services, "U1")
    _clock(services).move_to(T0 + timedelta(days=400))
    keyless = replace(services, settings=replace(services.settings, secret_key=None))
    with pytest.raises(Exception, match="NOTPROMOTED_SECRET_KEY"):
        purge_expired(keyless)
    assert _count(services, Person) == 1


def test_the_daily_job_runs_beside_the_sweep(services: Services) -> None:
    async def jobs() -> dict[str, timedelta]:
        dispatcher = Dispatcher(services, {}, OutboxComposer())
        scheduler = start_dispatching(dispatcher, interval_seconds=30)
        try:
            return {job.id: job.trigger.interval for job in scheduler.get_jobs()}
        finally:
            await stop_dispatching(scheduler, dispatcher)

    intervals = asyncio.run(jobs())
    assert intervals["retention"] == timedelta(days=1)
    assert intervals["dispatch"] == timedelta(seconds=30)


def _person(services: Services, user: str, *, platform: str = "slack") -> int:
    with services.sessions.begin() as session:
        person = people.get_or_create_person(session, ref=PersonRef(platform, "T1", user), now=T0)
        assert person.id is not None
        return person.id


def test_someone_without_a_journey_goes_once_nothing_refers_to_them(services: Services) -> None:
    invited = _person(services, "U0MGR")  # a manager once invited, the invitation long gone
    profile_read = _person(services, "U0READ")
    in_teams = _person(services, "29:teams-user", platform="teams")
    addressed = _person(services, "U0ADDRESSED")
    live_journey_id = seed(
        services, "U0LIVE", status=JourneyStatus.ACTIVE, started=T0 + timedelta(days=200)
    )
    with services.sessions.begin() as session:
        reader = session.get(Person, profile_read)
        assert reader is not None
        reader.profile_checked_at = T0 + timedelta(days=200)
        session.add(reader)
        session.add(
            TeamsConversation(
                person_id=in_teams,
                conversation_id="a:chat",
                service_url="https://smba.example/",
                bot_id="28:bot",
                updated_at=T0 + timedelta(days=200),
            )
        )
        # A message of someone's live journey addressed to them (an invitation).
        session.add(
            Checkin(
                journey_id=live_journey_id,
                recipient_id=addressed,
                kind="manager_invite",
                key="invite:1",
                status="sent",
                due_at=T0,
                sent_at=T0,
                created_at=T0,
            )
        )
    _clock(services).move_to(T0 + timedelta(days=365, seconds=1))

    assert purge_expired(services).people_erased == 1
    assert purge_expired(services).people_erased == 0
    with services.sessions.begin() as session:
        assert session.get(Person, invited) is None
        assert all(session.get(Person, kept) for kept in (profile_read, in_teams, addressed))
    purge = _trail(services)[-1]
    assert (purge.actor, purge.outcome, purge.subject) == (
        RETENTION_ACTOR,
        audit.ERASED,
        audit.hashed("U0MGR", KEY),
    )

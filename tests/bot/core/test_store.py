"""bot.core.storage on both databases: people, journeys, the check-in outbox and its leases,
events."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from bot.core.db import make_sessions
from bot.core.ids import CHECKIN_KIND_STAGE
from bot.core.models import (
    Checkin,
    CheckinStatus,
    Journey,
    JourneyStatus,
    Person,
    ProcessedEvent,
    SenderHeartbeat,
    UTCDateTime,
)
from bot.core.person_ref import PersonRef
from bot.core.storage import heartbeats, journeys, outbox, people
from bot.core.storage.events import forget_old_events, record_event

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
LEASE = timedelta(minutes=10)
REF = PersonRef("slack", "T1", "U1")
THREADS = 8

Sessions = sessionmaker[Session]


@pytest.fixture
def sessions(engine: Engine) -> Sessions:
    return make_sessions(engine)


# -- helpers -------------------------------------------------------------------------------


def ref(user: str = "U1", workspace: str = "T1", platform: str = "slack") -> PersonRef:
    return PersonRef(platform, workspace, user)


def new_person(sessions: Sessions, user: str = "U1") -> int:
    with sessions.begin() as session:
        person = people.get_or_create_person(session, ref=ref(user), now=NOW)
        assert person.id is not None
        return person.id


def new_journey(
    sessions: Sessions,
    *,
    user: str = "U1",
    status: str = JourneyStatus.ACTIVE,
    stage: str = "s1",
) -> int:
    person_id = new_person(sessions, user)
    with sessions.begin() as session:
        journey = Journey(
            person_id=person_id, status=status, stage_id=stage, started_at=NOW, updated_at=NOW
        )
        session.add(journey)
        session.flush()
        assert journey.id is not None
        return journey.id


def new_checkin(
    sessions: Sessions,
    journey_id: int,
    *,
    due_at: datetime = NOW,
    status: str = CheckinStatus.PENDING,
    lease_owner: str | None = None,
    lease_expires_at: datetime | None = None,
) -> int:
    with sessions.begin() as session:
        checkin = Checkin(
            journey_id=journey_id,
            kind=CHECKIN_KIND_STAGE,
            key=f"test:{uuid.uuid4().hex}",
            stage_id="s1",
            status=status,
            due_at=due_at,
            lease_owner=lease_owner,
            lease_expires_at=lease_expires_at,
            created_at=NOW,
        )
        session.add(checkin)
        session.flush()
        assert checkin.id is not None
        return checkin.id


def load(sessions: Sessions, checkin_id: int) -> Checkin:
    with sessions() as session:
        checkin = session.get(Checkin, checkin_id)
        assert checkin is not None
        return checkin


def load_journey(sessions: Sessions, journey_id: int) -> Journey:
    with sessions() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        return journey


def claim(sessions: Sessions, checkin_id: int, owner: str = "w1", now: datetime = NOW) -> bool:
    """A claim as a sweep makes it, by a process that says it lives (its heartbeat)."""
    with sessions.begin() as session:
        heartbeats.beat(session, owner=owner, now=now)
        return bool(
            outbox.claim_rows(
                session,
                checkin_ids=[checkin_id],
                owner=owner,
                now=now,
                lease=LEASE,
                taking_over=True,
            )
        )


def alive(sessions: Sessions, owner: str, now: datetime) -> None:
    with sessions.begin() as session:
        heartbeats.beat(session, owner=owner, now=now)


def due(sessions: Sessions, now: datetime = NOW, limit: int = 100) -> list[int]:
    with sessions.begin() as session:
        return list(outbox.due_checkin_ids(session, now=now, limit=limit))


def postgres_only(engine: Engine, why: str) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(why)


def race(engine: Engine, action: Callable[[Session, int], bool]) -> list[bool]:
    """Run `action` in THREADS threads, each in its own transaction, released together."""
    sessions = make_sessions(engine)
    warm = [engine.connect() for _ in range(THREADS)]  # so no thread waits on a new connection
    for connection in warm:
        connection.close()
    barrier = threading.Barrier(THREADS)

    def run(index: int) -> bool:
        barrier.wait(timeout=10)
        with sessions.begin() as session:
            return action(session, index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


# -- people --------------------------------------------------------------------------------


def test_get_or_create_person_is_idempotent(sessions: Sessions) -> None:
    with sessions.begin() as session:
        first = people.get_or_create_person(session, ref=REF, now=NOW)
        again = people.get_or_create_person(session, ref=REF, now=NOW + timedelta(hours=1))
        assert first.id is not None and again.id == first.id
    with sessions.begin() as session:
        later = people.get_or_create_person(session, ref=REF, now=NOW + timedelta(days=1))
        assert later.id == first.id
        assert later.created_at == NOW
        assert len(session.exec(select(Person)).all()) == 1


def test_the_same_user_elsewhere_is_a_different_person(sessions: Sessions) -> None:
    refs = [
        ref("U1", "T1", "slack"),
        ref("U1", "T2", "slack"),
        ref("U1", "T1", "teams"),
        ref("U2", "T1", "slack"),
    ]
    with sessions.begin() as session:
        ids = [people.get_or_create_person(session, ref=r, now=NOW).id for r in refs]
    assert len(set(ids)) == len(refs)
    with sessions() as session:
        for r, person_id in zip(refs, ids, strict=True):
            found = people.find_person(session, ref=r)
            assert found is not None and found.id == person_id
            assert (found.platform, found.workspace_id, found.user_id) == (
                r.platform,
                r.workspace_id,
                r.user_id,
            )


def test_concurrent_get_or_create_person_makes_one_person(
    engine: Engine, sessions: Sessions
) -> None:
    ids: list[int | None] = []
    lock = threading.Lock()

    def create(session: Session, _index: int) -> bool:
        person = people.get_or_create_person(session, ref=REF, now=NOW)
        with lock:
            ids.append(person.id)
        return True

    assert race(engine, create) == [True] * THREADS
    assert len(set(ids)) == 1 and ids[0] is not None
    with sessions() as session:
        assert len(session.exec(select(Person)).all()) == 1


def test_timestamps_come_back_aware_utc_and_equal(sessions: Sessions) -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    created = datetime(2026, 11, 23, 15, 31, 7, 123456, tzinfo=kolkata)
    checked = datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=UTC)
    with sessions.begin() as session:
        person = people.get_or_create_person(session, ref=REF, now=created)
        person.profile_checked_at = checked
        session.add(person)
    with sessions() as session:
        loaded = people.find_person(session, ref=REF)
        assert loaded is not None
        for value, expected in ((loaded.created_at, created), (loaded.profile_checked_at, checked)):
            assert value is not None
            assert value.tzinfo is UTC
            assert value == expected
        assert loaded.created_at.hour == 10  # 15:31 in Kolkata is 10:01 UTC
        assert loaded.created_at.minute == 1


def test_a_naive_datetime_is_refused_on_insert(sessions: Sessions) -> None:
    naive = datetime(2026, 11, 23, 10)
    with pytest.raises(StatementError, match="naive datetime"), sessions.begin() as session:
        people.get_or_create_person(session, ref=REF, now=naive)
    with sessions() as session:
        assert people.find_person(session, ref=REF) is None


def test_a_naive_datetime_is_refused_in_a_query_and_by_the_type(
    engine: Engine, sessions: Sessions
) -> None:
    naive = datetime(2026, 11, 23, 10)
    with pytest.raises(StatementError, match="naive datetime"), sessions.begin() as session:
        outbox.due_checkin_ids(session, now=naive, limit=10)
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(naive, engine.dialect)


def test_a_rolled_back_transaction_leaves_no_person(
    engine: Engine, sessions: Sessions, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(RuntimeError, match="handler failed"), sessions.begin() as session:
        people.get_or_create_person(session, ref=REF, now=NOW)
        raise RuntimeError("handler failed")
    with sessions() as session:
        assert people.find_person(session, ref=REF) is None


def test_a_rolled_back_transaction_leaves_no_event(
    engine: Engine, sessions: Sessions, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(RuntimeError, match="handler failed"), sessions.begin() as session:
        assert record_event(session, event_id="Ev1", now=NOW)
        raise RuntimeError("handler failed")
    with sessions.begin() as session:
        assert record_event(session, event_id="Ev1", now=NOW)


# -- one open journey per person -----------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (JourneyStatus.ACTIVE, JourneyStatus.ACTIVE),
        (JourneyStatus.ACTIVE, JourneyStatus.PAUSED),
        (JourneyStatus.PAUSED, JourneyStatus.ACTIVE),
        (JourneyStatus.PAUSED, JourneyStatus.PAUSED),
    ],
)
def test_a_second_open_journey_is_refused(sessions: Sessions, first: str, second: str) -> None:
    journey_id = new_journey(sessions, status=first)
    person_id = load_journey(sessions, journey_id).person_id
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(
            Journey(
                person_id=person_id,
                status=second,
                stage_id="s1",
                started_at=NOW,
                updated_at=NOW,
            )
        )
    with sessions() as session:
        assert len(session.exec(select(Journey)).all()) == 1


def test_reopening_a_stopped_journey_beside_an_open_one_is_refused(sessions: Sessions) -> None:
    stopped_id = new_journey(sessions, status=JourneyStatus.STOPPED)
    person_id = load_journey(sessions, stopped_id).person_id
    with sessions.begin() as session:
        session.add(Journey(person_id=person_id, stage_id="s1", started_at=NOW, updated_at=NOW))
    with pytest.raises(IntegrityError), sessions.begin() as session:
        stopped = session.get(Journey, stopped_id)
        assert stopped is not None
        stopped.status = JourneyStatus.PAUSED
        session.add(stopped)


def test_ended_journeys_do_not_block_a_new_one(sessions: Sessions) -> None:
    stopped_id = new_journey(sessions, status=JourneyStatus.STOPPED)
    person_id = load_journey(sessions, stopped_id).person_id
    with sessions.begin() as session:
        for status in (JourneyStatus.COMPLETED, JourneyStatus.STOPPED, JourneyStatus.ACTIVE):
            session.add(
                Journey(
                    person_id=person_id,
                    status=status,
                    stage_id="s1",
                    started_at=NOW,
                    updated_at=NOW,
                )
            )
    other = new_journey(sessions, user="U2")  # and other people have their own
    with sessions() as session:
        journey = journeys.open_journey(session, person_id=person_id)
        assert journey is not None and journey.status == JourneyStatus.ACTIVE
        assert len(session.exec(select(Journey)).all()) == 5
    assert load_journey(sessions, other).status == JourneyStatus.ACTIVE


# -- add_stage_checkin ---------------------------------------------------------------------


def test_add_stage_checkin_numbers_keys_and_moves_the_live_row(sessions: Sessions) -> None:
    journey_id = new_journey(sessions)
    added: list[int] = []
    for step, stage in enumerate(("s1", "s1", "s2"), start=1):
        with sessions.begin() as session:
            journey = session.get(Journey, journey_id)
            assert journey is not None
            later = NOW + timedelta(minutes=step)
            checkin = journeys.add_stage_checkin(
                session, journey=journey, stage_id=stage, due_at=later, now=later
            )
            assert checkin.id is not None
            assert journey.current_checkin_id == checkin.id
            added.append(checkin.id)
        journey = load_journey(sessions, journey_id)
        assert journey.deliveries == step
        assert journey.current_checkin_id == checkin.id
        assert journey.updated_at == later
    with sessions() as session:
        rows = session.exec(select(Checkin).order_by(col(Checkin.id))).all()
    assert [row.id for row in rows] == added
    assert [row.key for row in rows] == ["stage:s1:1", "stage:s1:2", "stage:s2:3"]
    assert [row.stage_id for row in rows] == ["s1", "s1", "s2"]
    assert {row.status for row in rows} == {CheckinStatus.PENDING}
    assert {row.kind for row in rows} == {CHECKIN_KIND_STAGE}


def test_checkin_keys_are_unique_per_journey(sessions: Sessions) -> None:
    first = new_journey(sessions)
    second = new_journey(sessions, user="U2")
    for journey_id in (first, second):  # the same key in two journeys is fine
        with sessions.begin() as session:
            session.add(
                Checkin(journey_id=journey_id, kind="x", key="k", due_at=NOW, created_at=NOW)
            )
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(Checkin(journey_id=first, kind="x", key="k", due_at=NOW, created_at=NOW))


# -- claiming ------------------------------------------------------------------------------


def test_only_one_of_two_claims_wins(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1")
    assert not claim(sessions, checkin_id, "w2")
    row = load(sessions, checkin_id)
    assert row.status == CheckinStatus.CLAIMED
    assert row.lease_owner == "w1"
    assert row.lease_expires_at == NOW + LEASE
    assert row.attempts == 1  # a claim is made only to send at once: it counts a try


def test_an_expired_lease_can_be_claimed_again(sessions: Sessions) -> None:
    """A holder that lives (it keeps beating) but whose send hangs keeps a row only for its
    lease."""
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1", now=NOW)
    alive(sessions, "w1", NOW + LEASE - timedelta(seconds=1))
    assert not claim(sessions, checkin_id, "w2", now=NOW + LEASE - timedelta(seconds=1))
    assert not claim(sessions, checkin_id, "w2", now=NOW + LEASE)
    assert claim(sessions, checkin_id, "w2", now=NOW + LEASE + timedelta(seconds=1))
    row = load(sessions, checkin_id)
    assert row.lease_owner == "w2"
    assert row.attempts == 2
    assert row.lease_expires_at == NOW + 2 * LEASE + timedelta(seconds=1)


@pytest.mark.parametrize(
    "status", [CheckinStatus.SENT, CheckinStatus.CANCELLED, CheckinStatus.FAILED]
)
def test_finished_rows_cannot_be_claimed(sessions: Sessions, status: str) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions), status=status)
    assert not claim(sessions, checkin_id, now=NOW + timedelta(days=30))
    assert load(sessions, checkin_id).status == status


def test_a_sent_row_cannot_be_claimed(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1")
    with sessions.begin() as session:
        assert outbox.mark_sent(
            session, owner="w1", now=NOW, sent=[outbox.SentMark(checkin_id, "D1", "1.0")]
        )[0]
    assert not claim(sessions, checkin_id, "w2", now=NOW + timedelta(days=1))
    assert load(sessions, checkin_id).status == CheckinStatus.SENT


def test_a_holder_that_stopped_beating_gives_its_row_up_long_before_its_lease(
    sessions: Sessions,
) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1", now=NOW)
    alive(sessions, "w1", NOW + heartbeats.DEAD_AFTER)
    # Beating: kept, however long the send takes inside its lease.
    assert not claim(sessions, checkin_id, "w2", now=NOW + 2 * heartbeats.DEAD_AFTER)
    with sessions.begin() as session:
        assert not heartbeats.rows_to_rescue(session, now=NOW + 2 * heartbeats.DEAD_AFTER)
    # Silent past DEAD_AFTER: dead, and its row is someone else's (the lease is ten minutes).
    later = NOW + 2 * heartbeats.DEAD_AFTER + timedelta(seconds=1)
    with sessions.begin() as session:
        assert heartbeats.rows_to_rescue(session, now=later)
    assert due(sessions, now=later) == [checkin_id]
    assert claim(sessions, checkin_id, "w2", now=later)
    assert load(sessions, checkin_id).lease_owner == "w2"


def test_a_holder_that_said_goodbye_or_was_seen_dying_frees_its_rows_at_once(
    sessions: Sessions,
) -> None:
    journey_id = new_journey(sessions)
    first, second = new_checkin(sessions, journey_id), new_checkin(sessions, journey_id)
    assert claim(sessions, first, "w1") and claim(sessions, second, "w1")
    with sessions.begin() as session:
        session.exec(update(Checkin).where(col(Checkin.id) == second).values(posting_since=NOW))
    with sessions.begin() as session:
        assert heartbeats.release_rows_of(session, owner="w1") == 2
    for checkin_id in (first, second):
        row = load(sessions, checkin_id)
        assert (row.status, row.lease_owner) == (CheckinStatus.PENDING, None)
    # One that may have been posted is still looked for before it is posted again.
    assert load(sessions, second).posting_since == NOW
    assert claim(sessions, first, "w2")
    with sessions.begin() as session:
        heartbeats.forget(session, owner="w2")  # it stops without handing back: free at once
    assert claim(sessions, first, "w3")


def test_the_command_path_claims_only_a_row_no_one_holds(sessions: Sessions) -> None:
    """Taking over from the dead is a sweep's (it locks its rows first): a claim that waited
    for another's lock must not decide with a snapshot older than that claimer's heartbeat."""
    checkin_id = new_checkin(sessions, new_journey(sessions))
    with sessions.begin() as session:
        outbox.claim_rows(session, checkin_ids=[checkin_id], owner="gone", now=NOW, lease=LEASE)
    with sessions.begin() as session:
        assert not outbox.claim_rows(
            session, checkin_ids=[checkin_id], owner="w2", now=NOW + 2 * LEASE, lease=LEASE
        )
    assert claim(sessions, checkin_id, "w2", now=NOW + 2 * LEASE)


def test_heartbeats_of_processes_long_gone_are_forgotten(sessions: Sessions) -> None:
    alive(sessions, "gone", NOW - timedelta(hours=2))
    alive(sessions, "here", NOW)
    with sessions.begin() as session:
        assert heartbeats.forget_the_long_dead(session, now=NOW) == 1
        owners = [row.owner for row in session.exec(select(SenderHeartbeat))]
    assert owners == ["here"]


def test_concurrent_claims_have_exactly_one_winner(engine: Engine, sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))

    def take(session: Session, index: int) -> bool:
        heartbeats.beat(session, owner=f"w{index}", now=NOW)
        return bool(
            outbox.claim_rows(
                session, checkin_ids=[checkin_id], owner=f"w{index}", now=NOW, lease=LEASE
            )
        )

    results = race(engine, take)
    assert results.count(True) == 1
    row = load(sessions, checkin_id)
    assert row.lease_owner == f"w{results.index(True)}"
    assert row.attempts == 1


# -- clicks on the live message ------------------------------------------------------------


def live_row(sessions: Sessions, *, user: str = "U1") -> tuple[int, int]:
    """A journey and its live stage row, as a clicked message would have."""
    journey_id = new_journey(sessions, user=user)
    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        checkin = journeys.add_stage_checkin(
            session, journey=journey, stage_id="s1", due_at=NOW, now=NOW
        )
        assert checkin.id is not None
        return journey_id, checkin.id


def answer(sessions: Sessions, checkin_id: int, choice: str = "stage_next") -> bool:
    with sessions.begin() as session:
        return journeys.answer_live_checkin(session, checkin_id=checkin_id, answer=choice, now=NOW)


def test_concurrent_clicks_on_the_live_row_have_exactly_one_winner(
    engine: Engine, sessions: Sessions
) -> None:
    _, checkin_id = live_row(sessions)

    def click(session: Session, index: int) -> bool:
        return journeys.answer_live_checkin(
            session, checkin_id=checkin_id, answer=f"choice{index}", now=NOW
        )

    results = race(engine, click)
    assert results.count(True) == 1
    row = load(sessions, checkin_id)
    assert row.answer == f"choice{results.index(True)}"
    assert row.answered_at == NOW


def test_a_live_row_is_answered_once(sessions: Sessions) -> None:
    _, checkin_id = live_row(sessions)
    assert answer(sessions, checkin_id, "stage_next")
    assert not answer(sessions, checkin_id, "stage_stop")
    assert load(sessions, checkin_id).answer == "stage_next"


def test_a_click_on_a_row_that_is_no_longer_live_is_refused(sessions: Sessions) -> None:
    journey_id, old_id = live_row(sessions)
    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        new = journeys.add_stage_checkin(
            session, journey=journey, stage_id="s2", due_at=NOW, now=NOW
        )
        assert new.id is not None
        new_id = new.id
    assert not answer(sessions, old_id)
    assert load(sessions, old_id).answered_at is None
    assert answer(sessions, new_id)


@pytest.mark.parametrize(
    ("status", "live"),
    [
        (JourneyStatus.PAUSED, True),
        (JourneyStatus.STOPPED, False),
        (JourneyStatus.COMPLETED, False),
    ],
)
def test_a_click_counts_only_while_the_journey_is_open(
    sessions: Sessions, status: str, live: bool
) -> None:
    journey_id, checkin_id = live_row(sessions)
    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        journey.status = status  # current_checkin_id is left pointing at the row
        session.add(journey)
    assert answer(sessions, checkin_id) is live
    assert (load(sessions, checkin_id).answer is not None) is live


def test_a_click_on_another_journeys_live_row_does_not_leak(sessions: Sessions) -> None:
    _, mine = live_row(sessions, user="U1")
    other_journey = new_journey(sessions, user="U2")
    stray = new_checkin(sessions, other_journey)  # never made live
    assert not answer(sessions, stray)
    assert answer(sessions, mine)


# -- what is due ---------------------------------------------------------------------------


def lanes(sessions: Sessions, count: int) -> list[int]:
    """Journeys of `count` people: rows of different lanes, each due on its own."""
    return [new_journey(sessions, user=f"U{index}") for index in range(count)]


def test_due_rows_come_oldest_first_and_only_when_due(sessions: Sessions) -> None:
    journeys = lanes(sessions, 5)
    mid = new_checkin(sessions, journeys[0], due_at=NOW - timedelta(hours=1))
    now_row = new_checkin(sessions, journeys[1], due_at=NOW)
    new_checkin(sessions, journeys[2], due_at=NOW + timedelta(seconds=1))
    old = new_checkin(sessions, journeys[3], due_at=NOW - timedelta(hours=2))
    tie = new_checkin(sessions, journeys[4], due_at=NOW - timedelta(hours=1))
    assert due(sessions) == [old, mid, tie, now_row]
    assert due(sessions, now=NOW - timedelta(hours=1)) == [old, mid, tie]
    assert due(sessions, now=NOW - timedelta(days=1)) == []


def test_due_rows_honour_the_limit(sessions: Sessions) -> None:
    rows = [
        new_checkin(sessions, journey_id, due_at=NOW - timedelta(minutes=minutes))
        for journey_id, minutes in zip(lanes(sessions, 5), (5, 50, 20, 40, 10), strict=True)
    ]
    oldest_first = [rows[1], rows[3], rows[2], rows[4], rows[0]]
    assert due(sessions, limit=2) == oldest_first[:2]
    assert due(sessions, limit=1) == oldest_first[:1]
    assert due(sessions, limit=5) == oldest_first


def test_due_rows_skip_paused_journeys_and_include_completed_ones(sessions: Sessions) -> None:
    active = new_checkin(sessions, new_journey(sessions, user="U1"), due_at=NOW)
    new_checkin(
        sessions,
        new_journey(sessions, user="U2", status=JourneyStatus.PAUSED),
        due_at=NOW - timedelta(hours=5),
    )
    closing = new_checkin(
        sessions,
        new_journey(sessions, user="U3", status=JourneyStatus.COMPLETED),
        due_at=NOW - timedelta(minutes=1),
    )
    assert due(sessions) == [closing, active]


def test_due_rows_exclude_finished_and_held_rows(sessions: Sessions) -> None:
    journeys = lanes(sessions, 3)
    long_ago = NOW - timedelta(days=1)
    for status in (CheckinStatus.SENT, CheckinStatus.CANCELLED, CheckinStatus.FAILED):
        new_checkin(sessions, journeys[0], due_at=long_ago, status=status)
    new_checkin(  # held by a living sender, its lease running
        sessions,
        journeys[1],
        due_at=long_ago,
        status=CheckinStatus.CLAIMED,
        lease_owner="w1",
        lease_expires_at=NOW + timedelta(minutes=1),
    )
    alive(sessions, "w1", NOW - heartbeats.DEAD_AFTER)
    abandoned = new_checkin(  # its worker died: the lease ran out
        sessions,
        journeys[2],
        due_at=long_ago,
        status=CheckinStatus.CLAIMED,
        lease_owner="w0",
        lease_expires_at=NOW - timedelta(minutes=1),
    )
    pending = new_checkin(sessions, journeys[0], due_at=NOW)
    assert due(sessions) == [abandoned, pending]


def test_a_persons_rows_are_due_one_at_a_time_in_order(sessions: Sessions) -> None:
    """Only the first unsent row of a person is due, and none while one of theirs is in a
    living sender's hands: however many processes sweep, a person's rows go in order."""
    journey_id = new_journey(sessions)
    first, second, third = (
        new_checkin(sessions, journey_id, due_at=NOW - timedelta(minutes=minutes))
        for minutes in (30, 20, 10)
    )
    other = new_checkin(sessions, new_journey(sessions, user="U2"), due_at=NOW)
    assert due(sessions) == [first, other]
    assert claim(sessions, first, "w1")
    assert due(sessions) == [other]  # w1 is sending `first`: the next waits for it
    assert sent(sessions, first, "w1")
    assert due(sessions) == [second, other]
    # A row written later but due earlier (a check-in moved forward) goes first.
    earlier = new_checkin(sessions, journey_id, due_at=NOW - timedelta(hours=1))
    assert due(sessions) == [earlier, other]
    with sessions.begin() as session:
        session.exec(delete(Checkin).where(col(Checkin.id).in_([earlier, second])))
    assert due(sessions) == [third, other]


def test_a_dead_senders_row_goes_before_the_rest_of_its_lane(sessions: Sessions) -> None:
    journey_id = new_journey(sessions)
    held = new_checkin(sessions, journey_id, due_at=NOW - timedelta(minutes=10))
    later = new_checkin(sessions, journey_id, due_at=NOW - timedelta(minutes=5))
    assert claim(sessions, held, "w1", now=NOW - timedelta(minutes=1))
    assert due(sessions, now=NOW - timedelta(minutes=1)) == []
    # w1 fell silent: its row is due again, and still first of its lane.
    assert due(sessions, now=NOW) == [held]
    assert claim(sessions, held, "w2", now=NOW)
    assert due(sessions, now=NOW) == []
    assert sent(sessions, held, "w2")
    assert due(sessions, now=NOW) == [later]


def test_a_sender_never_takes_over_its_own_rows_for_a_late_heartbeat(sessions: Sessions) -> None:
    """Its heartbeat held up behind a busy database, a sender still knows it lives: only
    another takes its rows over (a take-over under the same name could not be told from the
    first hold, and both would post)."""
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1", now=NOW)
    later = NOW + 2 * heartbeats.DEAD_AFTER
    with sessions.begin() as session:
        assert outbox.due_checkin_ids(session, now=later, limit=10, owner="w1") == []
        assert not heartbeats.rows_to_rescue(session, now=later, asking="w1")
        assert not outbox.claim_rows(
            session,
            checkin_ids=[checkin_id],
            owner="w1",
            now=later,
            lease=LEASE,
            taking_over=True,
        )
    with sessions.begin() as session:
        assert outbox.due_checkin_ids(session, now=later, limit=10, owner="w2") == [checkin_id]
        assert heartbeats.rows_to_rescue(session, now=later, asking="w2")
    assert claim(sessions, checkin_id, "w2", now=later)


def test_a_lane_being_claimed_by_one_sweep_is_left_alone_by_another(
    engine: Engine, sessions: Sessions
) -> None:
    """Two sweeps at once (PostgreSQL): while one has locked a person's first row and not
    yet committed its claim, the other must not take that person's second row."""
    postgres_only(engine, "row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL only")
    journey_id = new_journey(sessions)
    first, _ = (
        new_checkin(sessions, journey_id, due_at=NOW - timedelta(minutes=minutes))
        for minutes in (30, 20)
    )
    other = new_checkin(sessions, new_journey(sessions, user="U2"), due_at=NOW)
    with sessions() as one, one.begin():
        assert list(outbox.due_checkin_ids(one, now=NOW, limit=1)) == [first]
        with sessions() as two, two.begin():
            two.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            assert list(outbox.due_checkin_ids(two, now=NOW, limit=10)) == [other]


def test_due_rows_locked_by_one_sweep_are_skipped_by_another(
    engine: Engine, sessions: Sessions
) -> None:
    postgres_only(engine, "row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL only")
    rows = [
        new_checkin(sessions, journey_id, due_at=NOW - timedelta(minutes=minutes))
        for journey_id, minutes in zip(lanes(sessions, 3), (30, 20, 10), strict=True)
    ]
    with sessions() as first, first.begin():
        assert list(outbox.due_checkin_ids(first, now=NOW, limit=2)) == rows[:2]
        with sessions() as second, second.begin():
            # Were the rows locked without SKIP LOCKED, fail here instead of hanging.
            second.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            assert list(outbox.due_checkin_ids(second, now=NOW, limit=10)) == rows[2:]
    assert due(sessions) == rows  # released when the first transaction ended


# -- a sweep's claim round in one statement (PostgreSQL) ------------------------------------


AT_ONCE = "the one-statement claim round is PostgreSQL's (row locks in a CTE)"


def claim_at_once(
    engine: Engine, owner: str = "w2", now: datetime = NOW, limit: int = 10
) -> list[tuple[outbox.DeliveryFacts, int]]:
    with engine.connect() as connection, connection.begin():
        return outbox.claim_due_at_once(connection, now=now, limit=limit, owner=owner, lease=LEASE)


def test_a_round_claimed_at_once_is_the_first_due_row_of_each_lane_oldest_first(
    engine: Engine, sessions: Sessions
) -> None:
    postgres_only(engine, AT_ONCE)
    one, two, paused = (
        *lanes(sessions, 2),
        new_journey(sessions, user="UP", status=JourneyStatus.PAUSED),
    )
    first = new_checkin(sessions, one, due_at=NOW - timedelta(minutes=30))
    behind = new_checkin(sessions, one, due_at=NOW - timedelta(minutes=20))
    other = new_checkin(sessions, two, due_at=NOW - timedelta(minutes=10))
    new_checkin(sessions, paused, due_at=NOW - timedelta(hours=1))
    new_checkin(sessions, two, due_at=NOW + timedelta(minutes=1))

    claimed = claim_at_once(engine)

    assert [(facts.checkin_id, attempts) for facts, attempts in claimed] == [(first, 1), (other, 1)]
    assert [facts.posting_since for facts, _ in claimed] == [None, None]  # no try before
    assert [facts.user_id for facts, _ in claimed] == ["U0", "U1"]
    for checkin_id in (first, other):
        row = load(sessions, checkin_id)
        assert (row.status, row.lease_owner, row.posting_since) == ("claimed", "w2", NOW)
        assert row.lease_expires_at == NOW + LEASE
    # The person's next row waits for the first (held by a living sender: the one asking).
    assert claim_at_once(engine, now=NOW + timedelta(hours=1)) == []
    assert load(sessions, behind).status == CheckinStatus.PENDING


def test_a_claim_at_once_hands_on_the_mark_an_earlier_try_left(
    engine: Engine, sessions: Sessions
) -> None:
    """The row's own mark, read under its lock: it says to look for an earlier post."""
    postgres_only(engine, AT_ONCE)
    checkin_id = new_checkin(sessions, new_journey(sessions), due_at=NOW - timedelta(hours=1))
    earlier = NOW - timedelta(minutes=30)
    assert claim(sessions, checkin_id, "w1", now=earlier)
    with sessions.begin() as session:
        outbox.release_checkin(
            session, checkin_id=checkin_id, owner="w1", due_at=earlier, error="timed out"
        )

    [(facts, attempts)] = claim_at_once(engine)

    assert (facts.checkin_id, facts.posting_since, attempts) == (checkin_id, earlier, 2)
    assert load(sessions, checkin_id).posting_since == earlier  # kept, not moved to now


def test_rows_a_dead_sender_held_are_left_to_the_round_that_takes_them_over(
    engine: Engine, sessions: Sessions
) -> None:
    """One statement cannot read the dead owner's heartbeat after locking the row: taking
    over stays with `due_rows` and `claim_rows`, two statements."""
    postgres_only(engine, AT_ONCE)
    one, two = lanes(sessions, 2)
    held = new_checkin(sessions, one, due_at=NOW - timedelta(minutes=30))
    behind = new_checkin(sessions, one, due_at=NOW - timedelta(minutes=20))
    other = new_checkin(sessions, two, due_at=NOW - timedelta(minutes=10))
    assert claim(sessions, held, "w1", now=NOW)
    later = NOW + 2 * heartbeats.DEAD_AFTER

    assert [facts.checkin_id for facts, _ in claim_at_once(engine, now=later)] == [other]
    assert load(sessions, behind).status == CheckinStatus.PENDING  # in line behind the held one
    with sessions.begin() as session:
        found = outbox.due_checkin_ids(session, now=later, limit=10, owner="w2")
        assert found == [held]
        assert outbox.claim_rows(
            session, checkin_ids=found, owner="w2", now=later, lease=LEASE, taking_over=True
        ) == {held: 2}


def test_a_claim_at_once_skips_rows_another_sweep_has_locked(
    engine: Engine, sessions: Sessions
) -> None:
    postgres_only(engine, AT_ONCE)
    rows = [
        new_checkin(sessions, journey_id, due_at=NOW - timedelta(minutes=minutes))
        for journey_id, minutes in zip(lanes(sessions, 3), (30, 20, 10), strict=True)
    ]
    with sessions() as first, first.begin():
        assert list(outbox.due_checkin_ids(first, now=NOW, limit=2)) == rows[:2]
        with engine.connect() as second, second.begin():
            # Were the rows locked without SKIP LOCKED, fail here instead of hanging.
            second.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            claimed = outbox.claim_due_at_once(second, now=NOW, limit=10, owner="w2", lease=LEASE)
            assert [facts.checkin_id for facts, _ in claimed] == rows[2:]


# -- after sending -------------------------------------------------------------------------


def sent(sessions: Sessions, checkin_id: int, owner: str, now: datetime = NOW) -> bool:
    with sessions.begin() as session:
        return outbox.mark_sent(
            session,
            owner=owner,
            now=now,
            sent=[outbox.SentMark(checkin_id, "D1", "1700000000.000100")],
        )[0]


def test_mark_sent_needs_a_claim(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert not sent(sessions, checkin_id, "w1")
    row = load(sessions, checkin_id)
    assert row.status == CheckinStatus.PENDING
    assert row.sent_at is None and row.message_ts is None


def test_mark_sent_only_for_the_lease_owner(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1")
    assert not sent(sessions, checkin_id, "w2")
    assert load(sessions, checkin_id).status == CheckinStatus.CLAIMED
    later = NOW + timedelta(seconds=3)
    assert sent(sessions, checkin_id, "w1", now=later)
    row = load(sessions, checkin_id)
    assert row.status == CheckinStatus.SENT
    assert (row.channel_id, row.message_ts, row.sent_at) == ("D1", "1700000000.000100", later)
    assert row.lease_owner is None and row.lease_expires_at is None
    assert row.last_error is None
    assert not sent(sessions, checkin_id, "w1")  # once


def test_mark_sent_fails_for_a_worker_whose_lease_was_taken_over(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1")
    assert claim(sessions, checkin_id, "w2", now=NOW + 2 * LEASE)
    assert not sent(sessions, checkin_id, "w1")
    assert sent(sessions, checkin_id, "w2")


def test_release_puts_the_row_back_with_a_truncated_error(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1")
    retry_at = NOW + timedelta(minutes=30)
    error = "é" + "x" * 299
    with sessions.begin() as session:  # not the owner: nothing happens
        outbox.release_checkin(
            session, checkin_id=checkin_id, owner="w2", due_at=retry_at, error=error
        )
    assert load(sessions, checkin_id).status == CheckinStatus.CLAIMED
    with sessions.begin() as session:
        outbox.release_checkin(
            session, checkin_id=checkin_id, owner="w1", due_at=retry_at, error=error
        )
    row = load(sessions, checkin_id)
    assert row.status == CheckinStatus.PENDING
    assert row.due_at == retry_at
    assert row.lease_owner is None and row.lease_expires_at is None
    assert row.last_error == error[:200]
    assert row.attempts == 1  # the try is not given back: it may have posted
    assert due(sessions, now=retry_at - timedelta(seconds=1)) == []
    assert due(sessions, now=retry_at) == [checkin_id]


def test_fail_sets_failed_for_the_owner_only(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1")
    with sessions.begin() as session:
        outbox.fail_checkin(session, checkin_id=checkin_id, owner="w2", error="nope")
    assert load(sessions, checkin_id).status == CheckinStatus.CLAIMED
    with sessions.begin() as session:
        outbox.fail_checkin(session, checkin_id=checkin_id, owner="w1", error="y" * 250)
    row = load(sessions, checkin_id)
    assert row.status == CheckinStatus.FAILED
    assert row.lease_owner is None and row.lease_expires_at is None
    assert row.last_error == "y" * 200
    assert due(sessions, now=NOW + timedelta(days=1)) == []


def test_cancel_pending_cancels_pending_and_claimed_rows_only(sessions: Sessions) -> None:
    journey_id = new_journey(sessions)
    pending = new_checkin(sessions, journey_id)
    claimed = new_checkin(sessions, journey_id)
    assert claim(sessions, claimed, "w1")
    done = new_checkin(sessions, journey_id)
    assert claim(sessions, done, "w1") and sent(sessions, done, "w1")
    others = new_checkin(sessions, new_journey(sessions, user="U2"))
    with sessions.begin() as session:
        assert journeys.cancel_pending(session, journey_id=journey_id) == 2
    assert load(sessions, pending).status == CheckinStatus.CANCELLED
    row = load(sessions, claimed)
    assert row.status == CheckinStatus.CANCELLED
    assert row.lease_owner is None and row.lease_expires_at is None
    assert load(sessions, done).status == CheckinStatus.SENT
    assert load(sessions, others).status == CheckinStatus.PENDING
    assert not sent(sessions, claimed, "w1")  # the worker that held it cannot send it now
    with sessions.begin() as session:
        assert journeys.cancel_pending(session, journey_id=journey_id) == 0


def test_pending_checkin_is_the_earliest_waiting_row(sessions: Sessions) -> None:
    journey_id = new_journey(sessions)
    with sessions() as session:
        assert journeys.pending_checkin(session, journey_id=journey_id) is None
    new_checkin(sessions, journey_id, due_at=NOW - timedelta(hours=3), status=CheckinStatus.SENT)
    new_checkin(
        sessions, journey_id, due_at=NOW - timedelta(hours=2), status=CheckinStatus.CANCELLED
    )
    new_checkin(sessions, journey_id, due_at=NOW - timedelta(hours=1), status=CheckinStatus.FAILED)
    new_checkin(sessions, new_journey(sessions, user="U2"), due_at=NOW - timedelta(days=1))
    later = new_checkin(sessions, journey_id, due_at=NOW + timedelta(hours=2))
    with sessions() as session:
        found = journeys.pending_checkin(session, journey_id=journey_id)
        assert found is not None and found.id == later
    claimed = new_checkin(sessions, journey_id, due_at=NOW + timedelta(hours=1))
    assert claim(sessions, claimed, "w1")
    with sessions() as session:
        found = journeys.pending_checkin(session, journey_id=journey_id)
        assert found is not None and found.id == claimed


# -- events and erasure --------------------------------------------------------------------


def test_record_event_is_true_only_the_first_time(sessions: Sessions) -> None:
    with sessions.begin() as session:
        assert record_event(session, event_id="Ev1", now=NOW)
        assert not record_event(session, event_id="Ev1", now=NOW)
        assert record_event(session, event_id="Ev2", now=NOW)  # the session still works
    with sessions.begin() as session:
        assert not record_event(session, event_id="Ev1", now=NOW + timedelta(hours=1))
        assert not record_event(session, event_id="Ev2", now=NOW)
    with sessions() as session:
        events = session.exec(select(ProcessedEvent).order_by(col(ProcessedEvent.event_id))).all()
        assert [(e.event_id, e.received_at) for e in events] == [("Ev1", NOW), ("Ev2", NOW)]


def test_forget_old_events_deletes_only_older_ones(sessions: Sessions) -> None:
    cutoff = NOW - timedelta(days=1)
    with sessions.begin() as session:
        for event_id, at in (
            ("old", cutoff - timedelta(seconds=1)),
            ("edge", cutoff),
            ("new", NOW),
        ):
            assert record_event(session, event_id=event_id, now=at)
    with sessions.begin() as session:
        forget_old_events(session, before=cutoff)
    with sessions.begin() as session:
        kept = session.exec(select(ProcessedEvent.event_id)).all()
        assert sorted(kept) == ["edge", "new"]
        assert record_event(session, event_id="old", now=NOW)  # forgotten, so new again


def test_delete_person_removes_everything_of_theirs_and_nothing_else(sessions: Sessions) -> None:
    def person_with_history(user: str) -> tuple[int, list[int]]:
        stopped = new_journey(sessions, user=user, status=JourneyStatus.STOPPED)
        active = new_journey(sessions, user=user)
        rows = [new_checkin(sessions, journey_id) for journey_id in (stopped, active, active)]
        return load_journey(sessions, active).person_id, rows

    gone_id, gone_rows = person_with_history("U1")
    kept_id, kept_rows = person_with_history("U2")
    with sessions.begin() as session:
        people.delete_person(session, person_id=gone_id)
    with sessions() as session:
        assert session.get(Person, gone_id) is None
        assert people.find_person(session, ref=ref("U1")) is None
        assert session.exec(select(Journey).where(Journey.person_id == gone_id)).all() == []
        assert all(session.get(Checkin, row) is None for row in gone_rows)
        assert session.get(Person, kept_id) is not None
        assert len(session.exec(select(Journey).where(Journey.person_id == kept_id)).all()) == 2
        remaining = session.exec(select(Checkin.id).order_by(col(Checkin.id))).all()
        assert list(remaining) == kept_rows


# -- tries and the posting mark ------------------------------------------------------------


def claimed_by_w1_the_second_taken_over(sessions: Sessions, count: int) -> list[int]:
    """`count` rows, one per person, claimed by w1; w1 fell silent on the second, and w2
    took it over."""
    rows = [new_checkin(sessions, journey) for journey in lanes(sessions, count)]
    for checkin_id in rows:
        assert claim(sessions, checkin_id, "w1")
    with sessions.begin() as session:
        session.exec(update(Checkin).where(col(Checkin.id) == rows[1]).values(lease_owner="w2"))
    return rows


def test_sent_marks_in_one_statement_mark_only_the_rows_still_held(sessions: Sessions) -> None:
    ours, taken_over, another = claimed_by_w1_the_second_taken_over(sessions, 3)
    with sessions.begin() as session:
        marked = outbox.mark_sent(
            session,
            owner="w1",
            now=NOW,
            sent=[
                outbox.SentMark(ours, "D1", "1.1"),
                outbox.SentMark(taken_over, "D2", "2.2"),
                outbox.SentMark(another, "D3", "3.3"),
            ],
        )
    assert marked == [True, False, True]
    assert (load(sessions, another).channel_id, load(sessions, another).message_ts) == ("D3", "3.3")
    assert load(sessions, taken_over).status == CheckinStatus.CLAIMED


def test_sent_marks_at_once_commit_themselves_and_mark_only_the_rows_still_held(
    engine: Engine, sessions: Sessions
) -> None:
    postgres_only(engine, "a group of marks in one statement that commits itself is PostgreSQL's")
    ours, taken_over = claimed_by_w1_the_second_taken_over(sessions, 2)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection:
        marked = outbox.mark_sent_at_once(
            connection,
            owner="w1",
            now=NOW,
            sent=[
                outbox.SentMark(ours, "D1", "1.1", "de"),
                outbox.SentMark(taken_over, "D2", "2.2"),
            ],
        )
        # Seen from another connection before this one is given back: already committed.
        row = load(sessions, ours)
    assert marked == [True, False]
    assert (row.status, row.channel_id, row.message_ts, row.locale) == ("sent", "D1", "1.1", "de")
    assert (row.lease_owner, row.sent_at) == (None, NOW)
    assert load(sessions, taken_over).status == CheckinStatus.CLAIMED


def test_a_claim_counts_a_try_and_marks_the_row_as_possibly_posted(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1", now=NOW)
    row = load(sessions, checkin_id)
    assert (row.attempts, row.posting_since) == (1, NOW)
    # Only for a while: held only by "w1", it is not anyone else's to claim.
    with sessions.begin() as session:
        assert not outbox.claim_rows(
            session, checkin_ids=[checkin_id], owner="w2", now=NOW, lease=LEASE
        )
    with sessions.begin() as session:  # out of working hours: nothing was posted
        outbox.release_checkin(
            session,
            checkin_id=checkin_id,
            owner="w1",
            due_at=NOW,
            error="outside working hours",
            maybe_posted=False,
            refund_attempt=True,
        )
    row = load(sessions, checkin_id)
    assert (row.attempts, row.posting_since) == (0, None)


def test_a_later_claim_keeps_the_mark_of_a_try_that_may_have_posted(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1", now=NOW)
    with sessions.begin() as session:  # the platform's answer left it unclear
        outbox.release_checkin(
            session, checkin_id=checkin_id, owner="w1", due_at=NOW, error="timeout"
        )
    later = NOW + timedelta(minutes=1)
    assert claim(sessions, checkin_id, "w2", now=later)
    row = load(sessions, checkin_id)
    # The look-up for an earlier post must start from the first try.
    assert (row.attempts, row.posting_since) == (2, NOW)
    with sessions.begin() as session:  # this try surely posted nothing: the first mark stays
        outbox.release_checkin(
            session,
            checkin_id=checkin_id,
            owner="w2",
            due_at=later,
            error="rate limited",
            maybe_posted=False,
            earlier_posting=NOW,
        )
    assert load(sessions, checkin_id).posting_since == NOW


def test_a_hold_is_renewed_only_while_its_lease_runs(sessions: Sessions) -> None:
    checkin_id = new_checkin(sessions, new_journey(sessions))
    assert claim(sessions, checkin_id, "w1", now=NOW)
    later = NOW + LEASE - timedelta(seconds=1)
    with sessions.begin() as session:
        assert outbox.renew_hold(session, checkin_id=checkin_id, owner="w1", now=later, lease=LEASE)
    row = load(sessions, checkin_id)
    assert row.posting_since == NOW and row.lease_expires_at == later + LEASE
    with sessions.begin() as session:
        assert not outbox.renew_hold(
            session, checkin_id=checkin_id, owner="w1", now=later + 3 * LEASE, lease=LEASE
        )
        assert not outbox.renew_hold(
            session, checkin_id=checkin_id, owner="w2", now=later, lease=LEASE
        )

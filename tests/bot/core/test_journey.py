"""bot.core.journey on both databases: begin, redeliver, advance, snooze and end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from bot.core import journey as rules
from bot.core.db import make_sessions
from bot.core.ids import CHECKIN_KIND_FINISHED, CHECKIN_KIND_STAGE
from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus
from bot.core.person_ref import PersonRef
from bot.core.storage import journeys, outbox, people

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
TOMORROW = datetime(2026, 11, 24, 9, tzinfo=UTC)
LEASE = timedelta(minutes=10)
REF = PersonRef("slack", "T1", "U1")

Sessions = sessionmaker[Session]


@pytest.fixture
def sessions(engine: Engine) -> Sessions:
    return make_sessions(engine)


# -- helpers -------------------------------------------------------------------------------


def begin(sessions: Sessions, first_stage: str = "s1", now: datetime = NOW) -> tuple[int, int]:
    """A new journey for REF; its id and its first row's id."""
    with sessions.begin() as session:
        person = people.get_or_create_person(session, ref=REF, now=now)
        assert person.id is not None
        first = rules.begin(session, person_id=person.id, first_stage=first_stage, now=now)
        return first.journey_id, first.checkin_id


def deliver(sessions: Sessions, checkin_id: int, now: datetime = NOW) -> None:
    """What the dispatcher does: claim the row, then mark it sent."""
    with sessions.begin() as session:
        assert outbox.claim_rows(
            session, checkin_ids=[checkin_id], owner="worker", now=now, lease=LEASE
        )
    with sessions.begin() as session:
        assert outbox.mark_sent(
            session,
            owner="worker",
            now=now,
            sent=[outbox.SentMark(checkin_id, "D1", f"1700000000.{checkin_id:06d}")],
        )[0]


def click(sessions: Sessions, checkin_id: int, choice: str, now: datetime = NOW) -> bool:
    with sessions.begin() as session:
        return journeys.answer_live_checkin(session, checkin_id=checkin_id, answer=choice, now=now)


def journey_of(sessions: Sessions, journey_id: int) -> Journey:
    with sessions() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        return journey


def rows_of(sessions: Sessions, journey_id: int) -> list[Checkin]:
    with sessions() as session:
        return list(
            session.exec(
                select(Checkin).where(Checkin.journey_id == journey_id).order_by(col(Checkin.id))
            ).all()
        )


def row(sessions: Sessions, checkin_id: int) -> Checkin:
    with sessions() as session:
        checkin = session.get(Checkin, checkin_id)
        assert checkin is not None
        return checkin


def due(sessions: Sessions, now: datetime) -> list[int]:
    with sessions.begin() as session:
        return list(outbox.due_checkin_ids(session, now=now, limit=100))


def set_status(sessions: Sessions, journey_id: int, status: str) -> None:
    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        journey.status = status
        session.add(journey)


def redeliver(sessions: Sessions, journey_id: int, now: datetime = LATER) -> Checkin:
    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        return rules.redeliver(session, journey=journey, now=now)


def advance(
    sessions: Sessions, journey_id: int, next_stage: str | None, now: datetime = LATER
) -> Checkin:
    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        return rules.advance(session, journey=journey, next_stage=next_stage, now=now)


def snooze(sessions: Sessions, journey_id: int, until: datetime = TOMORROW) -> Checkin:
    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        return rules.snooze(session, journey=journey, until=until, now=NOW)


# -- begin ---------------------------------------------------------------------------------


def test_begin_opens_a_journey_at_the_first_stage_with_one_row_due_now(
    sessions: Sessions,
) -> None:
    journey_id, first_id = begin(sessions, first_stage="s1")
    journey = journey_of(sessions, journey_id)
    assert journey.status == JourneyStatus.ACTIVE
    assert journey.stage_id == "s1"
    assert journey.current_checkin_id == first_id
    assert journey.deliveries == 1
    assert (journey.started_at, journey.updated_at, journey.ended_at) == (NOW, NOW, None)
    [first] = rows_of(sessions, journey_id)
    assert first.id == first_id
    assert (first.kind, first.key, first.stage_id) == (CHECKIN_KIND_STAGE, "stage:s1:1", "s1")
    assert first.status == CheckinStatus.PENDING
    assert first.due_at == NOW
    assert first.supersedes_checkin_id is None
    assert due(sessions, NOW) == [first_id]
    with sessions() as session:
        person = people.find_person(session, ref=REF)
        assert person is not None and journey.person_id == person.id
        open_now = journeys.open_journey(session, person_id=journey.person_id)
        assert open_now is not None and open_now.id == journey_id


# -- redeliver -----------------------------------------------------------------------------


def test_redeliver_moves_a_snoozed_row_to_now_without_a_new_row(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    deliver(sessions, first_id)
    assert click(sessions, first_id, "stage_snooze")
    snoozed = snooze(sessions, journey_id)
    assert snoozed.id is not None

    brought = redeliver(sessions, journey_id, now=LATER)
    assert brought.id == snoozed.id
    assert [r.id for r in rows_of(sessions, journey_id)] == [first_id, snoozed.id]
    moved = row(sessions, snoozed.id)
    assert moved.status == CheckinStatus.PENDING
    assert moved.due_at == LATER
    journey = journey_of(sessions, journey_id)
    assert journey.current_checkin_id == snoozed.id
    assert journey.deliveries == 2
    assert journey.status == JourneyStatus.ACTIVE
    assert due(sessions, LATER) == [snoozed.id]


def test_redeliver_leaves_a_row_already_due_or_in_flight_alone(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    with sessions.begin() as session:  # a worker holds it right now
        assert outbox.claim_rows(
            session, checkin_ids=[first_id], owner="worker", now=NOW, lease=LEASE
        )
    brought = redeliver(sessions, journey_id, now=LATER)
    assert brought.id == first_id
    assert len(rows_of(sessions, journey_id)) == 1
    held = row(sessions, first_id)
    assert (held.status, held.due_at, held.lease_owner) == (CheckinStatus.CLAIMED, NOW, "worker")


def test_redeliver_replaces_a_live_sent_row_and_supersedes_it(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    deliver(sessions, first_id)

    fresh = redeliver(sessions, journey_id, now=LATER)
    assert fresh.id is not None and fresh.id != first_id
    old = row(sessions, first_id)
    assert (old.answer, old.answered_at, old.status) == ("superseded", LATER, CheckinStatus.SENT)
    new = row(sessions, fresh.id)
    assert new.supersedes_checkin_id == first_id
    assert (new.status, new.due_at, new.stage_id, new.key) == (
        CheckinStatus.PENDING,
        LATER,
        "s1",
        "stage:s1:2",
    )
    journey = journey_of(sessions, journey_id)
    assert journey.current_checkin_id == fresh.id
    assert journey.deliveries == 2
    assert len(rows_of(sessions, journey_id)) == 2
    assert not click(sessions, first_id, "stage_next")  # the old copy's buttons are dead


def test_redeliver_twice_leaves_one_live_copy(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    deliver(sessions, first_id)
    second = redeliver(sessions, journey_id, now=LATER)
    again = redeliver(sessions, journey_id, now=LATER + timedelta(minutes=1))
    assert again.id == second.id  # still waiting to go out: no third row
    assert len(rows_of(sessions, journey_id)) == 2


@pytest.mark.parametrize("snoozed", [False, True])
def test_redeliver_resumes_a_paused_journey(sessions: Sessions, snoozed: bool) -> None:
    journey_id, first_id = begin(sessions)
    deliver(sessions, first_id)
    waiting: int | None = None
    if snoozed:  # paused while its next step was scheduled for tomorrow
        assert click(sessions, first_id, "stage_snooze")
        waiting = snooze(sessions, journey_id).id
    set_status(sessions, journey_id, JourneyStatus.PAUSED)
    assert due(sessions, TOMORROW) == []  # nothing goes out while paused

    brought = redeliver(sessions, journey_id, now=LATER)
    assert brought.id is not None
    journey = journey_of(sessions, journey_id)
    assert journey.status == JourneyStatus.ACTIVE
    assert journey.updated_at == LATER
    assert journey.current_checkin_id == brought.id
    assert due(sessions, LATER) == [brought.id]
    assert len(rows_of(sessions, journey_id)) == 2
    if snoozed:
        assert brought.id == waiting
    else:
        assert row(sessions, brought.id).supersedes_checkin_id == first_id


def test_redeliver_after_a_failed_delivery_does_not_supersede_it(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    with sessions.begin() as session:
        assert outbox.claim_rows(
            session, checkin_ids=[first_id], owner="worker", now=NOW, lease=LEASE
        )
        outbox.fail_checkin(session, checkin_id=first_id, owner="worker", error="unreachable")
    set_status(sessions, journey_id, JourneyStatus.PAUSED)

    fresh = redeliver(sessions, journey_id, now=LATER)
    assert fresh.id is not None and fresh.id != first_id
    assert row(sessions, fresh.id).supersedes_checkin_id is None  # nothing was shown to replace
    assert row(sessions, first_id).status == CheckinStatus.FAILED
    assert journey_of(sessions, journey_id).status == JourneyStatus.ACTIVE


# -- advance -------------------------------------------------------------------------------


def test_advance_to_the_next_stage_schedules_its_row(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    deliver(sessions, first_id)
    assert click(sessions, first_id, "stage_next")

    nxt = advance(sessions, journey_id, "s2", now=LATER)
    assert nxt.id is not None
    journey = journey_of(sessions, journey_id)
    assert (journey.status, journey.stage_id) == (JourneyStatus.ACTIVE, "s2")
    assert journey.current_checkin_id == nxt.id
    assert journey.updated_at == LATER
    assert journey.ended_at is None
    new = row(sessions, nxt.id)
    assert (new.kind, new.key, new.stage_id) == (CHECKIN_KIND_STAGE, "stage:s2:2", "s2")
    assert (new.status, new.due_at) == (CheckinStatus.PENDING, LATER)
    assert row(sessions, first_id).answer == "stage_next"
    assert due(sessions, LATER) == [nxt.id]
    assert not click(sessions, first_id, "stage_stop", now=LATER)


def test_advance_past_the_last_stage_completes_the_journey(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    deliver(sessions, first_id)
    assert click(sessions, first_id, "stage_next")

    finished = advance(sessions, journey_id, None, now=LATER)
    assert finished.id is not None
    journey = journey_of(sessions, journey_id)
    assert journey.status == JourneyStatus.COMPLETED
    assert journey.ended_at == LATER
    assert journey.updated_at == LATER
    assert journey.current_checkin_id is None
    rows = rows_of(sessions, journey_id)
    closing = [r for r in rows if r.kind == CHECKIN_KIND_FINISHED]
    assert [r.id for r in closing] == [finished.id]
    assert (closing[0].key, closing[0].stage_id) == (CHECKIN_KIND_FINISHED, None)
    assert (closing[0].status, closing[0].due_at) == (CheckinStatus.PENDING, LATER)
    assert len(rows) == 2
    assert due(sessions, LATER) == [finished.id]  # the closing message still goes out
    with sessions() as session:
        assert journeys.open_journey(session, person_id=journey.person_id) is None
    begin(sessions, now=LATER)  # and a new journey may start


# -- snooze and end ------------------------------------------------------------------------


def test_snooze_schedules_the_same_stage_for_later(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    deliver(sessions, first_id)
    assert click(sessions, first_id, "stage_snooze")

    later = snooze(sessions, journey_id, until=TOMORROW)
    assert later.id is not None
    new = row(sessions, later.id)
    assert (new.stage_id, new.key, new.due_at) == ("s1", "stage:s1:2", TOMORROW)
    assert new.status == CheckinStatus.PENDING
    journey = journey_of(sessions, journey_id)
    assert (journey.status, journey.stage_id) == (JourneyStatus.ACTIVE, "s1")
    assert journey.current_checkin_id == later.id
    assert due(sessions, TOMORROW - timedelta(seconds=1)) == []
    assert due(sessions, TOMORROW) == [later.id]


def test_end_cancels_what_is_scheduled_and_expires_every_button(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    deliver(sessions, first_id)
    assert click(sessions, first_id, "stage_snooze")
    snoozed = snooze(sessions, journey_id)
    assert snoozed.id is not None

    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        rules.end(session, journey=journey, now=LATER)
    journey = journey_of(sessions, journey_id)
    assert journey.status == JourneyStatus.STOPPED
    assert journey.ended_at == LATER
    assert journey.updated_at == LATER
    assert journey.current_checkin_id is None
    assert row(sessions, snoozed.id).status == CheckinStatus.CANCELLED
    assert row(sessions, first_id).status == CheckinStatus.SENT
    assert due(sessions, TOMORROW) == []
    assert not click(sessions, snoozed.id, "stage_next", now=LATER)
    with sessions() as session:
        assert journeys.open_journey(session, person_id=journey.person_id) is None


def test_end_stops_a_row_that_is_being_sent(sessions: Sessions) -> None:
    journey_id, first_id = begin(sessions)
    with sessions.begin() as session:
        assert outbox.claim_rows(
            session, checkin_ids=[first_id], owner="worker", now=NOW, lease=LEASE
        )
    with sessions.begin() as session:
        journey = session.get(Journey, journey_id)
        assert journey is not None
        rules.end(session, journey=journey, now=NOW)
    cancelled = row(sessions, first_id)
    assert cancelled.status == CheckinStatus.CANCELLED
    assert cancelled.lease_owner is None
    with sessions.begin() as session:
        assert not outbox.mark_sent(
            session, owner="worker", now=NOW, sent=[outbox.SentMark(first_id, "D1", "1.1")]
        )[0]

"""Starting and steering a journey through the handlers on SQLite: `start_or_resume`, status,
pause, resume, stop, forget and hours, each with what the rows look like afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import update

from bot.core import audit, ids
from bot.core.checkin_planning import FROM_START
from bot.core.dependencies import Services
from bot.core.models import AuditEntry, Checkin, CheckinStatus, Journey, JourneyStatus, Person
from bot.core.storage.outbox import due_checkin_ids
from handlers import journey_controls as controls
from handlers.manager_invitation import invite_manager
from handlers.meeting_access import Someone
from handlers.start import start_or_resume
from tests.handlers.sqlite_services import CONTENT, EN, KEY, T0, clock, ref, rows, said
from tests.handlers.sqlite_services import sqlite_services as build

ALEX = "UALEX"
FIRST_STAGE = CONTENT.stage_order[0]


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with build(tmp_path) as built:
        yield built


def journey(services: Services) -> Journey:
    (only,) = rows(services, Journey)
    return only


def by_kind(services: Services) -> dict[str, list[Checkin]]:
    found: dict[str, list[Checkin]] = {}
    for row in rows(services, Checkin):
        found.setdefault(row.kind, []).append(row)
    return found


def due_now(services: Services) -> list[int]:
    with services.sessions.begin() as session:
        return list(due_checkin_ids(session, now=services.clock(), limit=100))


def start(services: Services) -> int:
    """Alex starts; the id of the first step, sent at once."""
    (first,) = start_or_resume(services, ref(ALEX)).send_now
    return first


def current_step() -> str:
    title = EN.stages[FIRST_STAGE].title
    return EN.text("status_current", number=1, total=len(CONTENT.stage_order), title=title)


def test_start_opens_a_journey_with_its_first_step_due_now(services: Services) -> None:
    reply = start_or_resume(services, ref(ALEX))

    assert said(reply.message) == EN.text("ack_started")
    (person,) = rows(services, Person)
    assert (person.platform, person.user_id) == ("slack", ALEX)
    opened = journey(services)
    assert (opened.person_id, opened.status, opened.stage_id, opened.deliveries) == (
        person.id,
        JourneyStatus.ACTIVE,
        FIRST_STAGE,
        1,
    )
    assert reply.send_now == (opened.current_checkin_id,)
    kinds = by_kind(services)
    (step,) = kinds[ids.CHECKIN_KIND_STAGE]
    assert (step.id, step.status, step.due_at, step.within_hours) == (
        opened.current_checkin_id,
        CheckinStatus.PENDING,
        T0,
        False,
    )
    # The check-ins every journey gets are planned for later, not sent now.
    for kind in FROM_START:
        (later,) = kinds[kind]
        assert later.status == CheckinStatus.PENDING
        assert later.due_at > T0
    assert due_now(services) == [step.id]


def test_starting_again_picks_up_the_open_journey(services: Services) -> None:
    first = start(services)

    reply = start_or_resume(services, ref(ALEX))

    assert said(reply.message) == EN.text("ack_resumed")
    assert reply.send_now == (first,)  # the same step, not a second copy
    assert len(rows(services, Journey)) == 1
    assert len(by_kind(services)[ids.CHECKIN_KIND_STAGE]) == 1


def test_status_before_anything_says_there_is_no_journey(services: Services) -> None:
    assert controls.status_line(services, ref(ALEX)) is None
    assert said(controls.status(services, ref(ALEX)).message) == EN.text("status_none")
    assert rows(services, Person) == []


def test_status_names_the_step_and_that_it_waits(services: Services) -> None:
    start(services)

    line = controls.status_line(services, ref(ALEX))

    assert line == f"{current_step()} {EN.text('status_waiting')}"
    assert said(controls.status(services, ref(ALEX)).message) == line


def test_pause_holds_what_is_scheduled_without_cancelling_it(services: Services) -> None:
    start(services)
    before = {row.id: row.status for row in rows(services, Checkin)}

    reply = controls.pause(services, ref(ALEX))

    assert said(reply.message) == EN.text("paused")
    assert reply.send_now == ()
    paused = journey(services)
    assert paused.status == JourneyStatus.PAUSED
    assert {row.id: row.status for row in rows(services, Checkin)} == before
    # Held: the dispatcher finds nothing due, even long after every row fell due.
    clock(services).move_to(T0 + timedelta(days=120))
    assert due_now(services) == []
    assert controls.status_line(services, ref(ALEX)) == (
        f"{current_step()} {EN.text('status_paused')}"
    )


def test_pausing_twice_or_without_a_journey_changes_nothing(services: Services) -> None:
    assert said(controls.pause(services, ref(ALEX)).message) == EN.text("status_none")
    assert rows(services, Journey) == []
    start(services)
    controls.pause(services, ref(ALEX))
    updated = journey(services).updated_at
    clock(services).move_to(T0 + timedelta(hours=1))

    assert said(controls.pause(services, ref(ALEX)).message) == EN.text("already_paused")
    assert journey(services).updated_at == updated


def test_resume_brings_the_waiting_step_back_now(services: Services) -> None:
    first = start(services)
    controls.pause(services, ref(ALEX))
    later = T0 + timedelta(days=3)
    clock(services).move_to(later)

    reply = controls.resume(services, ref(ALEX))

    assert said(reply.message) == EN.text("resumed")
    assert reply.send_now == (first,)
    resumed = journey(services)
    assert (resumed.status, resumed.updated_at) == (JourneyStatus.ACTIVE, later)
    assert first in due_now(services)


def test_resume_after_a_delivered_step_sends_a_fresh_copy(services: Services) -> None:
    first = start(services)
    with services.sessions.begin() as session:  # the dispatcher delivered it
        session.exec(
            update(Checkin)
            .where(Checkin.id == first)  # type: ignore[arg-type]
            .values(status=CheckinStatus.SENT, sent_at=T0, channel_id="D1", message_ts="1.0")
        )
    controls.pause(services, ref(ALEX))
    later = T0 + timedelta(days=2)
    clock(services).move_to(later)

    reply = controls.resume(services, ref(ALEX))

    old, fresh = by_kind(services)[ids.CHECKIN_KIND_STAGE]
    assert reply.send_now == (fresh.id,)
    assert (old.answer, old.answered_at) == ("superseded", later)
    assert (fresh.status, fresh.due_at, fresh.supersedes_checkin_id) == (
        CheckinStatus.PENDING,
        later,
        first,
    )
    assert journey(services).current_checkin_id == fresh.id


def test_resume_when_not_paused_or_without_a_journey(services: Services) -> None:
    assert said(controls.resume(services, ref(ALEX)).message) == EN.text("status_none")
    start(services)

    reply = controls.resume(services, ref(ALEX))

    assert said(reply.message) == EN.text("not_paused")
    assert reply.send_now == ()
    assert journey(services).status == JourneyStatus.ACTIVE


def test_starting_a_paused_journey_resumes_it(services: Services) -> None:
    first = start(services)
    controls.pause(services, ref(ALEX))

    reply = start_or_resume(services, ref(ALEX))

    assert said(reply.message) == EN.text("ack_resumed_paused")
    assert reply.send_now == (first,)
    assert journey(services).status == JourneyStatus.ACTIVE


def test_stop_cancels_everything_scheduled(services: Services) -> None:
    start(services)
    clock(services).move_to(T0 + timedelta(hours=1))

    reply = controls.stop(services, ref(ALEX))

    assert said(reply.message) == EN.text("stopped")
    stopped = journey(services)
    assert (stopped.status, stopped.ended_at, stopped.current_checkin_id) == (
        JourneyStatus.STOPPED,
        T0 + timedelta(hours=1),
        None,
    )
    assert {row.status for row in rows(services, Checkin)} == {CheckinStatus.CANCELLED}
    assert said(controls.status(services, ref(ALEX)).message) == EN.text("status_none")
    assert said(controls.stop(services, ref(ALEX)).message) == EN.text("nothing_to_stop")


def test_a_stopped_journey_is_followed_by_a_new_one(services: Services) -> None:
    start(services)
    controls.stop(services, ref(ALEX))

    reply = start_or_resume(services, ref(ALEX))

    assert said(reply.message) == EN.text("ack_started")
    old, new = rows(services, Journey)
    assert (old.status, new.status) == (JourneyStatus.STOPPED, JourneyStatus.ACTIVE)
    assert reply.send_now == (new.current_checkin_id,)


def test_forget_asks_first_and_cancelling_keeps_everything(services: Services) -> None:
    start(services)

    prompt = controls.request_forget(services, ref(ALEX)).message

    assert said(prompt) == EN.text("forget_prompt")
    assert [button.action for button in prompt.buttons] == [
        ids.FORGET_CONFIRM,
        ids.FORGET_CANCEL,
    ]
    assert controls.cancel_forget(services, ref(ALEX)).note == EN.text("forget_cancelled")
    assert len(rows(services, Person)) == 1 and len(rows(services, Journey)) == 1


def test_forget_erases_the_person_and_hashes_them_in_the_trail(services: Services) -> None:
    start(services)
    assert invite_manager(services, ref(ALEX), Someone("UMANAGER")).errors == {}

    reply = controls.confirm_forget(services, ref(ALEX))

    assert reply.note == EN.text("forgotten")
    assert [p.user_id for p in rows(services, Person)] == ["UMANAGER"]
    assert rows(services, Journey) == []
    assert rows(services, Checkin) == []  # the invitation's message to the manager too
    (entry,) = rows(services, AuditEntry)
    hashed = audit.hashed(ALEX, KEY)
    assert (entry.actor, entry.subject, entry.other) == (hashed, hashed, "UMANAGER")


def test_forget_with_nothing_to_forget(services: Services) -> None:
    assert said(controls.request_forget(services, ref(ALEX)).message) == EN.text(
        "nothing_to_forget"
    )
    assert controls.confirm_forget(services, ref(ALEX)).note == EN.text("nothing_to_forget")
    assert rows(services, Person) == []


def test_hours_change_the_working_time_and_move_what_is_planned(services: Services) -> None:
    start(services)
    planned = {row.kind: row.due_at for row in rows(services, Checkin) if row.kind in FROM_START}

    reply = controls.working_hours(services, ref(ALEX), "13:00-17:00 mon-tue")

    (person,) = rows(services, Person)
    assert (person.work_hours, person.work_days) == ("13:00-17:00", "mon-tue")
    days = "Monday, Tuesday"
    assert said(reply.message) == EN.text("hours_set", hours="13:00–17:00", days=days, zone="UTC")
    for row in rows(services, Checkin):
        if row.kind in FROM_START:
            assert row.due_at != planned[row.kind]
            assert row.due_at.weekday() in (0, 1) and 13 <= row.due_at.hour < 17


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("25:00-26:00", "hours_bad"),
        ("09:00-17:00 someday", "hours_bad"),
        ("a b c d", "hours_bad"),
        ("09:00-17:00 mon-fri Mars/Olympus", "hours_zone_bad"),
    ],
)
def test_hours_that_do_not_parse_change_nothing(services: Services, typed: str, key: str) -> None:
    start(services)

    reply = controls.working_hours(services, ref(ALEX), typed)

    assert said(reply.message) == EN.text(key)
    (person,) = rows(services, Person)
    assert (person.work_hours, person.work_days, person.time_zone_override) == (None, None, None)

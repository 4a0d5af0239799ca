"""What one person's own actions may put in the outbox (handlers.enqueue_limit), on SQLite:
twenty messages a minute, a kind answer under the form's first field past that, nothing queued
for the refused one, room again a minute later, and nobody else held back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.dependencies import Services
from bot.core.models import Checkin, FeedbackMeeting, FeedbackRequest, Goal
from handlers.enqueue_limit import PER_MINUTE, TEXT_KEY
from handlers.feedback import FormResult, request_feedback
from handlers.goals import GoalDraft, SavedGoals, save_goals
from handlers.journey_controls import pause, resume
from handlers.meeting_access import Someone
from handlers.meeting_preparation import MeetingDraft, prepare_meeting
from handlers.start import start_or_resume
from tests.handlers.sqlite_services import EN, T0, clock, ref, rows, said, sqlite_services

ALEX = "UALEX"
BEA = "UBEA"
KIND = EN.text(TEXT_KEY)
# The journey's first message, queued by the command, is a minute old when a test begins.
BEGIN = T0 + timedelta(seconds=61)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with sqlite_services(tmp_path) as built:
        start_or_resume(built, ref(ALEX))
        start_or_resume(built, ref(BEA))
        clock(built).move_to(BEGIN)
        yield built


def ask(services: Services, user: str = ALEX) -> FormResult:
    return request_feedback(services, ref(user), decider="UBOSS", focus="the panel", tone="warm")


def write_goals(services: Services, what: str, user: str = ALEX) -> SavedGoals:
    draft = GoalDraft(number=1, what=what, first_step="", by_when=None)
    return save_goals(services, ref(user), [draft], from_checkin=None)


def later(services: Services, seconds: float) -> None:
    clock(services).move_to(clock(services)() + timedelta(seconds=seconds))


def test_twenty_feedback_requests_a_minute_are_queued_and_the_next_is_refused_kindly(
    services: Services,
) -> None:
    for _ in range(PER_MINUTE):  # a form refused for its own errors queues nothing, counts nothing
        assert request_feedback(services, ref(ALEX), decider=None, focus="", tone="warm").errors
    for _ in range(PER_MINUTE):
        answer = ask(services)
        assert answer.errors == {} and len(answer.send_now) == 1
        later(services, 2)
    queued = len(rows(services, Checkin))

    refused = ask(services)

    assert refused.errors == {"decider": KIND}
    assert refused.send_now == ()
    assert len(rows(services, Checkin)) == queued
    assert len(rows(services, FeedbackRequest)) == PER_MINUTE
    # Someone else, in the same second, is not held back by it.
    assert ask(services, BEA).errors == {}


def test_a_minute_after_the_first_request_there_is_room_again(services: Services) -> None:
    for _ in range(PER_MINUTE):
        assert ask(services).errors == {}
    later(services, 59)
    assert ask(services).errors == {"decider": KIND}

    later(services, 1)  # the first twenty are a minute old now
    again = ask(services)

    assert again.errors == {} and len(again.send_now) == 1


def test_goals_saved_twenty_times_a_minute_then_refused_and_kept_as_they_were(
    services: Services,
) -> None:
    for number in range(PER_MINUTE):
        saved = write_goals(services, f"Goal {number}")
        assert saved.errors == {} and len(saved.send_now) == 1

    refused = write_goals(services, "One more")

    assert refused.errors == {"what_1": KIND}
    assert refused.send_now == ()
    assert [g.what for g in rows(services, Goal)] == [f"Goal {PER_MINUTE - 1}"]
    assert write_goals(services, "Bea's goal", BEA).errors == {}
    later(services, 60)
    assert write_goals(services, "One more").errors == {}


def test_at_the_limit_the_command_and_resume_answer_kindly_and_queue_nothing(
    services: Services,
) -> None:
    for _ in range(PER_MINUTE):
        assert ask(services).errors == {}
    queued = len(rows(services, Checkin))

    command = start_or_resume(services, ref(ALEX))
    pause(services, ref(ALEX))
    resumed = resume(services, ref(ALEX))

    assert said(command.message) == KIND and command.send_now == ()
    assert said(resumed.message) == KIND and resumed.send_now == ()
    assert len(rows(services, Checkin)) == queued


def test_a_manager_preparing_meetings_for_many_people_is_held_at_twenty_agendas(
    services: Services,
) -> None:
    day = BEGIN.date()
    agenda = MeetingDraft(
        thanks="Thanks for the launch.",
        observed="Clear demos.",
        gaps="Estimates.",
        next_steps="Pair on planning.",
        growth="",
        meeting_on=day + timedelta(days=2),
        follow_up_on=day + timedelta(days=30),
    )

    def prepare(number: int) -> dict[str, str]:
        subject = Someone(f"UREPORT{number}")
        return prepare_meeting(services, ref("UMANAGER"), subject, agenda, in_group=True).errors

    assert [prepare(number) for number in range(PER_MINUTE)] == [{}] * PER_MINUTE
    assert prepare(PER_MINUTE) == {"thanks": KIND}
    assert len(rows(services, FeedbackMeeting)) == PER_MINUTE

"""The limits the handlers keep, on SQLite: what the goals form accepts (handlers.goals), and how
often an invitation may message a manager (handlers.manager_invitation: one message per
manager in seven days, five managers a day)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import update

from bot.core import audit, ids
from bot.core.dependencies import Services
from bot.core.models import AuditEntry, Checkin, CheckinStatus, Goal, GoalStatus, ManagerGrant
from handlers.goals import MAX_GOALS, TEXT_LIMIT, GoalDraft, current_goals, save_goals
from handlers.manager_invitation import (
    INVITES_PER_DAY,
    QUIET_WINDOW,
    invite_manager,
    withdraw_invitation,
)
from handlers.meeting_access import Someone
from handlers.replies import FormAnswer
from handlers.start import start_or_resume
from tests.handlers.sqlite_services import CONTENT, EN, T0, clock, ref, rows, sqlite_services

ALEX = "UALEX"
MANAGER = "UMANAGER"
GOALS_FORM = EN.checkins["goals_form"]
INVITE_FORM = EN.checkins["meeting_invite_form"]
TODAY = T0.date()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with sqlite_services(tmp_path) as built:
        start_or_resume(built, ref(ALEX))
        yield built


def goal(number: int, what: str = "Lead a design review", **fields: object) -> GoalDraft:
    values: dict[str, object] = {"first_step": "", "by_when": None, "why": ""} | fields
    return GoalDraft(number=number, what=what, **values)  # type: ignore[arg-type]


def kinds(services: Services, kind: str) -> list[Checkin]:
    return [row for row in rows(services, Checkin) if row.kind == kind]


def test_goals_are_saved_with_their_follow_ups(services: Services) -> None:
    drafts = [
        goal(1, "  Lead a design review ", first_step="Ask Sam", by_when=TODAY, why="Visibility"),
        goal(2, "", first_step=""),  # an empty row is skipped
        goal(3, "Mentor a newcomer"),
    ]

    saved = save_goals(services, ref(ALEX), drafts, from_checkin=None)

    assert saved.errors == {}
    first, third = rows(services, Goal)
    assert (first.what, first.first_step, first.by_when, first.why) == (
        "Lead a design review",
        "Ask Sam",
        TODAY,
        "Visibility",
    )
    assert (third.what, third.first_step, third.why, third.status) == (
        "Mentor a newcomer",
        None,
        None,
        GoalStatus.ACTIVE,
    )
    (told,) = kinds(services, ids.CHECKIN_KIND_GOALS_SAVED)
    assert saved.send_now == (told.id,)
    progress = kinds(services, ids.CHECKIN_KIND_GOAL_PROGRESS)
    assert len(progress) == len(CONTENT.timing.goal_progress_days)
    assert all(row.due_at > T0 + timedelta(days=13) for row in progress)
    _, listed = current_goals(services, ref(ALEX))
    assert [d.what for d in listed] == ["Lead a design review", "Mentor a newcomer"]


def test_saving_again_replaces_the_goals_and_replans_progress(services: Services) -> None:
    save_goals(services, ref(ALEX), [goal(1, "Old goal")], from_checkin=None)
    clock(services).move_to(T0 + timedelta(days=1))

    saved = save_goals(services, ref(ALEX), [goal(1, "New goal")], from_checkin=None)

    assert saved.errors == {}
    assert [g.what for g in rows(services, Goal)] == ["New goal"]
    statuses = [row.status for row in kinds(services, ids.CHECKIN_KIND_GOAL_PROGRESS)]
    planned = len(CONTENT.timing.goal_progress_days)
    assert statuses == [CheckinStatus.CANCELLED] * planned + [CheckinStatus.PENDING] * planned


def test_the_form_holds_at_most_max_goals_rows(services: Services) -> None:
    drafts = [goal(n, f"Goal {n}") for n in range(1, MAX_GOALS + 1)]

    assert save_goals(services, ref(ALEX), drafts, from_checkin=None).errors == {}
    assert [g.what for g in rows(services, Goal)] == [f"Goal {n}" for n in range(1, 4)]


def test_a_draft_past_max_goals_is_refused(services: Services) -> None:
    drafts = [goal(n, f"Goal {n}") for n in range(1, MAX_GOALS + 2)]

    saved = save_goals(services, ref(ALEX), drafts, from_checkin=None)

    assert saved.errors == {
        "what_1": "Keep it to 3 goals at most: the fewer, the likelier they happen."
    }
    assert rows(services, Goal) == []


@pytest.mark.parametrize(
    "drafts",
    [[], [goal(1, ""), goal(2, "   "), goal(3, "")]],
    ids=["no-rows", "blank-rows"],
)
def test_an_empty_form_needs_one_goal(services: Services, drafts: list[GoalDraft]) -> None:
    saved = save_goals(services, ref(ALEX), drafts, from_checkin=None)

    assert saved.errors == {"what_1": GOALS_FORM["need_one"]}
    assert saved.send_now == ()
    assert rows(services, Goal) == []
    assert kinds(services, ids.CHECKIN_KIND_GOALS_SAVED) == []


def test_a_first_step_without_a_goal_is_refused_on_its_row(services: Services) -> None:
    drafts = [goal(1), goal(2, "", first_step="Ask Sam")]

    saved = save_goals(services, ref(ALEX), drafts, from_checkin=None)

    assert saved.errors == {"what_2": GOALS_FORM["step_without_goal"]}
    assert rows(services, Goal) == []


def test_a_date_in_the_past_is_refused_and_today_is_not(services: Services) -> None:
    yesterday = TODAY - timedelta(days=1)
    drafts = [goal(1, by_when=TODAY), goal(2, "Speak up", by_when=yesterday)]

    saved = save_goals(services, ref(ALEX), drafts, from_checkin=None)

    assert saved.errors == {"by_when_2": GOALS_FORM["date_in_past"]}
    assert rows(services, Goal) == []


@pytest.mark.parametrize("field", ["what", "why", "first_step"])
def test_each_text_field_holds_text_limit_characters(services: Services, field: str) -> None:
    too_long = goal(1, **{field: "x" * (TEXT_LIMIT + 1)})
    just_fits = goal(1, **{field: "x" * TEXT_LIMIT})

    refused = save_goals(services, ref(ALEX), [too_long], from_checkin=None)
    assert refused.errors == {f"{field}_1": f"{TEXT_LIMIT} characters at most."}
    assert rows(services, Goal) == []

    assert save_goals(services, ref(ALEX), [just_fits], from_checkin=None).errors == {}
    (saved,) = rows(services, Goal)
    assert len(getattr(saved, field)) == TEXT_LIMIT


def test_goals_need_a_journey(tmp_path: Path) -> None:
    with sqlite_services(tmp_path) as fresh:
        saved = save_goals(fresh, ref("UNEW"), [goal(1)], from_checkin=None)

        assert saved.errors == {"what_1": EN.text("status_none")}
        assert rows(fresh, Goal) == []


# --- invitations ---------------------------------------------------------------------------


def invite(services: Services, manager: str = MANAGER, **someone: bool) -> FormAnswer:
    return invite_manager(services, ref(ALEX), Someone(manager, **someone))


def grant_messages(services: Services) -> list[Checkin]:
    return kinds(services, ids.CHECKIN_KIND_MEETING_GRANT)


def ids_of(*messages: Checkin) -> tuple[int, ...]:
    return tuple(message.id or 0 for message in messages)


def grants(services: Services) -> list[tuple[str, object]]:
    return [(g.manager_user_id, g.revoked_at) for g in rows(services, ManagerGrant)]


def grant_trail(services: Services) -> list[tuple[str | None, str, str | None]]:
    return [
        (e.other, e.outcome, e.reason)
        for e in rows(services, AuditEntry)
        if e.action == audit.GRANT
    ]


def withdraw_last(services: Services) -> None:
    assert withdraw_invitation(services, ref(ALEX), rows(services, ManagerGrant)[-1].id)


def deliver(services: Services) -> None:
    """What the dispatcher does to an invitation's message: it is sent."""
    with services.sessions.begin() as session:
        session.exec(
            update(Checkin)
            .where(Checkin.kind == ids.CHECKIN_KIND_MEETING_GRANT)  # type: ignore[arg-type]
            .values(status=CheckinStatus.SENT, sent_at=services.clock())
        )


@pytest.mark.parametrize(
    ("manager", "someone", "error"),
    [
        (ALEX, {}, "error_self"),
        ("UBOT", {"is_bot": True}, "error_bot"),
        ("UGONE", {"active": False}, "error_unknown"),
        ("UNOBODY", {"found": False}, "error_unknown"),
    ],
    ids=["self", "bot", "deactivated", "unknown"],
)
def test_an_invitation_needs_a_colleague(
    services: Services, manager: str, someone: dict[str, bool], error: str
) -> None:
    answer = invite(services, manager, **someone)

    assert answer == FormAnswer(errors={"manager": INVITE_FORM[error]})
    assert rows(services, ManagerGrant) == []
    assert grant_trail(services) == []


def test_an_invitation_messages_the_manager_once(services: Services) -> None:
    answer = invite(services)

    (message,) = grant_messages(services)
    assert answer == FormAnswer(errors={}, saved=INVITE_FORM["saved"], send_now=ids_of(message))
    (grant,) = rows(services, ManagerGrant)
    assert (message.key, message.due_at, message.within_hours) == (f"grant:{grant.id}", T0, False)
    assert grant_trail(services) == [(MANAGER, audit.DONE, None)]
    # Asked again while it stands: nothing new.
    assert invite(services) == FormAnswer(errors={}, saved=INVITE_FORM["already"])
    assert len(rows(services, ManagerGrant)) == 1 and len(grant_messages(services)) == 1


def test_a_renewal_within_seven_days_of_a_delivered_one_is_quiet(services: Services) -> None:
    invite(services)
    deliver(services)
    withdraw_last(services)
    clock(services).move_to(T0 + QUIET_WINDOW - timedelta(minutes=1))

    answer = invite(services)

    assert answer == FormAnswer(errors={}, saved=INVITE_FORM["renewed"])  # no send_now
    assert len(grant_messages(services)) == 1
    assert grants(services) == [(MANAGER, T0), (MANAGER, None)]
    assert grant_trail(services) == [(MANAGER, audit.DONE, None), (MANAGER, audit.DONE, "renewed")]


def test_an_undelivered_one_withdrawn_is_cancelled_and_the_renewal_written(
    services: Services,
) -> None:
    invite(services)
    withdraw_last(services)
    clock(services).move_to(T0 + timedelta(days=1))

    answer = invite(services)

    old, new = grant_messages(services)
    assert old.status == CheckinStatus.CANCELLED
    assert answer == FormAnswer(errors={}, saved=INVITE_FORM["renewed"], send_now=ids_of(new))
    assert grant_trail(services)[-1] == (MANAGER, audit.DONE, "renewed")


def test_after_seven_days_the_manager_is_messaged_again(services: Services) -> None:
    invite(services)
    deliver(services)
    withdraw_last(services)
    clock(services).move_to(T0 + QUIET_WINDOW + timedelta(minutes=1))

    answer = invite(services)

    _, new = grant_messages(services)
    assert answer == FormAnswer(errors={}, saved=INVITE_FORM["saved"], send_now=ids_of(new))
    assert grant_trail(services)[-1] == (MANAGER, audit.DONE, None)


def test_the_sixth_manager_in_a_day_is_refused(services: Services) -> None:
    managers = [f"UMANAGER{n}" for n in range(1, INVITES_PER_DAY + 2)]
    for n, manager in enumerate(managers[:-1]):
        clock(services).move_to(T0 + timedelta(hours=n))
        assert invite(services, manager).saved == INVITE_FORM["saved"]

    refused = invite(services, managers[-1])

    assert refused == FormAnswer(errors={"manager": INVITE_FORM["error_too_many"]})
    assert [g.manager_user_id for g in rows(services, ManagerGrant)] == managers[:-1]
    assert len(grant_messages(services)) == INVITES_PER_DAY
    assert grant_trail(services)[-1] == (managers[-1], audit.REFUSED, audit.DAILY_LIMIT)
    # A quiet renewal of one of the five is not a sixth message, so it is not refused.
    deliver(services)
    withdraw_last(services)
    assert invite(services, managers[-2]).saved == INVITE_FORM["renewed"]
    # A day after the first, one slot is free again.
    clock(services).move_to(T0 + timedelta(days=1, minutes=1))
    assert invite(services, managers[-1]).saved == INVITE_FORM["saved"]


def test_only_the_inviter_withdraws_and_only_once(services: Services) -> None:
    invite(services)
    (grant,) = rows(services, ManagerGrant)

    assert not withdraw_invitation(services, ref(MANAGER), grant.id)
    assert not withdraw_invitation(services, ref(ALEX), None)
    assert withdraw_invitation(services, ref(ALEX), grant.id)
    assert not withdraw_invitation(services, ref(ALEX), grant.id)

    assert grants(services) == [(MANAGER, T0)]
    withdrawals = [
        (e.actor, e.subject, e.other, e.outcome)
        for e in rows(services, AuditEntry)
        if e.action == audit.WITHDRAW
    ]
    assert withdrawals == [(ALEX, ALEX, MANAGER, audit.DONE)]
    # Withdrawn before it was delivered: the manager is not messaged after all.
    assert [row.status for row in grant_messages(services)] == [CheckinStatus.CANCELLED]

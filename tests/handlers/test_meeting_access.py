"""Who may prepare a feedback meeting for whom, decided by `handlers.meeting_access` on SQLite:
each authority, each refusal, and the audit row a refusal writes (an allowed check writes none;
a prepared meeting writes "allowed" with its authority)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core import audit
from bot.core.dependencies import Services
from bot.core.models import AuditEntry, FeedbackMeeting, ManagerGrant, MeetingStatus
from handlers.manager_invitation import invite_manager, withdraw_invitation
from handlers.meeting_access import (
    AUTHORITY_ADMIN,
    AUTHORITY_GROUP,
    AUTHORITY_INVITED,
    Access,
    Someone,
    check_access,
)
from handlers.meeting_answer import answer_offer
from handlers.meeting_preparation import MeetingDraft, prepare_meeting
from tests.handlers.sqlite_services import EN, T0, clock, ref, rows, sqlite_services, trail

ADMIN = "UADMIN"
MANAGER = "UMANAGER"
ALEX = "UALEX"
REFUSED = EN.checkins["meeting_refused"]


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with sqlite_services(tmp_path, admin_users=frozenset({ADMIN})) as built:
        yield built


def check(services: Services, actor: str, subject: Someone, *, in_group: bool = False) -> Access:
    return check_access(services, ref(actor), subject, in_group=in_group)


def refusal(actor: str, subject: str, reason: str) -> tuple[str, str, None, str, str, str]:
    return (actor, subject, None, audit.PREPARE, audit.REFUSED, reason)


def invite(services: Services, person: str, manager: str) -> None:
    answer = invite_manager(services, ref(person), Someone(manager))
    assert answer.errors == {}


def draft() -> MeetingDraft:
    day = T0.date()
    return MeetingDraft(
        thanks="Thanks for the launch.",
        observed="Clear demos.",
        gaps="Estimates.",
        next_steps="Pair on planning.",
        growth="",
        meeting_on=day + timedelta(days=2),
        follow_up_on=day + timedelta(days=30),
    )


def prepare(services: Services, actor: str, subject: str, *, in_group: bool) -> int:
    answer = prepare_meeting(services, ref(actor), Someone(subject), draft(), in_group=in_group)
    assert answer.errors == {}
    assert len(answer.send_now) == 2  # the agenda to the manager, the offer to the person
    return max(m.id or 0 for m in rows(services, FeedbackMeeting))


def test_nobody_prepares_a_meeting_for_themselves_not_even_an_admin(services: Services) -> None:
    access = check(services, ADMIN, Someone(ADMIN), in_group=True)

    assert access == Access(None, REFUSED["self"], "self")
    assert trail(services) == [refusal(ADMIN, ADMIN, "self")]


@pytest.mark.parametrize(
    ("actor", "in_group", "authority"),
    [(ADMIN, False, AUTHORITY_ADMIN), (MANAGER, True, AUTHORITY_GROUP)],
    ids=["admin", "managers-group"],
)
def test_an_admin_or_a_member_of_the_managers_group_may(
    services: Services, actor: str, in_group: bool, authority: str
) -> None:
    access = check(services, actor, Someone(ALEX), in_group=in_group)

    assert access == Access(authority)
    assert trail(services) == []  # an allowed check writes nothing
    assert rows(services, FeedbackMeeting) == []


def test_an_admin_wins_over_the_group_and_an_invitation(services: Services) -> None:
    invite(services, ALEX, ADMIN)

    assert check(services, ADMIN, Someone(ALEX), in_group=True).authority == AUTHORITY_ADMIN


def test_a_manager_the_person_invited_may(services: Services) -> None:
    invite(services, ALEX, MANAGER)

    access = check(services, MANAGER, Someone(ALEX))

    assert access == Access(AUTHORITY_INVITED)
    assert trail(services) == [(ALEX, ALEX, MANAGER, audit.GRANT, audit.DONE, None)]


def test_a_stranger_is_refused_and_the_refusal_is_on_the_trail(services: Services) -> None:
    access = check(services, MANAGER, Someone(ALEX))

    assert access == Access(None, REFUSED["not_allowed"], "not_invited")
    assert trail(services) == [refusal(MANAGER, ALEX, "not_invited")]
    entry = rows(services, AuditEntry)[0]
    assert (entry.platform, entry.workspace_id, entry.at) == ("slack", ref(ALEX).workspace_id, T0)


def test_an_invitation_for_someone_else_gives_no_authority(services: Services) -> None:
    invite(services, ALEX, "UOTHER")

    assert check(services, MANAGER, Someone(ALEX)).reason == "not_invited"


def test_a_withdrawn_invitation_gives_no_authority(services: Services) -> None:
    invite(services, ALEX, MANAGER)
    (grant,) = rows(services, ManagerGrant)
    assert withdraw_invitation(services, ref(ALEX), grant.id)

    access = check(services, MANAGER, Someone(ALEX))

    assert access == Access(None, REFUSED["not_allowed"], "not_invited")
    assert rows(services, ManagerGrant)[0].revoked_at == T0
    assert trail(services)[-1] == refusal(MANAGER, ALEX, "not_invited")


NOT_A_PERSON = [
    (Someone("UBOT", is_bot=True), "bot"),
    (Someone("UGONE", active=False), "deactivated"),
    (Someone("UNOBODY", found=False), "unknown_user"),
]


@pytest.mark.parametrize(("subject", "reason"), NOT_A_PERSON, ids=[r for _, r in NOT_A_PERSON])
def test_a_manager_naming_a_bot_a_deactivated_or_an_unknown_colleague_is_told_so(
    services: Services, subject: Someone, reason: str
) -> None:
    access = check(services, MANAGER, subject, in_group=True)

    assert access == Access(None, REFUSED["not_a_person"], reason)
    assert trail(services) == [refusal(MANAGER, subject.user_id, reason)]


def test_a_non_manager_reads_the_same_refusal_whoever_they_name(services: Services) -> None:
    invite(services, ALEX, "USOMEONE")  # Alex is known here; that must not show
    named = [Someone(ALEX), *(subject for subject, _ in NOT_A_PERSON)]

    answers = {check(services, MANAGER, subject) for subject in named}

    assert answers == {Access(None, REFUSED["not_allowed"], "not_invited")}
    assert trail(services)[1:] == [refusal(MANAGER, s.user_id, "not_invited") for s in named]


def test_a_prepared_meeting_is_on_the_trail_with_its_authority(services: Services) -> None:
    meeting_id = prepare(services, MANAGER, ALEX, in_group=True)

    (meeting,) = rows(services, FeedbackMeeting)
    assert (meeting.id, meeting.authority, meeting.status) == (
        meeting_id,
        AUTHORITY_GROUP,
        MeetingStatus.OFFERED,
    )
    assert trail(services) == [(MANAGER, ALEX, None, audit.PREPARE, audit.ALLOWED, AUTHORITY_GROUP)]


def test_no_second_meeting_while_the_first_waits_for_an_answer(services: Services) -> None:
    prepare(services, MANAGER, ALEX, in_group=True)

    access = check(services, MANAGER, Someone(ALEX), in_group=True)

    assert access == Access(None, REFUSED["waiting"], "waiting")
    assert trail(services)[-1] == refusal(MANAGER, ALEX, "waiting")
    # Through the form too: refused, written down, and no second meeting saved.
    answer = prepare_meeting(services, ref(MANAGER), Someone(ALEX), draft(), in_group=True)
    assert answer.errors == {"thanks": REFUSED["waiting"]}
    assert len(rows(services, FeedbackMeeting)) == 1
    assert trail(services)[-1] == refusal(MANAGER, ALEX, "waiting")


def test_another_manager_is_not_held_by_someone_elses_waiting_meeting(services: Services) -> None:
    prepare(services, MANAGER, ALEX, in_group=True)

    assert check(services, "UOTHERMANAGER", Someone(ALEX), in_group=True) == Access(AUTHORITY_GROUP)


def test_after_an_accepted_meeting_the_manager_may_prepare_the_next(services: Services) -> None:
    meeting_id = prepare(services, MANAGER, ALEX, in_group=True)
    answer_offer(services, ref(ALEX), meeting_id, accept=True)

    assert check(services, MANAGER, Someone(ALEX), in_group=True) == Access(AUTHORITY_GROUP)


@pytest.mark.parametrize("in_group", [True, False], ids=["group", "invited"])
def test_a_decline_is_final_for_that_manager(services: Services, in_group: bool) -> None:
    if not in_group:
        invite(services, ALEX, MANAGER)
    meeting_id = prepare(services, MANAGER, ALEX, in_group=in_group)
    clock(services).move_to(T0 + timedelta(hours=1))
    answer_offer(services, ref(ALEX), meeting_id, accept=False)

    access = check(services, MANAGER, Someone(ALEX), in_group=in_group)

    assert access == Access(None, REFUSED["not_allowed"], "declined")
    assert rows(services, FeedbackMeeting)[0].status == MeetingStatus.DECLINED
    assert trail(services)[-2:] == [
        (ALEX, ALEX, MANAGER, audit.DECLINE, audit.DONE, None),
        refusal(MANAGER, ALEX, "declined"),
    ]


def test_inviting_the_manager_again_after_a_decline_lifts_it(services: Services) -> None:
    invite(services, ALEX, MANAGER)
    meeting_id = prepare(services, MANAGER, ALEX, in_group=False)
    clock(services).move_to(T0 + timedelta(hours=1))
    answer_offer(services, ref(ALEX), meeting_id, accept=False)
    clock(services).move_to(T0 + timedelta(hours=2))

    invite(services, ALEX, MANAGER)

    assert check(services, MANAGER, Someone(ALEX)) == Access(AUTHORITY_INVITED)
    first, second = rows(services, ManagerGrant)
    assert first.revoked_at == T0 + timedelta(hours=2)  # the old one gave way to the new
    assert (second.granted_at, second.revoked_at) == (T0 + timedelta(hours=2), None)


def test_a_meeting_date_in_the_past_is_refused_by_the_form(services: Services) -> None:
    past = draft()
    late = MeetingDraft(**{**past.__dict__, "meeting_on": date(2025, 1, 5)})

    answer = prepare_meeting(services, ref(MANAGER), Someone(ALEX), late, in_group=True)

    form = EN.checkins["meeting_template_form"]
    assert answer.errors == {"meeting_on": form["error_past"]}
    assert rows(services, FeedbackMeeting) == []
    assert trail(services) == []

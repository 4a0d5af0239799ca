"""Routes answered directly on SQLite, as both adapters call them: forms opened with what is
stored, submissions saved or shown again with their errors under their fields, the manager
flow's next form. No HTTP, no platform: the directory is a table of who exists."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core import ids
from bot.core.dependencies import Services
from bot.core.models import Checkin, CheckinStatus, ManagerGrant, Person
from handlers.interaction import Interaction, Reply, Turn
from handlers.meeting_access import Someone
from handlers.routes import form_route_for, route_for
from messages.form import FormValues
from messages.model import mention
from tests.handlers.sqlite_services import EN, ref, rows, sqlite_services

ALEX = "UALEX"
MANAGER = "UMANAGER"
STRANGER = "USTRANGER"


@dataclass
class KnownPeople:
    """A Directory (handlers.interaction) that knows the people it is given."""

    found: set[str]
    managers: set[str] = field(default_factory=set)
    actor: str = ALEX
    language: str | None = None  # what the platform says of the actor's language

    def user_id(self, text: str) -> str | None:
        return text if text.startswith("U") else None

    async def someone(self, user_id: str) -> Someone:
        return Someone(user_id, found=user_id in self.found, active=user_id in self.found)

    async def invitee(self, user_id: str) -> Someone:
        return await self.someone(user_id)

    async def in_manager_group(self) -> bool:
        return self.actor in self.managers

    async def own_language(self) -> str | None:
        return self.language


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with sqlite_services(tmp_path) as built:
        yield built


def click(services: Services, actor: str, action: str, value: str = "") -> Reply:
    route = route_for(action)
    assert route is not None
    people = KnownPeople({ALEX, MANAGER}, actor=actor)
    turn = Turn(services, Interaction(ref(actor), action, value), people)
    return asyncio.run(route.answer(turn))


def submit(
    services: Services,
    actor: str,
    form_id: str,
    values: dict[str, str],
    context: dict[str, int | str] | None = None,
) -> Reply:
    form_route = form_route_for(form_id)
    assert form_route is not None
    submitted = FormValues(form_id, values, context or {})
    people = KnownPeople({ALEX, MANAGER}, actor=actor)
    turn = Turn(services, Interaction(ref(actor), form_id, form=submitted), people)
    return asyncio.run(form_route.answer(turn))


def start(services: Services, actor: str = ALEX) -> Reply:
    return click(services, actor, ids.TYPED, "")


def test_typed_words_answer_with_a_message_or_a_form(services: Services) -> None:
    started = start(services)
    assert started.message is not None and len(started.send_now) == 1
    goals = click(services, ALEX, ids.TYPED, "goals")
    assert goals.form is not None and goals.form.form_id == ids.GOALS_FORM
    assert goals.form.reopen is not None and goals.form.reopen.action == ids.OPEN_GOALS_FORM
    picker = click(services, MANAGER, ids.TYPED, "meeting")
    assert picker.form is not None and picker.form.form_id == ids.MEETING_PICK_FORM
    # A name the platform does not write as an id (typed rather than picked): the picker.
    named = click(services, MANAGER, ids.TYPED, "meeting Alex from sales")
    assert named.form is not None and named.form.form_id == ids.MEETING_PICK_FORM
    refused = click(services, MANAGER, ids.TYPED, f"meeting {ALEX}")
    assert refused.form is None and refused.message is not None


def test_goals_are_shown_again_with_errors_then_saved(services: Services) -> None:
    start(services)
    wrong = submit(services, ALEX, ids.GOALS_FORM, {"first_step_1": "Ask Sam", "why_1": "growth"})
    assert wrong.form is not None
    assert wrong.errors == {"what_1": EN.checkin("goals_form", "step_without_goal")}
    shown = {f.name: f.value for f in wrong.form.fields}
    assert (shown["first_step_1"], shown["why_1"]) == ("Ask Sam", "growth")

    saved = submit(services, ALEX, ids.GOALS_FORM, {"what_1": "Lead the Q1 rotation"})
    assert saved.form is None and len(saved.send_now) == 1
    again = click(services, ALEX, ids.OPEN_GOALS_FORM)
    assert again.form is not None
    assert {f.name: f.value for f in again.form.fields}["what_1"] == "Lead the Q1 rotation"


def test_a_box_over_its_limit_says_so_under_the_box(services: Services) -> None:
    start(services)
    answer = submit(services, ALEX, ids.NOTES_FORM, {"keep": "x" * 1001})
    assert answer.errors == {"keep": EN.text("too_long", limit=1000)}


def test_the_hours_form_opens_with_what_is_stored_and_saves(services: Services) -> None:
    start(services)
    opened = click(services, ALEX, ids.OPEN_HOURS_FORM)
    assert opened.form is not None
    assert {f.name: f.value for f in opened.form.fields} == {
        "hours": "09:00-17:00",
        "days": "mon,tue,wed,thu,fri",
        "zone": "",
    }
    wrong = submit(services, ALEX, ids.HOURS_FORM, {"hours": "late", "days": "mon-fri"})
    assert set(wrong.errors) == {"hours"}
    saved = submit(services, ALEX, ids.HOURS_FORM, {"hours": "08:00-16:00", "days": "mon-thu"})
    assert saved.done is not None and "08:00" in saved.done.text and saved.home_changed
    [person] = rows(services, Person)
    assert (person.work_hours, person.work_days) == ("08:00-16:00", "mon-thu")


def test_a_check_in_answer_opens_its_form_with_the_row(services: Services) -> None:
    start(services)
    with services.sessions.begin() as session:
        first = session.exec(select(Checkin)).first()
        assert first is not None
        journey_id = first.journey_id
        nudge = Checkin(
            journey_id=journey_id,
            kind=ids.CHECKIN_KIND_FEEDBACK_NUDGE,
            due_at=first.due_at,
            key="nudge-for-test",
            created_at=first.due_at,
            status=CheckinStatus.SENT,
        )
        session.add(nudge)
        session.flush()
        row = nudge.id
    answer = click(services, ALEX, ids.NUDGE_HELP, str(row))
    assert answer.form is not None and answer.form.form_id == ids.FEEDBACK_FORM
    assert dict(answer.form.context) == {"checkin": row}
    # Someone else's row opens nothing of it.
    start(services, MANAGER)
    other = click(services, MANAGER, ids.NUDGE_HELP, str(row))
    assert other.form is None


def test_the_pick_form_refuses_under_its_field_or_leads_to_the_template(
    services: Services,
) -> None:
    start(services)
    refused = submit(services, MANAGER, ids.MEETING_PICK_FORM, {"person": ALEX})
    assert refused.form is not None and refused.form.form_id == ids.MEETING_PICK_FORM
    assert set(refused.errors) == {"person"}

    invited = submit(services, ALEX, ids.MANAGER_INVITE_FORM, {"manager": MANAGER})
    assert invited.done is not None and invited.home_changed
    assert invited.message is not None  # the invitation with its withdraw button
    [row] = invited.message.rows
    assert [b.action for b in row.buttons] == [ids.MANAGER_REVOKE]

    template = submit(services, MANAGER, ids.MEETING_PICK_FORM, {"person": ALEX})
    assert template.form is not None and template.form.form_id == ids.MEETING_FORM
    assert dict(template.form.context) == {"person": ALEX}
    assert template.form.intro is not None and mention(ALEX) in template.form.intro

    missing = submit(
        services,
        MANAGER,
        ids.MEETING_FORM,
        {"thanks": "Thank you.", "observed": "Clear.", "gaps": "Scope.", "next_steps": "Pair."},
        {"person": ALEX},
    )
    assert set(missing.errors) == {"meeting_on", "follow_up_on"}
    assert missing.form is not None and dict(missing.form.context) == {"person": ALEX}
    kept = {f.name: f.value for f in missing.form.fields}
    assert kept["observed"] == "Clear."


def test_an_invitation_is_withdrawn_once(services: Services) -> None:
    start(services)
    submit(services, ALEX, ids.MANAGER_INVITE_FORM, {"manager": MANAGER})
    [grant] = rows(services, ManagerGrant)
    first = click(services, ALEX, ids.MANAGER_REVOKE, str(grant.id))
    assert first.note == EN.checkin("meeting_home", "withdrawn") and first.home_changed
    second = click(services, ALEX, ids.MANAGER_REVOKE, str(grant.id))
    assert second.note is None
    # Nobody else can withdraw it, and a forged id changes nothing.
    assert click(services, STRANGER, ids.MANAGER_REVOKE, "١٢").note is None

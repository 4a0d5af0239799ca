"""The one route table both platforms look up: an interaction's action id (or a submitted
form's id) to the route that answers it.

An adapter parses its payload into a handlers.interaction.Interaction, finds the route here,
runs it and draws the Reply; it never decides which handler a button or a form goes to. A
route says, with `clicked`, where its buttons are drawn, so that the adapter can redraw the
clicked message from what the bot made it of (handlers.clicked). A form's route is the
handler of its submission; its spec is handlers.form_specs.FORMS.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.core import ids
from handlers import form_routes, journey_routes, meeting_routes
from handlers.clicked import ClickedOn
from handlers.command import HOURS_WORD, LANGUAGE_WORD, SUBCOMMANDS
from handlers.form_specs import FORMS
from handlers.interaction import Reply, Turn
from messages.form import FormSpec, FormValues

Answer = Callable[[Turn], Coroutine[Any, Any, Reply]]
Submission = Callable[[Turn, FormValues], Coroutine[Any, Any, Reply]]


@dataclass(frozen=True)
class Route:
    answer: Answer
    clicked: ClickedOn = ClickedOn.NOTHING


@dataclass(frozen=True)
class FormRoute:
    spec: FormSpec
    submit: Submission

    async def answer(self, turn: Turn) -> Reply:
        """The submission's handler, given the values the interaction carries."""
        submitted = turn.interaction.form
        if submitted is None or submitted.form_id != self.spec.form_id:
            raise ValueError(f"not a submission of {self.spec.form_id}")
        return await self.submit(turn, submitted)


ROUTES: dict[str, Route] = {
    ids.TYPED: Route(journey_routes.typed),
    **{choice: Route(journey_routes.stage_choice, ClickedOn.ROW) for choice in ids.STAGE_CHOICES},
    **{answer: Route(journey_routes.checkin_answer, ClickedOn.ROW) for answer in ids.NUDGE_ANSWERS},
    ids.FORGET_CONFIRM: Route(journey_routes.forget_confirm, ClickedOn.FORGET_PROMPT),
    ids.FORGET_CANCEL: Route(journey_routes.forget_cancel, ClickedOn.FORGET_PROMPT),
    ids.HOME_START: Route(journey_routes.home_start, ClickedOn.WELCOME),
    ids.HOME_PAUSE: Route(journey_routes.pause_or_resume),
    ids.HOME_RESUME: Route(journey_routes.pause_or_resume),
    ids.HOME_EXPORT: Route(journey_routes.export),
    ids.HOME_ERASE: Route(journey_routes.forget_confirm),
    ids.GOAL_DONE: Route(journey_routes.goal_status),
    ids.GOAL_DROP: Route(journey_routes.goal_status),
    **{opener: Route(journey_routes.form_opener) for opener in ids.FORM_OPENERS},
    ids.OPEN_PROGRESS_NOTE: Route(journey_routes.form_opener),
    ids.OPEN_MANAGER_INVITE: Route(meeting_routes.open_invite),
    ids.OPEN_MEETING_PICK: Route(meeting_routes.open_pick),
    ids.MEETING_PREPARE: Route(meeting_routes.prepare),
    ids.MEETING_ACCEPT: Route(meeting_routes.answer_offer, ClickedOn.MEETING_OFFER),
    ids.MEETING_DECLINE: Route(meeting_routes.answer_offer, ClickedOn.MEETING_OFFER),
    ids.MEETING_TO_GOALS: Route(meeting_routes.next_steps_to_goals),
    ids.MANAGER_REVOKE: Route(meeting_routes.withdraw),
}

_SUBMISSIONS: dict[str, Submission] = {
    ids.GOALS_FORM: form_routes.submit_goals,
    ids.FEEDBACK_FORM: form_routes.submit_feedback,
    ids.NOTES_FORM: form_routes.submit_notes,
    ids.PROGRESS_NOTE_FORM: form_routes.submit_progress_note,
    ids.HOURS_FORM: form_routes.submit_hours,
    ids.LANGUAGE_FORM: form_routes.submit_language,
    ids.MANAGER_INVITE_FORM: meeting_routes.submit_invite,
    ids.MEETING_PICK_FORM: meeting_routes.submit_pick,
    ids.MEETING_FORM: meeting_routes.submit_template,
}

FORM_ROUTES: dict[str, FormRoute] = {
    form_id: FormRoute(spec, _SUBMISSIONS[form_id]) for form_id, spec in FORMS.items()
}


# The words a person may type after the command (for what counts them: metrics labels).
COMMAND_WORDS = frozenset({*SUBCOMMANDS, HOURS_WORD, LANGUAGE_WORD, journey_routes.MEETING_WORD})


def route_for(action: str) -> Route | None:
    return ROUTES.get(action)


def form_route_for(form_id: str) -> FormRoute | None:
    return FORM_ROUTES.get(form_id)

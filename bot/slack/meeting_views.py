"""Modals of the manager flow: the invitation, choosing the person, the meeting template."""

from __future__ import annotations

import json
from typing import Any

from bot.core import ids
from bot.slack.blocks import escape_mrkdwn
from bot.slack.form_state import SubmittedForm
from bot.slack.views import plain_text
from handlers.meeting_preparation import FIELD_LIMIT, MeetingDraft
from messages.content import LocaleContent
from messages.model import mention

Block = dict[str, Any]


def build_invite_modal(locale: LocaleContent) -> dict[str, Any]:
    form = locale.checkins["meeting_invite_form"]
    return {
        "type": "modal",
        "callback_id": ids.MANAGER_INVITE_FORM,
        "title": plain_text(form["title"]),
        "submit": plain_text(form["submit"]),
        "close": plain_text(form["close"]),
        "blocks": [
            {"type": "section", "text": plain_text(form["intro"])},
            {
                "type": "input",
                "block_id": "manager",
                "label": plain_text(form["manager_label"]),
                "hint": plain_text(form["manager_hint"]),
                "element": {"type": "users_select", "action_id": "value"},
            },
        ],
    }


def read_user_pick(view: dict[str, Any], block_id: str) -> str | None:
    return SubmittedForm(view).user(block_id)


def build_pick_modal(locale: LocaleContent) -> dict[str, Any]:
    form = locale.checkins["meeting_pick_form"]
    return {
        "type": "modal",
        "callback_id": ids.MEETING_PICK_FORM,
        "title": plain_text(form["title"]),
        "submit": plain_text(form["submit"]),
        "close": plain_text(form["close"]),
        "blocks": [
            {
                "type": "input",
                "block_id": "person",
                "label": plain_text(form["person_label"]),
                "hint": plain_text(form["person_hint"]),
                "element": {"type": "users_select", "action_id": "value"},
            }
        ],
    }


def build_template_modal(locale: LocaleContent, person_id: str) -> dict[str, Any]:
    form = locale.checkins["meeting_template_form"]

    def box(name: str, *, optional: bool = False, initial: str | None = None) -> Block:
        element: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": True,
            "max_length": FIELD_LIMIT,
        }
        if initial:
            element["initial_value"] = initial
        return {
            "type": "input",
            "block_id": name,
            "optional": optional,
            "label": plain_text(form[f"{name}_label"]),
            "hint": plain_text(form[f"{name}_hint"]),
            "element": element,
        }

    def day(name: str) -> Block:
        return {
            "type": "input",
            "block_id": name,
            "label": plain_text(form[f"{name}_label"]),
            "element": {"type": "datepicker", "action_id": "value"},
        }

    intro = escape_mrkdwn(
        locale.checkin("meeting_template_form", "intro", person=mention(person_id))
    )
    return {
        "type": "modal",
        "callback_id": ids.MEETING_FORM,
        "title": plain_text(form["title"]),
        "submit": plain_text(form["submit"]),
        "close": plain_text(form["close"]),
        "private_metadata": json.dumps({"person": person_id}),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
            box("thanks", initial=form["thanks_initial"]),
            box("observed"),
            box("gaps"),
            box("next_steps"),
            box("growth", optional=True),
            day("meeting_on"),
            day("follow_up_on"),
        ],
    }


def read_template_form(view: dict[str, Any]) -> tuple[str | None, MeetingDraft]:
    """Who the meeting is for (from the view's metadata) and what was typed; never raises."""
    form = SubmittedForm(view)
    draft = MeetingDraft(
        thanks=form.text("thanks"),
        observed=form.text("observed"),
        gaps=form.text("gaps"),
        next_steps=form.text("next_steps"),
        growth=form.text("growth"),
        meeting_on=form.day("meeting_on"),
        follow_up_on=form.day("follow_up_on"),
    )
    return form.metadata_id("person"), draft


def done_view(title: str, text: str, close: str) -> dict[str, Any]:
    """What a form becomes once saved; mrkdwn, so that people named in it show as names."""
    return {
        "type": "modal",
        "title": plain_text(title),
        "close": plain_text(close),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": escape_mrkdwn(text)}}],
    }

"""Modals: the goals form, built from neutral data and read back from view_submission state."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.ids import GOALS_FORM
from handlers.goals import MAX_GOALS, TEXT_LIMIT, GoalDraft
from messages.loader import LocaleContent

Block = dict[str, Any]


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def build_goals_modal(
    locale: LocaleContent, goals: list[GoalDraft], *, from_checkin: int | None
) -> dict[str, Any]:
    form = locale.checkins["goals_form"]
    blocks: list[Block] = [{"type": "section", "text": _plain(form["intro"])}]
    for number in range(1, MAX_GOALS + 1):
        current = next((g for g in goals if g.number == number), None)
        what: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "max_length": TEXT_LIMIT,
            "placeholder": _plain(form["what_hint"]),
        }
        step: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "max_length": TEXT_LIMIT,
            "placeholder": _plain(form["first_step_hint"]),
        }
        when: Block = {"type": "datepicker", "action_id": "value"}
        if current is not None:
            what["initial_value"] = current.what
            if current.first_step:
                step["initial_value"] = current.first_step
            if current.by_when:
                when["initial_date"] = current.by_when.isoformat()
        if number > 1:
            blocks.append({"type": "divider"})
        blocks += [
            _input(f"what_{number}", form["what_label"].format(number=number), what),
            _input(f"first_step_{number}", form["first_step_label"].format(number=number), step),
            _input(f"by_when_{number}", form["by_when_label"].format(number=number), when),
        ]
    return {
        "type": "modal",
        "callback_id": GOALS_FORM,
        "title": _plain(form["title"]),
        "submit": _plain(form["submit"]),
        "close": _plain(form["close"]),
        "private_metadata": json.dumps({"checkin": from_checkin}),
        "blocks": blocks,
    }


def _input(block_id: str, label: str, element: Block) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": _plain(label),
        "element": element,
    }


def read_goals_form(view: dict[str, Any]) -> tuple[list[GoalDraft], int | None]:
    """The drafts typed into the form and the check-in that offered it; never raises."""
    values = (view.get("state") or {}).get("values") or {}

    def field(block_id: str) -> dict[str, Any]:
        block = values.get(block_id)
        found = block.get("value") if isinstance(block, dict) else None
        return found if isinstance(found, dict) else {}

    drafts: list[GoalDraft] = []
    for number in range(1, MAX_GOALS + 1):
        what = field(f"what_{number}").get("value")
        step = field(f"first_step_{number}").get("value")
        picked = field(f"by_when_{number}").get("selected_date")
        try:
            by_when = date.fromisoformat(picked) if isinstance(picked, str) else None
        except ValueError:
            by_when = None
        drafts.append(
            GoalDraft(
                number=number,
                what=what if isinstance(what, str) else "",
                first_step=step if isinstance(step, str) else "",
                by_when=by_when,
            )
        )
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    offered = metadata.get("checkin") if isinstance(metadata, dict) else None
    return drafts, offered if isinstance(offered, int) else None

"""Every form spec drawn as a Slack modal and read back from what Slack sends when it is
submitted: pure, no server."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.form_render import build_modal, read_submission
from handlers.form_specs import FORMS
from messages.form import draw
from messages.loader import load_content
from tests.bot.typed_values import SLACK_PERSON, context_for, drawn, typed_values

LOCALE = load_content(None).for_locale(None, "slack")


def submitted_state(modal: dict[str, Any]) -> dict[str, Any]:
    """view.state.values as Slack sends it when every field holds what the modal shows."""
    state: dict[str, Any] = {}
    for block in modal["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if kind == "plain_text_input":
            entry = {"type": kind, "value": element.get("initial_value")}
        elif kind == "datepicker":
            entry = {"type": kind, "selected_date": element.get("initial_date")}
        elif kind == "users_select":
            entry = {"type": kind, "selected_user": element.get("initial_user")}
        else:
            entry = {"type": kind, "selected_option": element.get("initial_option")}
        state[block["block_id"]] = {element["action_id"]: entry}
    return state


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_a_value_in_every_field_survives_the_round_trip(form_id: str) -> None:
    spec = FORMS[form_id]
    values = typed_values(spec, SLACK_PERSON)
    context = context_for(spec, SLACK_PERSON)
    modal = build_modal(drawn(draw(spec, LOCALE, values=values, context=context)))
    view = {**modal, "state": {"values": submitted_state(modal)}}

    read = read_submission(view)

    assert read is not None and read.form_id == form_id
    assert dict(read.values) == values
    assert dict(read.context) == context


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_errors_land_on_their_field(form_id: str) -> None:
    """Slack shows an error under the input block whose block_id the error names: every
    field is one, named as the handlers name their errors."""
    spec = FORMS[form_id]
    modal = build_modal(draw(spec, LOCALE))
    blocks = {block.get("block_id"): block for block in modal["blocks"]}
    for field in spec.fields:
        assert blocks[field.name]["type"] == "input"
        assert blocks[field.name]["optional"] is not field.required


def test_an_empty_form_reads_as_empty_and_a_stranger_modal_as_none() -> None:
    spec = FORMS["goals_form"]
    modal = build_modal(draw(spec, LOCALE))
    read = read_submission({**modal, "state": {"values": {}}, "private_metadata": "[1]"})
    assert read is not None
    assert set(read.values.values()) == {""} and dict(read.context) == {}
    assert read_submission({"callback_id": "someone_elses_form"}) is None
    assert read_submission("not a view") is None


def test_a_choice_outside_the_spec_and_a_forged_row_are_dropped() -> None:
    spec = FORMS["feedback_form"]
    modal = build_modal(draw(spec, LOCALE, context={"checkin": 7}))
    state = {"tone": {"value": {"type": "radio_buttons", "selected_option": {"value": "rude"}}}}
    read = read_submission({**modal, "state": {"values": state}})
    assert read is not None and read.text("tone") == ""
    forged = read_submission({**modal, "private_metadata": '{"checkin": "7; drop"}'})
    assert forged is not None and forged.row("checkin") is None

"""Every form spec drawn as a Teams dialog card and read back from the data Teams submits:
pure, no server."""

from __future__ import annotations

from typing import Any

import pytest

from bot.teams.form_render import build_form_card, build_form_dialog, read_dialog
from handlers.form_specs import FORMS
from messages.form import draw
from messages.loader import load_content
from messages.model import mention
from tests.bot.typed_values import TEAMS_PERSON, context_for, drawn, typed_values

LOCALE = load_content(None).for_locale(None, "teams")


def _inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [element for element in card["body"] if element["type"].startswith("Input.")]


def submitted_data(card: dict[str, Any]) -> dict[str, Any]:
    """What Teams sends on submit: the action's data and each input's value by its id."""
    data = dict(card["actions"][0]["data"])
    for element in _inputs(card):
        data[element["id"]] = element.get("value", "")
    return data


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_a_value_in_every_field_survives_the_round_trip(form_id: str) -> None:
    spec = FORMS[form_id]
    values = typed_values(spec, TEAMS_PERSON)
    context = context_for(spec, TEAMS_PERSON)
    card = build_form_card(drawn(draw(spec, LOCALE, values=values, context=context)))

    read = read_dialog(submitted_data(card))

    assert read is not None and read.form_id == form_id
    assert dict(read.values) == values
    assert dict(read.context) == context


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_errors_land_under_their_field(form_id: str) -> None:
    spec = FORMS[form_id]
    errors = {field.name: f"wrong {field.name}" for field in spec.fields}
    body = build_form_card(draw(spec, LOCALE, errors=errors))["body"]
    for field in spec.fields:
        at = next(i for i, element in enumerate(body) if element.get("id") == field.name)
        assert body[at + 1]["inlines"][0]["text"] == f"wrong {field.name}"
        assert body[at + 1]["inlines"][0]["color"] == "Attention"


def test_the_template_names_its_person_and_asks_for_what_it_needs() -> None:
    spec = FORMS["meeting_form"]
    form = draw(
        spec, LOCALE, context={"person": TEAMS_PERSON}, intro={"person": mention(TEAMS_PERSON)}
    )
    dialog = build_form_dialog(form, {TEAMS_PERSON: "Alex Example"})
    card = dialog["task"]["value"]["card"]["content"]
    assert "Alex Example" in card["body"][0]["inlines"][0]["text"]
    required = {e["id"] for e in _inputs(card) if e.get("isRequired")}
    assert required == {f.name for f in spec.fields if f.required}
    assert "growth" not in required


def test_data_of_any_shape_reads_as_empty_never_raises() -> None:
    for form_id in FORMS:
        read = read_dialog(
            {"action": form_id, **{f.name: {"x": [1]} for f in FORMS[form_id].fields}}
        )
        assert read is not None and set(read.values.values()) <= {""}

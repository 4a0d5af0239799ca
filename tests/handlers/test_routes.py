"""The one route table: every button and form the product can draw has a route, and every
route is reachable from both platforms' parsers. Pure: no server, no database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.core import ids
from bot.slack.blocks import build_message_blocks
from bot.slack.form_render import build_modal, read_submission
from bot.slack.listeners import ROUTED_ACTIONS, ROUTED_FORMS
from bot.teams.activity_reading import pressed
from bot.teams.cards import build_card
from bot.teams.form_render import build_form_card, read_dialog
from handlers.checkin_messages import BUTTONS
from handlers.form_specs import FORMS
from handlers.routes import FORM_ROUTES, ROUTES, route_for
from messages.form import draw
from messages.loader import load_content
from messages.model import Button, Message

ROOT = Path(__file__).resolve().parents[2]
# Button() calls whose action is not an `ids.` name, and where their actions come from.
DYNAMIC_BUTTONS = {
    "handlers/checkin_messages.py": "the BUTTONS table",
    "messages/form.py": "a form spec's opener",
}


def _drawn_actions() -> set[str]:
    """Every action id a Button() of the product's source names, read from the source."""
    found: set[str] = set()
    for folder in ("handlers", "messages", "bot"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Button"):
                    continue
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Attribute) and getattr(first.value, "id", "") == "ids":
                    found.add(getattr(ids, first.attr))
                else:
                    where = str(path.relative_to(ROOT))
                    assert where in DYNAMIC_BUTTONS, f"a Button in {where} the test cannot read"
    found |= {action for actions in BUTTONS.values() for action, _label in actions}
    found |= {spec.opener for spec in FORMS.values() if spec.opener}
    return found


DRAWN = sorted(_drawn_actions())


def test_the_source_draws_buttons_the_test_can_see() -> None:
    assert {ids.STAGE_NEXT, ids.NUDGE_HELP, ids.HOME_ERASE, ids.MANAGER_REVOKE} <= set(DRAWN)


@pytest.mark.parametrize("action", DRAWN)
def test_every_button_drawn_has_a_route(action: str) -> None:
    assert route_for(action) is not None


def test_every_form_has_a_spec_and_a_route_and_every_route_is_drawn() -> None:
    assert set(FORM_ROUTES) == set(FORMS)
    assert set(ROUTES) - {ids.TYPED} == set(DRAWN)


@pytest.mark.parametrize("action", sorted(set(ROUTES) - {ids.TYPED}))
def test_every_button_route_is_reachable_from_slack(action: str) -> None:
    message = Message(notification="n", buttons=(Button(action, "Go", "12"),))
    [block] = [b for b in build_message_blocks(message) if b["type"] == "actions"]
    [element] = block["elements"]
    assert ROUTED_ACTIONS.match(element["action_id"])
    assert route_for(element["action_id"]) is ROUTES[action]


@pytest.mark.parametrize("action", sorted(set(ROUTES) - {ids.TYPED}))
def test_every_button_route_is_reachable_from_teams(action: str) -> None:
    card = build_card(Message(notification="n", buttons=(Button(action, "Go", "12"),)))
    [drawn] = card["actions"]
    # A button whose route answers with a form opens a dialog (task/fetch); the rest answer
    # in place (Action.Execute). Both name the route's action and carry the value.
    opens = drawn["type"] == "Action.Submit"
    assert opens == (action in ids.OPENS_A_FORM)
    assert pressed(drawn["data"]) == (action, "12")


@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_every_form_route_is_reachable_from_both_platforms(form_id: str) -> None:
    locale = load_content(None).for_locale(None, "slack")
    form = draw(FORMS[form_id], locale)
    modal = build_modal(form)
    assert ROUTED_FORMS.match(modal["callback_id"])
    from_slack = read_submission(modal)
    card = build_form_card(form)
    from_teams = read_dialog(card["actions"][0]["data"])
    assert from_slack is not None and from_teams is not None
    assert from_slack.form_id == from_teams.form_id == form_id

"""Every card and dialog the bot can send to Teams uses only what Microsoft documents as working
in Teams on desktop, web, iOS and Android (docs/teams-cards.md says which page says what).

The cards are enumerated from the code: every message the neutral builders make from the
content (stages, check-ins, help, welcome, finished, forget prompt), messages with rows,
links, boxes and people named, their answered and note forms, and every form of
handlers.form_specs.FORMS as a dialog, with and without errors, with Teams' people picker and
with the bot's own directory search. A new element, action or property outside the allow-list
below fails here until it is looked up and added.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.core import ids
from bot.core.config import Settings
from bot.core.models import Platform
from bot.teams.cards import build_answered_card, build_card, build_note_card
from bot.teams.form_render import COLLEAGUES, PEOPLE_PICKER, build_dialog, build_form_card
from handlers.checkin_messages import BUTTONS, checkin_message
from handlers.form_specs import FORMS
from handlers.neutral_messages import (
    finished_message,
    forget_prompt,
    help_message,
    home_message,
    stage_message,
)
from messages.content import Content
from messages.form import draw
from messages.loader import load_content
from messages.model import (
    Button,
    Link,
    Message,
    Paragraph,
    Preformatted,
    Row,
    mention,
)

CONTENT: Content = load_content()
SETTINGS = Settings(company_links={"eap": "https://eap.example.com"})

# The highest Adaptive Card version Teams documents for bot-sent cards and dialogs on every
# client ("Types of cards": v1.5 or earlier).
MAX_VERSION = (1, 5)

# Each element or action type we may emit, and the properties it may carry: all part of the
# Adaptive Cards schema up to 1.5, rendered by Teams on desktop, web and mobile.
ALLOWED: dict[str, frozenset[str]] = {
    "AdaptiveCard": frozenset(
        {"type", "version", "body", "actions", "fallbackText", "msteams", "$schema"}
    ),
    "RichTextBlock": frozenset({"type", "inlines"}),
    "TextRun": frozenset(
        {"type", "text", "size", "weight", "isSubtle", "fontType", "color", "selectAction"}
    ),
    "Container": frozenset({"type", "style", "items"}),
    "ActionSet": frozenset({"type", "id", "actions"}),
    "Action.Execute": frozenset({"type", "title", "verb", "data"}),
    "Action.Submit": frozenset({"type", "title", "data"}),
    "Action.OpenUrl": frozenset({"type", "url"}),
    "Input.Text": frozenset(
        {"type", "id", "label", "placeholder", "maxLength", "isMultiline", "isRequired", "value"}
    ),
    "Input.Date": frozenset({"type", "id", "label", "isRequired", "value"}),
    # choices.data (a Data.Query): dynamic typeahead, "Android and iOS mobile clients support
    # typeahead search in Adaptive Cards" (Microsoft's "Typeahead search in Adaptive Cards").
    "Input.ChoiceSet": frozenset(
        {
            "type",
            "id",
            "label",
            "style",
            "choices",
            "choices.data",
            "isRequired",
            "value",
            "placeholder",
        }
    ),
    "Data.Query": frozenset({"type", "dataset"}),
}
# Which datasets a Data.Query may name. The bot's own (COLLEAGUES, answered by its
# application/search handler) is the typeahead documented on every client. Teams' people
# picker (PEOPLE_PICKER, Teams searching the organisation itself) is the one part documented
# for desktop and web only ("The web and desktop client support People Picker in Adaptive
# Card"): drawn only without TEAMS_DIRECTORY_SEARCH=graph, and only on the forms that name a
# colleague; docs/teams-cards.md says what a phone then lacks.
EVERY_CLIENT_DATASETS = frozenset({COLLEAGUES})
DESKTOP_AND_WEB_ONLY_DATASETS = frozenset({PEOPLE_PICKER})
PEOPLE_PICKER_FORMS = frozenset(
    form_id
    for form_id, spec in FORMS.items()
    if any(field.kind == "person" for field in spec.fields)
)
# Plain values inside a property (not elements): a choice, the msteams width, action data.
VALUE_OBJECTS = frozenset({"choices", "msteams", "data"})
CHOICE_KEYS = frozenset({"title", "value"})
INPUTS = frozenset({"Input.Text", "Input.Date", "Input.ChoiceSet"})


def messages() -> Iterator[tuple[str, Message]]:
    """Every message the bot draws as a card, in every locale's Teams words."""
    for name, variants in CONTENT.locales.items():
        locale = variants[Platform.TEAMS]
        yield f"{name} help", help_message(locale, SETTINGS, unknown_text="x")
        yield f"{name} welcome", home_message(locale, SETTINGS, status_line=None)
        yield f"{name} status", home_message(locale, SETTINGS, status_line="Step 2")
        yield f"{name} finished", finished_message(locale, SETTINGS)
        yield f"{name} forget", forget_prompt(locale, SETTINGS)
        for stage_id in CONTENT.stage_order:
            yield (
                f"{name} stage {stage_id}",
                stage_message(
                    content=CONTENT,
                    locale=locale,
                    settings=SETTINGS,
                    stage_id=stage_id,
                    checkin_id=3,
                ),
            )
        for kind in (*BUTTONS, ids.CHECKIN_KIND_LOOKING_BACK):
            yield (
                f"{name} {kind}",
                checkin_message(
                    kind, locale=locale, settings=SETTINGS, checkin_id=3, goals=["a goal"]
                ),
            )
    someone = mention("00000000-0000-0000-0000-000000000001")
    withdraw = Button(ids.MANAGER_REVOKE, "Withdraw", "5", "danger")
    opener = Button(ids.OPEN_GOALS_FORM, "Your goals", "stage", "primary")
    yield (
        "rows, links, a box and a person",
        Message(
            notification="n",
            title=f"About {someone}",
            blocks=(Paragraph(f"{someone} said"), Preformatted("draft")),
            links=(Link("Read", "https://example.com"),),
            todo="todo",
            todo_lead="lead",
            note="note",
            rows=(Row(f"You invited {someone}", (withdraw,)), Row("no buttons")),
            buttons=(opener,),
        ),
    )


def cards() -> Iterator[tuple[str, dict[str, Any]]]:
    follow = (Button(ids.OPEN_GOALS_FORM, "Write my goals", "x"),)
    for name, message in messages():
        yield name, build_card(message, checkin_id=3)
        yield f"{name} answered", build_answered_card(message, "chose", follow, checkin_id=3)
    yield "note", build_note_card("a note")


def dialogs() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """Every form in every locale, with and without errors, with either way of picking a
    colleague (the setting TEAMS_DIRECTORY_SEARCH)."""
    for name, variants in CONTENT.locales.items():
        locale = variants[Platform.TEAMS]
        for form_id, spec in FORMS.items():
            form = draw(spec, locale, intro={"person": mention("p")}, context={"person": "p"})
            errors = {field.name: "wrong" for field in form.fields}
            for shown in (form, draw(spec, locale, errors=errors, intro={"person": "p"})):
                for people in (PEOPLE_PICKER, COLLEAGUES):
                    card = build_form_card(shown, people=people)
                    attachment = build_dialog(shown.title, card)["task"]["value"]["card"]
                    assert attachment["content"] is card
                    yield f"{name} {form_id} {people}", form_id, people, card


def walk(node: Any, allowed: dict[str, frozenset[str]], where: str) -> Iterator[str]:
    """Every element, action or property outside `allowed`, as a readable line."""
    if isinstance(node, list):
        for item in node:
            yield from walk(item, allowed, where)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if not isinstance(kind, str) or kind not in allowed:
        yield f"{where}: element {kind!r} is not allowed"
        return
    for key, value in node.items():
        if key not in allowed[kind]:
            yield f"{where}: {kind}.{key} is not allowed"
        elif key == "choices":
            for choice in value:
                if set(choice) - CHOICE_KEYS:
                    yield f"{where}: a choice carries {sorted(set(choice) - CHOICE_KEYS)}"
        elif key not in VALUE_OBJECTS and isinstance(value, dict | list):
            yield from walk(value, allowed, f"{where} > {kind}.{key}")


def datasets_in(node: Any) -> Iterator[object]:
    """The dataset every Data.Query on the card names."""
    if isinstance(node, dict):
        if node.get("type") == "Data.Query":
            yield node.get("dataset")
        for value in node.values():
            yield from datasets_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasets_in(item)


def version_of(card: dict[str, Any]) -> tuple[int, int]:
    major, minor = str(card["version"]).split(".")
    return int(major), int(minor)


def types_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield node["type"]
        for value in node.values():
            yield from types_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from types_in(item)


CARDS = list(cards())
DIALOGS = list(dialogs())


def test_every_form_and_every_message_kind_is_enumerated() -> None:
    assert {form_id for _, form_id, _, _ in DIALOGS} == set(FORMS)
    assert {people for _, _, people, _ in DIALOGS} == {PEOPLE_PICKER, COLLEAGUES}
    assert {ids.MANAGER_INVITE_FORM, ids.MEETING_PICK_FORM} <= PEOPLE_PICKER_FORMS
    assert len(CARDS) > 2 * len(CONTENT.stage_order)


@pytest.mark.parametrize(("name", "card"), CARDS, ids=[name for name, _ in CARDS])
def test_every_card_uses_only_what_every_teams_client_shows(name: str, card: Any) -> None:
    assert list(walk(card, ALLOWED, name)) == []
    assert list(datasets_in(card)) == []
    assert version_of(card) <= MAX_VERSION


@pytest.mark.parametrize(
    ("name", "form_id", "people", "card"), DIALOGS, ids=[name for name, _, _, _ in DIALOGS]
)
def test_every_dialog_uses_only_what_every_teams_client_shows(
    name: str, form_id: str, people: str, card: Any
) -> None:
    assert list(walk(card, ALLOWED, name)) == []
    assert version_of(card) <= MAX_VERSION
    datasets = set(datasets_in(card))
    assert datasets <= EVERY_CLIENT_DATASETS | DESKTOP_AND_WEB_ONLY_DATASETS
    if people == COLLEAGUES or form_id not in PEOPLE_PICKER_FORMS:
        # With the directory search on, every form works on every client.
        assert not datasets & DESKTOP_AND_WEB_ONLY_DATASETS
    if form_id in PEOPLE_PICKER_FORMS:
        assert datasets == {people}  # the way of picking a colleague the deployment chose
    # A dialog is submitted with Action.Submit, the dialog's own documented way.
    assert {t for t in types_in(card) if t.startswith("Action.")} == {"Action.Submit"}


@pytest.mark.parametrize(("name", "card"), CARDS, ids=[name for name, _ in CARDS])
def test_a_card_with_action_execute_carries_no_inputs(name: str, card: Any) -> None:
    """The open reports of Action.Execute failing on Teams mobile are cards whose Execute
    sends inputs; every input of ours lives in a dialog."""
    assert not INPUTS & set(types_in(card))


def test_the_walk_catches_an_element_an_action_and_a_property() -> None:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "Table", "columns": []},
            {"type": "RichTextBlock", "inlines": [], "rtl": True},
            {
                "type": "Input.ChoiceSet",
                "id": "who",
                "choices.data": {"type": "Data.Query", "dataset": "x", "associatedInputs": "auto"},
            },
        ],
        "actions": [
            {"type": "Action.ShowCard", "title": "more"},
            {"type": "Action.Execute", "title": "Go", "verb": "v", "style": "positive"},
        ],
    }
    found = list(walk(card, ALLOWED, "card"))
    assert found == [
        "card > AdaptiveCard.body: element 'Table' is not allowed",
        "card > AdaptiveCard.body: RichTextBlock.rtl is not allowed",
        "card > AdaptiveCard.body > Input.ChoiceSet.choices.data: "
        "Data.Query.associatedInputs is not allowed",
        "card > AdaptiveCard.actions: element 'Action.ShowCard' is not allowed",
        "card > AdaptiveCard.actions: Action.Execute.style is not allowed",
    ]
    assert version_of({"version": "1.6"}) > MAX_VERSION
    assert list(datasets_in(card)) == ["x"]

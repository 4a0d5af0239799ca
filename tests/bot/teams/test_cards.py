"""Adaptive Cards and dialogs from neutral messages: pure functions, no mocks."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core import ids
from bot.core.config import Settings
from bot.teams.cards import build_answered_card, build_card
from bot.teams.form_render import build_form_card, read_dialog
from bot.teams.manifest_languages import HOME_TAB_INDEX
from bot.teams.package import (
    COMMAND_MENU_LIMIT,
    HOME_TAB_ID,
    build_manifest,
    build_package,
    color_icon,
    outline_icon,
)
from handlers.form_specs import FORMS
from handlers.neutral_messages import stage_message
from handlers.routes import COMMAND_WORDS
from messages.form import draw
from messages.loader import load_content
from messages.model import Bullets, Button, Link, Message, Paragraph, Preformatted, mention

CONTENT = load_content(None)
LOCALE = CONTENT.for_locale(None, "teams")


def _runs(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextRun":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def test_a_stage_becomes_a_card_with_choices_that_answer_in_place() -> None:
    message = stage_message(
        content=CONTENT,
        locale=LOCALE,
        settings=Settings(company_links={"eap": "https://eap.example.com"}),
        stage_id="feedback",
        checkin_id=42,
    )
    card = build_card(message, checkin_id=42)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["fallbackText"] == "You have a new message from Next Step"
    kinds = [(a["type"], a["data"].get("action") or a["data"]["opener"]) for a in card["actions"]]
    assert kinds == [
        ("Action.Execute", ids.STAGE_NEXT),
        ("Action.Execute", ids.STAGE_SNOOZE),
        ("Action.Execute", ids.STAGE_STOP),
        ("Action.Submit", ids.OPEN_FEEDBACK_FORM),
    ]
    assert not any("style" in a for a in card["actions"])  # unsupported in Teams
    assert all(a["data"]["checkin"] == 42 for a in card["actions"])
    assert card["actions"][3]["data"]["msteams"] == {"type": "task/fetch"}


def test_text_is_never_read_as_markup_and_people_show_by_name() -> None:
    typed = "**bold** [link](https://evil.example) <at>x</at> & _it_"
    message = Message(
        notification="n",
        title="T",
        blocks=(
            Paragraph(f"{mention('abc')} said {typed}"),
            Bullets(("one", typed)),
            Preformatted("copy me"),
        ),
        links=(Link(lead="Talk to someone", url="https://eap.example.com"),),
        todo="do it",
        todo_lead="Today",
        note="Step 1",
    )
    card = build_card(message, names={"abc": "Alex Doe", "": "a colleague"})
    texts = [run["text"] for run in _runs(card)]
    assert f"Alex Doe said {typed}" in texts
    assert '"type": "TextBlock"' not in json.dumps(card)  # TextRuns show text as written
    link = next(run for run in _runs(card) if run["text"] == "https://eap.example.com")
    assert link["selectAction"] == {"type": "Action.OpenUrl", "url": "https://eap.example.com"}
    unknown = build_card(Message(notification="n", note=mention("zzz")), names={"": "someone"})
    assert [run["text"] for run in _runs(unknown)] == ["someone"]


def test_an_answered_card_keeps_the_text_and_shows_the_note_and_follow_ups() -> None:
    message = Message(
        notification="n",
        blocks=(Paragraph("How are your goals going?"),),
        buttons=(Button(ids.NUDGE_ON_TRACK, "On track", "5"),),
    )
    follow = (Button(ids.OPEN_PROGRESS_NOTE, "Add a note", "5"),)
    card = build_answered_card(message, "Good to hear.", follow, checkin_id=5)
    texts = [run["text"] for run in _runs(card)]
    assert texts == ["How are your goals going?", "✓ Good to hear."]
    [action] = card["actions"]
    assert action["data"]["opener"] == ids.OPEN_PROGRESS_NOTE


def test_dialog_readers_never_raise_and_keep_only_what_is_valid() -> None:
    goals = read_dialog(
        {
            "action": ids.GOALS_FORM,
            "what_1": "Lead",
            "by_when_1": "2026-02-31",
            "why_2": 5,
            "checkin": "12",
        }
    )
    assert goals is not None
    assert (goals.text("what_1"), goals.day("by_when_1"), goals.text("why_2")) == ("Lead", None, "")
    assert goals.row("checkin") == 12
    feedback = read_dialog({"action": ids.FEEDBACK_FORM, "decider": "NOT-AN-ID", "tone": "rude"})
    assert feedback is not None
    assert (feedback.person("decider"), feedback.text("focus"), feedback.text("tone")) == (
        None,
        "",
        "",
    )
    template = read_dialog(
        {"action": ids.MEETING_FORM, "person": "28:bot", "meeting_on": "2026-12-01"}
    )
    assert template is not None
    assert template.context_person("person") is None and template.day("meeting_on") is not None
    for forged in (True, "١٢", -3, "12a", 10**18):
        note = read_dialog({"action": ids.PROGRESS_NOTE_FORM, "checkin": forged})
        assert note is not None and note.row("checkin") is None
    assert read_dialog({"action": "no_such_form"}) is None


@given(
    st.dictionaries(
        st.text(max_size=20), st.none() | st.integers() | st.text() | st.lists(st.text())
    ),
    st.sampled_from(sorted(FORMS)),
)
def test_dialog_readers_take_any_data(data: dict[str, Any], form_id: str) -> None:
    read_dialog({**data, "action": form_id})


def test_forms_show_errors_under_their_fields_and_keep_what_was_typed() -> None:
    form = draw(
        FORMS[ids.GOALS_FORM],
        LOCALE,
        values={"why_1": "growth"},
        context={"checkin": 3},
        errors={"what_1": "Write at least one goal."},
    )
    card = build_form_card(form)
    body = card["body"]
    what = next(i for i, e in enumerate(body) if e.get("id") == "what_1")
    assert body[what + 1]["inlines"][0] == {
        "type": "TextRun",
        "text": "Write at least one goal.",
        "color": "Attention",
    }
    assert next(e for e in body if e.get("id") == "why_1")["value"] == "growth"
    assert card["actions"][0]["data"] == {"action": ids.GOALS_FORM, "checkin": 3}
    invite = build_form_card(draw(FORMS[ids.MANAGER_INVITE_FORM], LOCALE))
    picker = next(e for e in invite["body"] if e.get("id") == "manager")
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}


def test_the_package_holds_a_manifest_and_two_icons_of_the_sizes_teams_wants() -> None:
    manifest = build_manifest(
        app_id="11111111-2222-3333-4444-555555555555",
        display_name="Next Step",
        base_url="https://bot.example.com",
        developer="Example Ltd",
        privacy_url="https://bot.example.com/privacy",
        terms_url="https://bot.example.com/terms",
    )
    with zipfile.ZipFile(BytesIO(build_package(manifest))) as package:
        assert sorted(package.namelist()) == [
            "color.png",
            "de.json",
            "es.json",
            "fr.json",
            "manifest.json",
            "outline.png",
        ]
        written = json.loads(package.read("manifest.json"))
        translated = {name: json.loads(package.read(f"{name}.json")) for name in ("de", "es", "fr")}
    assert written["manifestVersion"] == "1.22"
    assert written["$schema"].endswith("/v1.22/MicrosoftTeams.schema.json")
    [bot] = written["bots"]
    assert bot["botId"] == written["id"] and bot["scopes"] == ["personal"]
    assert bot["supportsFiles"] is True  # the data export is a file, sent with consent
    commands = bot["commandLists"][0]["commands"]
    titles = [c["title"] for c in commands]
    assert titles[:4] == ["start", "status", "goals", "hours"]
    # Teams takes ten at most, titles of 32 characters and descriptions of 128; each is a word
    # the bot answers (typed as the menu sends it).
    assert len(commands) <= COMMAND_MENU_LIMIT == 10
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)
    assert set(titles) <= COMMAND_WORDS
    assert written["validDomains"] == ["bot.example.com"]
    # Each language's file: its descriptions, and a menu of its own words the bot reads back
    # as the same commands, in the same order.
    assert written["localizationInfo"] == {
        "defaultLanguageTag": "en",
        "additionalLanguages": [
            {"languageTag": name, "file": f"{name}.json"} for name in ("de", "es", "fr")
        ],
    }
    content = load_content()
    for name, texts in translated.items():
        assert texts["$schema"].endswith("/v1.22/MicrosoftTeams.Localization.schema.json")
        assert texts["name.short"] == "Next Step"
        home = written["staticTabs"][HOME_TAB_INDEX]
        assert home["entityId"] == HOME_TAB_ID and home["name"] == "Home"
        assert texts[f"staticTabs[{HOME_TAB_INDEX}].name"] == content.locales[name]["teams"].text(
            "tab_name"
        )
        assert len(texts["description.short"]) <= 80
        assert texts["description.short"] != written["description"]["short"]
        for index, command in enumerate(titles):
            word = texts[f"bots[0].commandLists[0].commands[{index}].title"]
            description = texts[f"bots[0].commandLists[0].commands[{index}].description"]
            assert content.command_for(word) == command, (name, word)
            assert len(word) <= 32 and 0 < len(description) <= 128
    for icon, size in ((color_icon(), 192), (outline_icon(), 32)):
        assert icon[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(icon[16:20], "big") == size == int.from_bytes(icon[20:24], "big")

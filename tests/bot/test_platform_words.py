"""Each platform in its own words: everything a person on Teams can read (every text of every
locale, every message and form drawn by the Teams renderers) says nothing of Slack, and
everything a person on Slack can read says nothing of Teams.

"Everything" is enumerated from the content and the code, so a new text, stage, check-in or
form is checked without touching this file: every ui key, every check-in and meeting text,
every stage, every form of handlers.form_specs.FORMS drawn by both form renderers, the help,
the welcome, the Home (Slack), the check-in messages of handlers.checkin_messages. Texts that
only one platform ever shows are listed in messages.schema.SHOWN_ONLY_ON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import ids
from bot.core.config import Settings
from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from bot.slack.blocks import build_home_view, build_message_blocks
from bot.slack.form_render import build_modal
from bot.teams.cards import build_card
from bot.teams.form_render import build_form_dialog
from handlers.admin_report import admin_section
from handlers.checkin_messages import BUTTONS, checkin_message
from handlers.feedback import save_notes
from handlers.form_specs import FORMS
from handlers.goals import GoalDraft, save_goals
from handlers.home import home, invitations
from handlers.manager_invitation import invite_manager
from handlers.meeting_access import Someone
from handlers.neutral_messages import (
    finished_message,
    forget_prompt,
    help_message,
    home_message,
    stage_message,
)
from handlers.start import start_or_resume
from messages.content import PLATFORMS, Content, LocaleContent
from messages.form import draw
from messages.loader import load_content
from messages.model import Message
from messages.schema import SHOWN_ONLY_ON
from tests.handlers.sqlite_services import T0, sqlite_services

CONTENT: Content = load_content()
SETTINGS = Settings(company_links={"eap": "https://eap.example.com"})

# Words that belong to Slack: its command, its places, its names for things.
SLACK_WORDS = {
    "/notpromoted": re.compile(r"/notpromoted"),
    "slash command": re.compile(r"\bslash\b", re.IGNORECASE),
    "App Home": re.compile(r"\bApp Home\b", re.IGNORECASE),
    "Home tab": re.compile(r"\bHome tab\b", re.IGNORECASE),
    "the Home": re.compile(r"\bHome\b"),
    "Slack": re.compile(r"\bSlack\b", re.IGNORECASE),
    "workspace": re.compile(r"\bworkspaces?\b", re.IGNORECASE),
    "channel": re.compile(r"\bchannels?\b", re.IGNORECASE),
    "direct message": re.compile(r"\bdirect messages?\b", re.IGNORECASE),
    "DM": re.compile(r"\bDMs?\b"),
    "Messages tab": re.compile(r"\bMessages tab\b", re.IGNORECASE),
    "modal": re.compile(r"\bmodals?\b", re.IGNORECASE),
    "@name": re.compile(r"(?<![\w.])@[A-Za-z]"),
}
# Words that belong to Microsoft Teams.
TEAMS_WORDS = {
    "Teams": re.compile(r"\bTeams\b"),
    "Microsoft": re.compile(r"\bMicrosoft\b", re.IGNORECASE),
    "our chat": re.compile(r"\bour chat\b", re.IGNORECASE),
    "chat with me": re.compile(r"\bchat with me\b", re.IGNORECASE),
    "personal tab": re.compile(r"\bpersonal tab\b", re.IGNORECASE),
    "tenant": re.compile(r"\btenants?\b", re.IGNORECASE),
    "Entra": re.compile(r"\bEntra\b"),
    "Adaptive Card": re.compile(r"\bAdaptive Cards?\b", re.IGNORECASE),
    "dialog": re.compile(r"\bdialog(ue)?s?\b", re.IGNORECASE),
}
OTHER_PLATFORMS_WORDS = {Platform.TEAMS: SLACK_WORDS, Platform.SLACK: TEAMS_WORDS}

# The parts of a card or a Block Kit view a person reads; everything else is structure.
VISIBLE_KEYS = frozenset(
    {"text", "title", "label", "placeholder", "fallbackText", "value", "initial_value", "hint"}
)
HIDDEN_SUBTREES = frozenset({"data", "private_metadata", "choices.data"})


def shown_on(platform: str, key: str) -> bool:
    return SHOWN_ONLY_ON.get(key, platform) == platform


# A platform's own names for its own parts, which may share a word with the other platform's:
# Teams' tab beside the chat is the app's "Home" in the package, as Slack's App Home is.
OWN_NAMES = frozenset({"tab_name"})


def content_texts(locale: LocaleContent) -> Iterator[tuple[str, str]]:
    """Every text of a locale as its platform shows it, by name."""
    for key, text in locale.ui.items():
        if shown_on(locale.platform, key) and key not in OWN_NAMES:
            yield f"ui.{key}", text
    for section, texts in locale.checkins.items():
        for key, text in texts.items():
            if shown_on(locale.platform, f"{section}.{key}"):
                yield f"{section}.{key}", text
    for stage in locale.stages.values():
        yield f"stages.{stage.id}.title", stage.title
        yield f"stages.{stage.id}.body", stage.body
        yield f"stages.{stage.id}.todo", stage.todo
        for link in stage.links:
            yield f"stages.{stage.id}.links.{link.key}", link.text


def neutral_messages(locale: LocaleContent) -> Iterator[tuple[str, Message]]:
    """Every message the neutral builders make from content alone, for one locale."""
    yield "help", help_message(locale, SETTINGS)
    yield "help after an unknown word", help_message(locale, SETTINGS, unknown_text="hello")
    yield "welcome", home_message(locale, SETTINGS, status_line=None)
    yield "finished", finished_message(locale, SETTINGS)
    yield "forget prompt", forget_prompt(locale, SETTINGS)
    for stage_id in CONTENT.stage_order:
        yield (
            f"stage {stage_id}",
            stage_message(
                content=CONTENT, locale=locale, settings=SETTINGS, stage_id=stage_id, checkin_id=7
            ),
        )
    for kind in (*BUTTONS, ids.CHECKIN_KIND_LOOKING_BACK):
        yield (
            f"check-in {kind}",
            checkin_message(kind, locale=locale, settings=SETTINGS, checkin_id=7, goals=["A goal"]),
        )


def visible_strings(drawn: Any, key: str = "") -> Iterator[str]:
    """The strings a person reads in a rendered card, dialog or Block Kit view."""
    if key in HIDDEN_SUBTREES:
        return
    if isinstance(drawn, dict):
        for name, value in drawn.items():
            yield from visible_strings(value, name)
    elif isinstance(drawn, list):
        for item in drawn:
            yield from visible_strings(item, key)
    elif isinstance(drawn, str) and key in VISIBLE_KEYS:
        yield drawn


def rendered(platform: str, locale: LocaleContent) -> Iterator[tuple[str, Any]]:
    """Every message and form as `platform`'s renderer draws it."""
    for name, message in neutral_messages(locale):
        if platform == Platform.TEAMS:
            yield name, build_card(message)
        else:
            yield name, build_message_blocks(message)
    if platform == Platform.SLACK:
        welcome = home_message(locale, SETTINGS, status_line=None)
        yield "Home", build_home_view(welcome)
        status = home_message(locale, SETTINGS, status_line=locale.text("status_paused"))
        yield "Home with a journey", build_home_view(status)
    for form_id, spec in FORMS.items():
        form = draw(spec, locale, intro={"person": "someone"})
        if platform == Platform.TEAMS:
            yield f"form {form_id}", build_form_dialog(form)
        else:
            yield f"form {form_id}", build_modal(form)


def found_words(text: str, words: dict[str, re.Pattern[str]]) -> list[str]:
    return [word for word, pattern in words.items() if pattern.search(text)]


LOCALES = [
    pytest.param(variants[platform], id=f"{name}-{platform}")
    for name, variants in CONTENT.locales.items()
    for platform in PLATFORMS
]


@pytest.mark.parametrize("locale", LOCALES)
def test_no_text_speaks_of_the_other_platform(locale: LocaleContent) -> None:
    words = OTHER_PLATFORMS_WORDS[locale.platform]
    wrong = {
        name: found for name, text in content_texts(locale) if (found := found_words(text, words))
    }
    assert wrong == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_no_drawn_message_or_form_speaks_of_the_other_platform(locale: LocaleContent) -> None:
    words = OTHER_PLATFORMS_WORDS[locale.platform]
    wrong: dict[str, list[str]] = {}
    drawn_count = 0
    for name, drawn in rendered(locale.platform, locale):
        drawn_count += 1
        shown = list(visible_strings(drawn))
        assert shown, f"{name}: nothing visible found in {json.dumps(drawn)[:200]}"
        found = sorted({word for text in shown for word in found_words(text, words)})
        if found:
            wrong[name] = found
    assert wrong == {}
    assert drawn_count >= len(FORMS) + len(CONTENT.stage_order)


@pytest.mark.parametrize(
    ("platform", "text"),
    [
        (Platform.TEAMS, "Type /notpromoted resume to carry on."),
        (Platform.TEAMS, "They're on your Home tab whenever you want them."),
        (Platform.TEAMS, "Choose someone who is active in this workspace."),
        (Platform.TEAMS, "- /notpromoted meeting @person prepares a meeting"),
        (Platform.SLACK, "Your manager gets it in their chat with Next Step in Teams."),
        (Platform.SLACK, "It's further up in our chat."),
    ],
)
def test_the_word_lists_catch_the_other_platforms_words(platform: str, text: str) -> None:
    assert found_words(text, OTHER_PLATFORMS_WORDS[platform])


def test_the_visible_strings_of_a_card_are_its_texts() -> None:
    locale = CONTENT.for_locale("en", Platform.TEAMS)
    card = build_card(help_message(locale, SETTINGS))
    shown = " ".join(visible_strings(card))
    assert locale.text("help_title") in shown
    assert "status shows where you are" in shown


def test_shown_only_on_names_real_texts_of_known_platforms() -> None:
    locale = CONTENT.for_locale("en", Platform.SLACK)
    names = set(locale.ui) | {
        f"{section}.{key}" for section, texts in locale.checkins.items() for key in texts
    }
    assert set(SHOWN_ONLY_ON) <= names
    assert set(SHOWN_ONLY_ON.values()) <= set(PLATFORMS)


def test_the_help_in_teams_lists_the_words_to_write() -> None:
    teams = help_message(CONTENT.for_locale("en", Platform.TEAMS), SETTINGS)
    shown = " ".join(visible_strings(build_card(teams)))
    for word in ("start", "status", "pause", "resume", "stop", "goals", "hours 08:00-16:00"):
        assert f"{word} " in shown
    slack = help_message(CONTENT.for_locale("en", Platform.SLACK), SETTINGS)
    assert "/notpromoted status" in " ".join(visible_strings(build_message_blocks(slack)))


def lived_in(tmp_path: Path, platform: str) -> Iterator[tuple[str, Any]]:
    """A person some way into the journey (goals, notes, a manager invited), and what each
    platform draws of it: Slack's Home with the admins' report, Teams' list of invitations."""
    manager = "00000000-0000-0000-0000-00000000000a" if platform == Platform.TEAMS else "UMGR"
    with sqlite_services(tmp_path, admin_users=frozenset({"UALEX"})) as services:
        alex = PersonRef(platform=platform, workspace_id="T1", user_id="UALEX")
        start_or_resume(services, alex)
        goal = GoalDraft(1, "Lead a project", "Ask for one", T0.date() + timedelta(days=30))
        assert save_goals(services, alex, [goal], from_checkin=None).errors == {}
        assert save_notes(services, alex, keep="Clear answers", work_on="Examples").errors == {}
        assert invite_manager(services, alex, Someone(manager)).errors == {}
        listed = invitations(services, alex)
        assert listed is not None
        if platform == Platform.SLACK:
            yield "Home", build_home_view(home(services, alex), admin_section(services, alex))
            yield "invitations", build_message_blocks(listed)
        else:
            yield "invitations", build_card(listed)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_lived_in_journey_speaks_only_its_platform(tmp_path: Path, platform: str) -> None:
    words = OTHER_PLATFORMS_WORDS[platform]
    wrong = {}
    for name, drawn in lived_in(tmp_path, platform):
        shown = " ".join(visible_strings(drawn))
        assert "Lead a project" in shown or name == "invitations"
        if found := found_words(shown, words):
            wrong[name] = found
    assert wrong == {}

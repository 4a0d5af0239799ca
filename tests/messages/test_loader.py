"""messages.loader on the packaged content and on broken copies; messages.model.parse_text."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from messages.content import Content
from messages.loader import PACKAGED_CONTENT, ContentError, load_content
from messages.model import Bullets, Paragraph, parse_text
from messages.schema import LINK_KEYS

JOURNEY_ORDER = tuple(
    tomllib.loads((PACKAGED_CONTENT / "journey.toml").read_text(encoding="utf-8"))["stages"]
)
FORBIDDEN_WORDS = ("man up", "spoiled brat", "pram")


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A writable copy of the packaged content: journey.toml, en/ui.toml, en/stages/*.toml."""
    root = tmp_path / "content"
    shutil.copytree(PACKAGED_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    # The shipped languages other than English stay out: the tests add the ones they need.
    for folder in root.iterdir():
        if folder.is_dir() and folder.name != "en":
            shutil.rmtree(folder)
    return root


def replace_line(path: Path, key: str, new_line: str) -> None:
    """Replace the single-line `key = ...` assignment in a TOML file."""
    text = path.read_text(encoding="utf-8")
    changed, count = re.subn(rf"(?m)^{re.escape(key)} = .*$", new_line, text)
    assert count == 1, f"expected exactly one {key} line in {path}"
    path.write_text(changed, encoding="utf-8")


def error_of(root: Path) -> str:
    with pytest.raises(ContentError) as caught:
        load_content(root)
    return str(caught.value)


# -- the packaged content ----------------------------------------------------------------


def test_packaged_content_has_ten_stages_in_journey_order(content: Content) -> None:
    assert len(JOURNEY_ORDER) == 10
    assert content.stage_order == JOURNEY_ORDER
    assert content.stage_order[0] == "pause"
    assert content.stage_order[-1] == "look-ahead"
    assert content.safety_net_stage == "pause"
    english = content.for_locale("en", "slack")
    assert tuple(english.stages) == JOURNEY_ORDER
    assert all(english.stages[stage].id == stage for stage in JOURNEY_ORDER)


def test_the_copy_fixture_loads_like_the_packaged_content(tree: Path, content: Content) -> None:
    assert not list(tree.rglob("*.py"))
    copied = load_content(tree)
    assert copied.stage_order == content.stage_order
    assert copied.for_locale("en", "slack").stages == content.for_locale("en", "slack").stages


@pytest.mark.parametrize("stage_id", JOURNEY_ORDER)
def test_every_stage_has_title_body_and_todo(content: Content, stage_id: str) -> None:
    stage = content.for_locale("en", "slack").stages[stage_id]
    assert stage.title.strip()
    assert stage.body.strip()
    assert stage.todo.strip()
    assert all(link.key in LINK_KEYS and link.text.strip() for link in stage.links)


@pytest.mark.parametrize("stage_id", JOURNEY_ORDER)
def test_every_body_is_readable_in_a_minute(content: Content, stage_id: str) -> None:
    body = content.for_locale("en", "slack").stages[stage_id].body
    assert len(body) < 1000
    assert len(body.split()) < 200


@pytest.mark.parametrize("stage_id", JOURNEY_ORDER)
def test_every_todo_is_one_sentence(content: Content, stage_id: str) -> None:
    todo = content.for_locale("en", "slack").stages[stage_id].todo
    assert "\n" not in todo
    assert todo[0].isupper()
    assert todo.endswith((".", "?"))
    # One sentence end, at the very end.
    assert len(re.findall(r"[.?!](?:\s|$)", todo)) == 1


@pytest.mark.parametrize("stage_id", JOURNEY_ORDER)
def test_no_stage_uses_dismissive_words_or_exclamations(content: Content, stage_id: str) -> None:
    stage = content.for_locale("en", "slack").stages[stage_id]
    texts = [stage.title, stage.body, stage.todo, *(link.text for link in stage.links)]
    for text in texts:
        assert "!" not in text
        for word in FORBIDDEN_WORDS:
            assert not re.search(rf"\b{word}\b", text, re.IGNORECASE), (word, text)


@pytest.mark.parametrize("tag", ["en-GB", "en_US", "EN", None, "", "xx-YY", "de"])
def test_for_locale_falls_back_to_english(content: Content, tag: str | None) -> None:
    assert content.for_locale(tag, "slack").locale == "en"


def test_ui_text_fills_placeholders(content: Content) -> None:
    english = content.for_locale("en", "slack")
    assert english.text("step_note", number=1, total=10) == "Step 1 of 10"
    assert english.weekdays[0] == "Monday"
    assert len(english.weekdays) == 7


def test_position_and_next_stage(content: Content) -> None:
    assert content.position("pause") == 1
    assert content.position("look-ahead") == 10
    assert content.next_stage("pause") == JOURNEY_ORDER[1]
    assert content.next_stage("look-ahead") is None


# -- broken copies: the error names the file and the field -------------------------------


def test_missing_stage_file(tree: Path) -> None:
    (tree / "en" / "stages" / "reframe.toml").unlink()
    message = error_of(tree)
    assert "reframe.toml" in message
    assert "missing" in message


def test_stage_without_title(tree: Path) -> None:
    path = tree / "en" / "stages" / "goals.toml"
    replace_line(path, "title", "")
    message = error_of(tree)
    assert "goals.toml" in message
    assert "'title'" in message


def test_stage_with_empty_todo(tree: Path) -> None:
    path = tree / "en" / "stages" / "network.toml"
    replace_line(path, "todo", 'todo = "   "')
    message = error_of(tree)
    assert "network.toml" in message
    assert "'todo'" in message


def test_stage_with_an_unknown_field(tree: Path) -> None:
    path = tree / "en" / "stages" / "manager.toml"
    path.write_text('subtitle = "extra"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    message = error_of(tree)
    assert "manager.toml" in message
    assert "subtitle" in message


def test_stage_title_over_slack_header_limit(tree: Path) -> None:
    path = tree / "en" / "stages" / "learning.toml"
    replace_line(path, "title", f'title = "{"t" * 151}"')
    message = error_of(tree)
    assert "learning.toml" in message
    assert "'title'" in message
    assert "150" in message


def test_stage_with_bad_toml_syntax(tree: Path) -> None:
    path = tree / "en" / "stages" / "feedback.toml"
    path.write_text('title = "unterminated\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    message = error_of(tree)
    assert "feedback.toml" in message
    assert "TOML" in message


def test_stage_link_key_not_in_link_keys(tree: Path) -> None:
    path = tree / "en" / "stages" / "pause.toml"
    replace_line(path, "key", 'key = "gym"')
    message = error_of(tree)
    assert "pause.toml" in message
    assert "links[0].key" in message
    assert "eap" in message  # names the allowed keys


def test_stage_link_without_text(tree: Path) -> None:
    path = tree / "en" / "stages" / "look-ahead.toml"
    replace_line(path, "text", 'text = ""')
    message = error_of(tree)
    assert "look-ahead.toml" in message
    assert "links[0].text" in message


def test_ui_missing_a_key(tree: Path) -> None:
    path = tree / "en" / "ui.toml"
    replace_line(path, "button_next", "")
    message = error_of(tree)
    assert "ui.toml" in message
    assert "'button_next'" in message


def test_ui_unknown_key(tree: Path) -> None:
    path = tree / "en" / "ui.toml"
    path.write_text(
        path.read_text(encoding="utf-8") + '\nbutton_maybe = "Maybe"\n', encoding="utf-8"
    )
    message = error_of(tree)
    assert "ui.toml" in message
    assert "button_maybe" in message


def test_ui_placeholder_not_allowed(tree: Path) -> None:
    path = tree / "en" / "ui.toml"
    replace_line(path, "chose_snooze", 'chose_snooze = "I\'ll bring this back {nope}."')
    message = error_of(tree)
    assert "ui.toml" in message
    assert "'chose_snooze'" in message
    assert "nope" in message
    assert "when" in message  # the allowed placeholder


def test_ui_placeholder_on_a_key_without_any(tree: Path) -> None:
    path = tree / "en" / "ui.toml"
    replace_line(path, "button_stop", 'button_stop = "Stop {app_name}"')
    message = error_of(tree)
    assert "'button_stop'" in message
    assert "app_name" in message


def test_ui_broken_braces(tree: Path) -> None:
    path = tree / "en" / "ui.toml"
    replace_line(path, "step_note", 'step_note = "Step {number of {total}"')
    message = error_of(tree)
    assert "ui.toml" in message
    assert "'step_note'" in message


def test_ui_weekdays_must_name_seven_days(tree: Path) -> None:
    path = tree / "en" / "ui.toml"
    replace_line(path, "weekdays", 'weekdays = "Monday, Tuesday"')
    message = error_of(tree)
    assert "ui.toml" in message
    assert "'weekdays'" in message


def test_journey_with_no_stages(tree: Path) -> None:
    (tree / "journey.toml").write_text("stages = []\n", encoding="utf-8")
    message = error_of(tree)
    assert "journey.toml" in message
    assert "'stages'" in message


def test_journey_with_a_duplicate_stage(tree: Path) -> None:
    (tree / "journey.toml").write_text(
        'stages = ["pause", "professional", "pause"]\n', encoding="utf-8"
    )
    message = error_of(tree)
    assert "journey.toml" in message
    assert "'stages'" in message
    assert "twice" in message


def test_journey_safety_net_stage_not_in_stages(tree: Path) -> None:
    (tree / "journey.toml").write_text(
        'stages = ["pause", "goals"]\nsafety_net_stage = "reframe"\n', encoding="utf-8"
    )
    message = error_of(tree)
    assert "journey.toml" in message
    assert "'safety_net_stage'" in message


def test_journey_naming_a_stage_without_a_file(tree: Path) -> None:
    (tree / "journey.toml").write_text('stages = ["pause", "celebrate"]\n', encoding="utf-8")
    message = error_of(tree)
    assert "celebrate.toml" in message


def test_missing_journey_file(tree: Path) -> None:
    (tree / "journey.toml").unlink()
    message = error_of(tree)
    assert "journey.toml" in message
    assert "missing" in message


def test_a_shorter_journey_loads(tree: Path) -> None:
    (tree / "journey.toml").write_text('stages = ["goals", "pause"]\n', encoding="utf-8")
    loaded = load_content(tree)
    assert loaded.stage_order == ("goals", "pause")
    assert loaded.safety_net_stage == "goals"
    assert set(loaded.for_locale("en", "slack").stages) == {"goals", "pause"}


def test_missing_english_folder(tree: Path) -> None:
    shutil.rmtree(tree / "en")
    message = error_of(tree)
    assert "'en/'" in message
    assert str(tree) in message


def test_missing_english_folder_with_another_locale_present(tree: Path) -> None:
    (tree / "en").rename(tree / "fr")
    message = error_of(tree)
    assert "'en/'" in message


# -- a second locale ---------------------------------------------------------------------


@pytest.fixture
def french(tree: Path) -> Content:
    shutil.copytree(tree / "en", tree / "fr")
    replace_line(tree / "fr" / "ui.toml", "button_next", 'button_next = "Je suis prêt"')
    replace_line(tree / "fr" / "stages" / "pause.toml", "title", 'title = "Prenez un moment"')
    return load_content(tree)


@pytest.mark.parametrize("tag", ["fr-FR", "fr", "fr_CA", "FR-be"])
def test_french_tags_get_french_text(french: Content, tag: str) -> None:
    locale = french.for_locale(tag, "slack")
    assert locale.locale == "fr"
    assert locale.text("button_next") == "Je suis prêt"
    assert locale.stages["pause"].title == "Prenez un moment"


@pytest.mark.parametrize("tag", ["de-DE", "en-GB", None])
def test_other_tags_get_english_next_to_french(french: Content, tag: str | None) -> None:
    locale = french.for_locale(tag, "slack")
    assert locale.locale == "en"
    assert locale.text("button_next") == "I'm ready for the next step"
    assert locale.stages["pause"].title == "Give yourself a moment before you respond"


def test_a_region_folder_wins_over_its_language(tree: Path) -> None:
    shutil.copytree(tree / "en", tree / "fr")
    shutil.copytree(tree / "en", tree / "fr-CA")
    replace_line(tree / "fr-CA" / "ui.toml", "button_stop", 'button_stop = "Arrêter (CA)"')
    loaded = load_content(tree)
    assert loaded.for_locale("fr-CA", "slack").text("button_stop") == "Arrêter (CA)"
    assert loaded.for_locale("fr-FR", "slack").locale == "fr"


def test_a_broken_second_locale_names_its_own_file(tree: Path) -> None:
    shutil.copytree(tree / "en", tree / "fr")
    replace_line(tree / "fr" / "stages" / "goals.toml", "title", 'title = ""')
    message = error_of(tree)
    assert str(Path("fr") / "stages" / "goals.toml") in message
    assert "'title'" in message


# -- parse_text --------------------------------------------------------------------------


def test_parse_text_splits_paragraphs_on_blank_lines() -> None:
    text = "\nFirst line\ncontinues here.\n\nSecond paragraph.\n\n\n  Third.  \n"
    assert parse_text(text) == (
        Paragraph("First line continues here."),
        Paragraph("Second paragraph."),
        Paragraph("Third."),
    )


def test_parse_text_turns_dash_lines_into_bullets() -> None:
    assert parse_text("- one\n-   two\n- three") == (Bullets(("one", "two", "three")),)


def test_parse_text_mixes_paragraph_and_bullets_in_one_chunk() -> None:
    text = "Try these:\n- breathe\n- walk\nThen rest.\n\n- alone\n\nEnd."
    assert parse_text(text) == (
        Paragraph("Try these:"),
        Bullets(("breathe", "walk")),
        Paragraph("Then rest."),
        Bullets(("alone",)),
        Paragraph("End."),
    )


def test_parse_text_keeps_a_dash_without_space_as_text() -> None:
    assert parse_text("-not a bullet\n— nor this") == (Paragraph("-not a bullet — nor this"),)


def test_parse_text_of_blank_text_is_empty() -> None:
    assert parse_text("   \n\n  ") == ()


def test_parse_text_whitespace_only_line_separates_paragraphs() -> None:
    assert parse_text("First.\n   \nSecond.") == (Paragraph("First."), Paragraph("Second."))


# -- texts per platform --------------------------------------------------------------------


def test_each_platform_reads_its_own_version_of_a_text(content: Content) -> None:
    slack, teams = content.for_locale("en", "slack"), content.for_locale("en", "teams")
    assert "/notpromoted" in slack.text("help_body")
    assert "/notpromoted" not in teams.text("help_body")
    assert slack.checkin("feedback_notes", "saved") != teams.checkin("feedback_notes", "saved")
    # Texts that don't differ are the same object's words on both.
    assert slack.text("step_note", number=1, total=2) == teams.text("step_note", number=1, total=2)
    assert (slack.platform, teams.platform) == ("slack", "teams")


def test_an_unknown_platform_has_no_texts(content: Content) -> None:
    with pytest.raises(ValueError, match="discord"):
        content.for_locale("en", "discord")


def test_the_platforms_are_the_models_platforms() -> None:
    from bot.core.models import Platform
    from messages.content import PLATFORMS

    assert set(PLATFORMS) == {Platform.SLACK, Platform.TEAMS}


def test_a_text_one_platform_file_lacks(tree: Path) -> None:
    teams = tree / "en" / "teams.toml"
    replace_line(teams, "status_paused", "")
    message = error_of(tree)
    assert "teams.toml" in message and "'ui.status_paused' is missing" in message
    assert "slack.toml has it" in message


def test_a_section_text_one_platform_file_lacks(tree: Path) -> None:
    slack = tree / "en" / "slack.toml"
    replace_line(slack, "error_unknown", "")
    message = error_of(tree)
    assert "slack.toml" in message and "'meetings.invite_form.error_unknown'" in message


def test_a_platform_text_also_in_the_shared_file(tree: Path) -> None:
    ui = tree / "en" / "ui.toml"
    ui.write_text(ui.read_text(encoding="utf-8") + '\nhelp_body = "Both"\n', encoding="utf-8")
    message = error_of(tree)
    assert "ui.toml" in message and "'help_body' is also in slack.toml, teams.toml" in message


def test_platform_versions_with_different_placeholders(tree: Path) -> None:
    teams = tree / "en" / "teams.toml"
    replace_line(teams, "hours_now", 'hours_now = "Your hours: {hours}."')
    message = error_of(tree)
    assert "'ui.hours_now' has different placeholders per platform" in message
    assert "slack.toml uses days, hours, zone; teams.toml uses hours" in message


def test_a_platform_text_with_an_unknown_placeholder(tree: Path) -> None:
    for name in ("slack", "teams"):
        replace_line(tree / "en" / f"{name}.toml", "paused", 'paused = "Paused {when}."')
    message = error_of(tree)
    assert "slack.toml: field 'ui.paused' uses unknown placeholder(s) when" in message


def test_an_unknown_field_in_a_platform_file(tree: Path) -> None:
    teams = tree / "en" / "teams.toml"
    teams.write_text(
        teams.read_text(encoding="utf-8").replace("[ui]\n", '[ui]\nhome_tab_words = "x"\n'),
        encoding="utf-8",
    )
    assert "teams.toml: unknown field 'ui.home_tab_words'" in error_of(tree)


def test_a_missing_platform_file_next_to_the_other(tree: Path) -> None:
    (tree / "en" / "teams.toml").unlink()
    assert "teams.toml: file is missing" in error_of(tree)


def test_a_folder_without_platform_files_says_everything_the_same_way(tree: Path) -> None:
    """A copy edited before the platform files existed: every text in the shared files."""
    folder = tree / "en"
    slack = tomllib.loads((folder / "slack.toml").read_text(encoding="utf-8"))
    with (folder / "ui.toml").open("a", encoding="utf-8") as ui:
        for key, text in slack["ui"].items():
            ui.write(f"\n{key} = {json.dumps(text)}\n")
    for part in ("checkins", "meetings"):
        path = folder / f"{part}.toml"
        text = path.read_text(encoding="utf-8")
        for section, texts in slack[part].items():
            lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in texts.items())
            text = text.replace(f"[{section}]\n", f"[{section}]\n{lines}", 1)
        path.write_text(text, encoding="utf-8")
    (folder / "slack.toml").unlink()
    (folder / "teams.toml").unlink()
    loaded = load_content(tree)
    slack_texts, teams_texts = loaded.for_locale("en", "slack"), loaded.for_locale("en", "teams")
    assert slack_texts.ui == teams_texts.ui == load_content().for_locale("en", "slack").ui
    assert slack_texts.checkins == teams_texts.checkins

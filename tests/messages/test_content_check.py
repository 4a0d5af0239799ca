"""`notpromoted content check` across languages: what loading alone lets through."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app.cli import main
from messages.content_check import check_content
from messages.loader import ContentError, load_content
from tests.messages.conftest import replace_line


def problems_of(root: Path) -> list[str]:
    return [str(problem) for problem in check_content(load_content(root))]


def test_the_shipped_content_has_no_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_content(load_content()) == []
    assert main(["content", "check"]) == 0
    shown = capsys.readouterr().out
    assert "de, en, es, fr" in shown


def test_a_translation_that_drops_a_placeholder(shipped_tree: Path) -> None:
    replace_line(
        shipped_tree / "es" / "ui.toml", "chose_snooze", 'chose_snooze = "Te lo recuerdo luego."'
    )
    slack, teams = problems_of(shipped_tree)  # the text is the same on both platforms
    assert slack.startswith("es/slack: chose_snooze:") and "{when}" in slack
    assert teams.startswith("es/teams: chose_snooze:")


def test_a_button_too_long_for_a_phone(shipped_tree: Path) -> None:
    replace_line(
        shipped_tree / "es" / "ui.toml",
        "button_snooze",
        'button_snooze = "Recuérdamelo mañana por la mañana, por favor"',
    )
    found = problems_of(shipped_tree)
    assert len(found) == 2  # both platforms show it
    assert "button_snooze" in found[0] and "more than 30" in found[0] and "phone" in found[0]


def test_a_modal_title_too_long_for_slack(shipped_tree: Path) -> None:
    replace_line(
        shipped_tree / "es" / "ui.toml",
        "hours_form_title",
        'hours_form_title = "Tu horario de trabajo y tu zona horaria"',
    )
    assert any("hours_form_title" in p and "more than 24" in p for p in problems_of(shipped_tree))


def test_a_language_word_the_help_does_not_list(shipped_tree: Path) -> None:
    (shipped_tree / "es" / "commands.toml").write_text(
        (shipped_tree / "es" / "commands.toml")
        .read_text(encoding="utf-8")
        .replace('status = ["estado"', 'status = ["situacion"'),
        encoding="utf-8",
    )
    found = problems_of(shipped_tree)
    assert found and all("help_body" in p and "situacion" in p for p in found)


def test_a_folder_babel_does_not_know(shipped_tree: Path) -> None:
    shutil.copytree(shipped_tree / "en", shipped_tree / "klingon")
    assert any(p.startswith("klingon/-: (folder)") for p in problems_of(shipped_tree))


def test_a_word_two_commands_share_is_refused_when_loading(shipped_tree: Path) -> None:
    path = shipped_tree / "es" / "commands.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('help = ["ayuda"', 'help = ["estado"'),
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="'estado'"):
        load_content(shipped_tree)


def test_an_english_word_for_another_command_is_refused(shipped_tree: Path) -> None:
    path = shipped_tree / "es" / "commands.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('help = ["ayuda"', 'help = ["stop"'),
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="already means 'stop'"):
        load_content(shipped_tree)


def test_the_default_language_needs_a_folder(shipped_tree: Path) -> None:
    with pytest.raises(ContentError, match="NOTPROMOTED_DEFAULT_LOCALE"):
        load_content(shipped_tree, default_locale="ja")
    assert (
        load_content(shipped_tree, default_locale="de-AT").for_locale("ja", "slack").locale == "de"
    )


def test_the_command_lists_every_problem_and_fails(
    shipped_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replace_line(shipped_tree / "es" / "ui.toml", "chose_snooze", 'chose_snooze = "Luego."')
    replace_line(shipped_tree / "fr" / "ui.toml", "button_snooze", f'button_snooze = "{"x" * 31}"')
    assert main(["content", "check", "--dir", str(shipped_tree)]) == 1
    err = capsys.readouterr().err
    assert "es/slack: chose_snooze" in err and "fr/teams: button_snooze" in err
    assert "problem(s) in the content" in err

"""Which language a person reads, through the real Slack endpoint: their own choice, then their
Slack locale (users.info), then the deployment's default, then English; a folder an HR team
adds is picked the same way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Person
from bot.demo import slack_requests
from messages.content import Content
from messages.loader import PACKAGED_CONTENT, load_content
from tests.bot.slack.app_home import latest_home, open_form_from, open_home
from tests.conftest import BotFactory, RunningBot, text_of

CONTENT = load_content()


def first_stage(language: str) -> str:
    return CONTENT.for_locale(language, "slack").stages["pause"].title


@pytest.mark.parametrize(
    ("slack_locale", "language"),
    [
        ("de-DE", "de"),
        ("fr-FR", "fr"),
        ("es-ES", "es"),
        ("es-419", "es"),
        ("de-AT", "de"),
        ("fr-CA", "fr"),
        ("ja-JP", "en"),
        ("en-US", "en"),
    ],
)
def test_the_first_stage_comes_in_the_language_slack_says(
    start_bot: BotFactory, slack_locale: str, language: str
) -> None:
    bot = start_bot()
    bot.standin.add_user("U0P", locale=slack_locale)
    ack = bot.command("U0P").json()
    [stage] = bot.dms("U0P", 1)
    texts = CONTENT.for_locale(language, "slack")
    assert first_stage(language) in text_of(stage.blocks)
    assert texts.text("step_note", number=1, total=10) in text_of(stage.blocks)
    assert texts.text("button_next") in json.dumps(stage.blocks, ensure_ascii=False)
    assert ack["text"] == texts.text("ack_started")
    if language != "en":
        assert first_stage("en") not in text_of(stage.blocks)


def test_the_deployment_default_is_for_people_whose_language_has_no_folder(
    start_bot: BotFactory,
) -> None:
    bot = start_bot(default_locale="de")
    bot.standin.add_user("U0JA", locale="ja-JP")
    bot.standin.add_user("U0FR", locale="fr-FR")
    bot.command("U0JA")
    bot.command("U0FR")
    assert first_stage("de") in text_of(bot.dms("U0JA", 1)[0].blocks)
    assert first_stage("fr") in text_of(bot.dms("U0FR", 1)[0].blocks)


def test_a_person_chooses_their_language_and_what_comes_next_follows_it(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.standin.add_user("U0P", locale="de-DE")
    bot.command("U0P")
    [stage] = bot.dms("U0P", 1)
    french = CONTENT.for_locale("fr", "slack")
    answer = bot.command("U0P", "language fr").json()
    assert answer["text"] == french.text("language_set")
    bot.click("U0P", stage, ids.STAGE_NEXT)
    second = bot.dms("U0P", 2)[1]
    assert french.stages["professional"].title in text_of(second.blocks)
    # The German stage already sent stays German: only its buttons gave way to the note.
    assert first_stage("de") in text_of(stage.blocks)
    # Their own words in their language work, and the help lists them.
    status = bot.command("U0P", "statut").json()
    assert french.text("status_current", number=2, total=10, title="")[:8] in status["text"]
    help_text = bot.command("U0P", "aide").json()["text"]
    assert "langue" in help_text
    # Back to what Slack says.
    answer = bot.command("U0P", "langue auto").json()
    assert answer["text"] == CONTENT.for_locale("de", "slack").text("language_automatic_set")
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(Person)).one().language is None


def test_a_language_there_is_none_of_gets_a_clear_answer_and_changes_nothing(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.standin.add_user("U0P", locale="es-ES")
    answer = bot.command("U0P", "language klingon").json()["text"]
    spanish = CONTENT.for_locale("es", "slack")
    assert "klingon" in answer and "Deutsch" in answer and "Français" in answer
    assert answer.startswith(spanish.text("language_bad", text="klingon", languages="")[:20])
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(Person)).one().language is None


def test_the_home_form_changes_the_language_of_the_home_and_of_the_export(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.standin.add_user("U0P", locale="en-GB")
    bot.command("U0P")
    bot.dms("U0P", 1)
    view = open_home(bot, "U0P", "Ev1")
    english_home = CONTENT.for_locale("en", "slack")
    assert english_home.text("home_button_language") in json.dumps(view)
    form = open_form_from(bot, "U0P", view, ids.OPEN_LANGUAGE_FORM)
    options = form["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == ["auto", "de", "en", "es", "fr"]
    assert form["blocks"][0]["element"]["initial_option"]["value"] == "auto"
    published = len(bot.standin.calls_to("views.publish"))
    saved = submit_choice(bot, "U0P", form, "es")
    spanish = CONTENT.for_locale("es", "slack")
    assert saved["response_action"] == "update"
    assert spanish.text("language_set") in json.dumps(saved["view"], ensure_ascii=False)
    bot.standin.wait_for_calls("views.publish", published + 1)
    home = json.dumps(latest_home(bot), ensure_ascii=False)
    assert spanish.text("home_button_language") in home
    assert english_home.text("home_button_export") not in home
    reply = bot.command("U0P", "exportar").json()
    assert reply["text"] == spanish.text("export_sending")
    assert bot.standin.wait_for(lambda: len(bot.standin.shared_files) == 1)
    exported = json.loads(bot.standin.shared_files[0]["content"])
    assert exported["person"]["language_chosen"] == "es"
    assert exported["about"]["language"] == "es"
    assert exported["about"]["sections"]["goals"] == spanish.text("export_section_goals")
    assert "goals" in exported  # the parts keep their names, for programs
    bot.settle()


def test_a_form_sent_back_with_a_language_there_is_none_of_is_refused(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.standin.add_user("U0P", locale="en-GB")
    bot.command("U0P")
    view = open_home(bot, "U0P", "Ev1")
    form = open_form_from(bot, "U0P", view, ids.OPEN_LANGUAGE_FORM)
    answer = submit_choice(bot, "U0P", form, "xx")
    assert answer["response_action"] == "errors"
    assert "xx" in answer["errors"]["language"]


def test_working_days_typed_in_the_persons_language(start_bot: BotFactory) -> None:
    bot = start_bot()
    bot.standin.add_user("U0P", locale="de-DE")
    answer = bot.command("U0P", "arbeitszeit 08:00-16:00 mo-do").json()["text"]
    assert "Montag, Dienstag, Mittwoch, Donnerstag" in answer
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(Person)).one().work_days == "mon-thu"


def test_a_folder_an_hr_team_adds_is_picked_by_its_slack_locale(
    start_bot: BotFactory, tmp_path: Path
) -> None:
    root = tmp_path / "content"
    shutil.copytree(PACKAGED_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(root / "en", root / "pt")
    stage = root / "pt" / "stages" / "pause.toml"
    title = first_stage("en")
    stage.write_text(
        stage.read_text(encoding="utf-8").replace(title, "Dê a si mesmo um momento"),
        encoding="utf-8",
    )
    bot = start_bot(content_dir=root)
    bot.standin.add_user("U0PT", locale="pt-BR")
    bot.command("U0PT")
    assert "Dê a si mesmo um momento" in text_of(bot.dms("U0PT", 1)[0].blocks)


def submit_choice(bot: RunningBot, user: str, form: dict[str, Any], value: str) -> Any:
    values = {"language": {"type": "radio_buttons", "selected_option": {"value": value}}}
    body, kind = slack_requests.view_submission(
        user_id=user, team_id="T0TEST", view=form, values=values
    )
    response = bot.post(body, kind)
    return response.json() if response.content else None


def test_every_shipped_language_is_in_the_content() -> None:
    content: Content = CONTENT
    assert {"de", "en", "es", "fr"} <= set(content.locales)

"""The language Teams sends with each activity picks the person's texts, through the real
endpoint; their own choice (`language`, in any language's words) comes first."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Person
from messages.loader import load_content
from tests.bot.teams.harness import ALEX, TeamsFactory, card_text

CONTENT = load_content()


@pytest.mark.parametrize(
    ("teams_locale", "language"),
    [("de-DE", "de"), ("fr-FR", "fr"), ("es-ES", "es"), ("es-419", "es"), ("ja-JP", "en")],
)
def test_the_welcome_and_the_first_stage_come_in_the_language_teams_sends(
    start_teams: TeamsFactory, teams_locale: str, language: str
) -> None:
    teams = start_teams()
    teams.locales[ALEX] = teams_locale
    texts = CONTENT.for_locale(language, "teams")
    teams.install(ALEX)
    [welcome] = teams.cards(ALEX, 1)
    assert texts.text("home_welcome_title") in card_text(welcome.card)
    teams.say(ALEX, texts.word("start"))
    stage = teams.cards(ALEX, 3)[-1]
    assert texts.stages["pause"].title in card_text(stage.card)
    assert texts.text("step_note", number=1, total=10) in card_text(stage.card)


def test_a_choice_in_the_chat_wins_over_the_language_teams_sends(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.locales[ALEX] = "de-DE"
    teams.say(ALEX, "start")
    teams.cards(ALEX, 2)
    spanish = CONTENT.for_locale("es", "teams")
    teams.say(ALEX, "idioma es")
    assert spanish.text("language_set") in card_text(teams.cards(ALEX, 3)[-1].card)
    # Teams keeps sending de-DE with every activity; the choice stands.
    teams.say(ALEX, "estado")
    assert spanish.text("status_waiting") in card_text(teams.cards(ALEX, 4)[-1].card)
    with Session(teams.runtime.engine) as session:
        person = session.exec(select(Person)).one()
    assert (person.locale, person.language) == ("de-DE", "es")


def test_the_language_dialog_lists_every_language_and_changes_it(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.say(ALEX, "start")
    teams.cards(ALEX, 2)
    teams.say(ALEX, "language")
    [*_, shown] = teams.cards(ALEX, 3)
    english = CONTENT.for_locale("en", "teams")
    assert "English" in card_text(shown.card) and "Français" in card_text(shown.card)
    opened = teams.open_from(ALEX, shown, ids.OPEN_LANGUAGE_FORM).json()
    form = opened["task"]["value"]["card"]["content"]
    [choices] = [e for e in form["body"] if e.get("id") == "language"]
    assert [c["value"] for c in choices["choices"]] == ["auto", "de", "en", "es", "fr"]
    assert choices["value"] == "auto"
    submit = form["actions"][0]["data"]
    refused = teams.submit(ALEX, {**submit, "language": "x" * 500}).json()
    assert refused["task"]["type"] == "continue"  # the dialog stays, with what went wrong
    assert english.text("language_bad", text="", languages="")[:10] in card_text(
        refused["task"]["value"]["card"]["content"]
    )
    teams.submit(ALEX, {**submit, "language": "fr"})
    french = CONTENT.for_locale("fr", "teams")
    teams.say(ALEX, "statut")
    assert french.text("status_waiting") in card_text(teams.cards(ALEX)[-1].card)
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(Person)).one().language == "fr"

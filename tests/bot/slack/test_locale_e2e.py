"""A second language added as files is picked by the person's Slack locale; English otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.core import ids
from messages.loader import PACKAGED_CONTENT
from tests.conftest import BotFactory, text_of


def _content_with_french(folder: Path) -> Path:
    root = folder / "content"
    shutil.copytree(PACKAGED_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    # Only English stays from the shipped languages: this test adds its own French.
    for folder in root.iterdir():
        if folder.is_dir() and folder.name != "en":
            shutil.rmtree(folder)
    french = root / "fr"
    shutil.copytree(root / "en", french)
    ui = (french / "ui.toml").read_text(encoding="utf-8")
    ui = ui.replace(
        'button_next = "I\'m ready for the next step"', 'button_next = "Je suis prêt pour la suite"'
    )
    ui = ui.replace(
        'step_note = "Step {number} of {total}"', 'step_note = "Étape {number} sur {total}"'
    )
    (french / "ui.toml").write_text(ui, encoding="utf-8")
    stage = french / "stages" / "pause.toml"
    text = stage.read_text(encoding="utf-8")
    stage.write_text(
        text.replace(
            'title = "Give yourself a moment before you respond"', 'title = "Prenez un moment"'
        ),
        encoding="utf-8",
    )
    return root


def test_french_locale_is_picked_and_english_is_the_fallback(
    start_bot: BotFactory, tmp_path: Path
) -> None:
    bot = start_bot(content_dir=_content_with_french(tmp_path))
    bot.standin.add_user("U0FR", locale="fr-FR")
    bot.standin.add_user("U0DE", locale="de-DE")
    bot.command("U0FR")
    bot.command("U0DE")
    french = bot.dms("U0FR", 1)[0]
    german = bot.dms("U0DE", 1)[0]
    assert "Prenez un moment" in text_of(french.blocks)
    assert "Étape 1 sur 10" in text_of(french.blocks)
    assert "Je suis prêt pour la suite" in text_of(french.blocks)
    assert "Give yourself a moment before you respond" in text_of(german.blocks)
    assert "Step 1 of 10" in text_of(german.blocks)
    # Later replies to the French speaker stay in French.
    bot.click("U0FR", french, ids.STAGE_NEXT)
    assert "Étape 2 sur 10" in text_of(bot.dms("U0FR", 2)[1].blocks)

"""`.env.example` documents every variable the settings read, and loads as it stands."""

from __future__ import annotations

import re
from pathlib import Path

from dotenv import dotenv_values

from bot.core.config_loading import LINK_VARIABLES, load_settings

ROOT = Path(__file__).resolve().parents[3]
# The settings' modules: whichever of them reads a variable (today config_loading) is checked.
SETTINGS_MODULES = sorted((ROOT / "bot" / "core").glob("config*.py"))


def test_every_variable_read_is_documented() -> None:
    source = "".join(path.read_text(encoding="utf-8") for path in SETTINGS_MODULES)
    read = set(re.findall(r'get\("([A-Z_]+)"\)', source)) | set(LINK_VARIABLES.values())
    documented = set(dotenv_values(ROOT / ".env.example"))
    assert len(read) > 10
    assert read - documented == set()
    assert documented - read == set()


def test_the_example_loads() -> None:
    values = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
    settings = load_settings(values)
    assert settings.display_name == "Next Step"
    assert settings.slack_api_url == "https://slack.com/api/"

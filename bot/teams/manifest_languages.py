"""The Teams app package in every language of the content: the manifest in English, and one
localization file per other language (Teams shows the one matching the client's language).

What is translated: the app's short and full description, the Home tab's name and the
command menu, whose titles are each language's own words (`commands.toml`: a German menu
offers "stand", which the bot reads as status). The app's name stays the deployment's
(NOTPROMOTED_DISPLAY_NAME). Teams' localization schema names each translated field by its
path in the manifest.
"""

from __future__ import annotations

from typing import Any

from messages.content import DEFAULT_LOCALE, Content, LocaleContent
from messages.schema import TEAMS_MENU

LOCALIZATION_SCHEMA = (
    "https://developer.microsoft.com/json-schemas/teams/v{version}/"
    "MicrosoftTeams.Localization.schema.json"
)
SHORT_NAME_LIMIT = 30
# The Home tab's place among the manifest's static tabs (the chat comes first).
HOME_TAB_INDEX = 1


def descriptions(locale: LocaleContent) -> dict[str, str]:
    return {
        "short": locale.text("app_description_short"),
        "full": locale.text("app_description_full"),
    }


def command_menu(locale: LocaleContent) -> list[dict[str, str]]:
    """The chat's command menu: each entry's word in this language, and what it does."""
    return [
        {"title": locale.word(command), "description": locale.text(f"menu_{command}")}
        for command in TEAMS_MENU
    ]


def file_name(language: str) -> str:
    return f"{language.lower()}.json"


def localization_info(content: Content) -> dict[str, Any]:
    """The manifest's `localizationInfo`: English by default, a file for each other language."""
    return {
        "defaultLanguageTag": DEFAULT_LOCALE,
        "additionalLanguages": [
            {"languageTag": name, "file": file_name(name)}
            for name in sorted(content.locales)
            if name != DEFAULT_LOCALE
        ],
    }


def localization_files(
    content: Content, *, display_name: str, manifest_version: str
) -> dict[str, dict[str, Any]]:
    """Each other language's file, by its name in the package."""
    files: dict[str, dict[str, Any]] = {}
    for name in sorted(content.locales):
        if name == DEFAULT_LOCALE:
            continue
        locale = content.locales[name]["teams"]
        texts: dict[str, Any] = {
            "$schema": LOCALIZATION_SCHEMA.format(version=manifest_version),
            "name.short": display_name[:SHORT_NAME_LIMIT],
            "name.full": display_name,
            "description.short": locale.text("app_description_short"),
            "description.full": locale.text("app_description_full"),
        }
        texts[f"staticTabs[{HOME_TAB_INDEX}].name"] = locale.text("tab_name")
        for index, entry in enumerate(command_menu(locale)):
            path = f"bots[0].commandLists[0].commands[{index}]"
            texts[f"{path}.title"] = entry["title"]
            texts[f"{path}.description"] = entry["description"]
        files[file_name(name)] = texts
    return files

"""The guidance content as loaded: stages, each locale's texts, the timing, and the locale a
platform's language tag picks; what the bot reads, apart from reading and checking the files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from messages.formatting import plain_word
from messages.schema import COMMANDS

DEFAULT_LOCALE = "en"
# The platforms a person may be on; each locale folder holds one file of the texts that differ
# between them (slack.toml, teams.toml). bot.core.models.Platform uses the same names.
PLATFORMS = ("slack", "teams")


@dataclass(frozen=True)
class StageLink:
    key: str
    text: str


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    body: str
    todo: str
    links: tuple[StageLink, ...]


@dataclass(frozen=True)
class Timing:
    feedback_nudge_working_days: int = 3
    feedback_later_working_days: int = 2
    feedback_followup_working_days: int = 3
    goals_nudge_working_days: int = 7
    goal_progress_days: tuple[int, ...] = (14, 42)
    looking_back_days: int = 90
    spread_minutes: int = 10


@dataclass(frozen=True)
class LocaleContent:
    """One locale's texts as a person on one platform reads them."""

    locale: str
    platform: str
    stages: dict[str, Stage]
    ui: dict[str, str]
    checkins: dict[str, dict[str, str]]
    # Each command's own words in this language, the first shown in the help ("status":
    # ("stand",)); the English words work in every language and are not repeated here.
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def text(self, key: str, **values: object) -> str:
        return self.ui[key].format(**values) if values else self.ui[key]

    def checkin(self, section: str, key: str, **values: object) -> str:
        text = self.checkins[section][key]
        return text.format(**values) if values else text

    def word(self, command: str) -> str:
        """The word this language shows for `command` (its own, else the English one)."""
        own = self.commands.get(command)
        return own[0] if own else command


@dataclass(frozen=True)
class Content:
    stage_order: tuple[str, ...]
    safety_net_stage: str
    # Each locale folder's texts, per platform.
    locales: dict[str, dict[str, LocaleContent]]
    timing: Timing = Timing()
    feedback_helper_stage: str | None = None
    goals_helper_stage: str | None = None
    manager_helper_stage: str | None = None
    # The deployment's language for people whose own and whose platform's have no folder.
    default_locale: str = DEFAULT_LOCALE
    # Every word a person may type (the English ones and each language's, without accents) to
    # the command it names; built and checked by the loader.
    words: dict[str, str] = field(default_factory=lambda: {c: c for c in COMMANDS})

    def for_locale(self, tag: str | None, platform: str) -> LocaleContent:
        """The texts for a person on `platform` (one of PLATFORMS) whose language tag is `tag`:
        the best folder for "fr-FR" is fr-FR, then fr; then the deployment's default; then
        English."""
        if platform not in PLATFORMS:
            raise ValueError(f"no texts for the platform {platform!r}")
        folder = self.folder_for(tag) or self.folder_for(self.default_locale) or DEFAULT_LOCALE
        return self.locales[folder][platform]

    def folder_for(self, tag: str | None) -> str | None:
        """The locale folder that fits a language tag ("es-419" -> "es"); None if none does."""
        if not tag:
            return None
        normalized = tag.replace("_", "-").lower()
        for candidate in (normalized, normalized.split("-")[0]):
            for name in self.locales:
                if name.lower() == candidate:
                    return name
        return None

    def command_for(self, word: str) -> str | None:
        """The command a word names, in English or in any language's own words, with or without
        its accents ("gesprach" is "gespräch"); None if no command. Words are read in every
        language (the loader refuses one that two commands share), so nobody has to be
        recognised first to be understood."""
        return self.words.get(plain_word(word))

    def position(self, stage_id: str) -> int:
        """1-based position of a stage; stages no longer in the order count as the first."""
        return self.stage_order.index(stage_id) + 1 if stage_id in self.stage_order else 1

    def next_stage(self, stage_id: str) -> str | None:
        number = self.position(stage_id)
        return self.stage_order[number] if number < len(self.stage_order) else None


# A language tag as platforms send them ("fr-FR", "es_419", "zh-Hant-TW"), in the 16
# characters a person's row keeps.
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
LANGUAGE_TAG_LIMIT = 16


def language_tag(value: object) -> str | None:
    """A platform's locale when it looks like a language tag that fits the row; else None
    (English, or the deployment's default). Platforms' profile fields are input like any
    other: a 5,000-character one must not stop a person's messages."""
    if not isinstance(value, str) or len(value) > LANGUAGE_TAG_LIMIT:
        return None
    return value if LANGUAGE_TAG.fullmatch(value) else None

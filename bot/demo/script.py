"""What the demo's narrator says and what its people type, in the language the demo plays in
(`notpromoted demo --locale de`): one file per language in bot/demo/scripts/. The bot's own
words are never here: they come from the content, in the language the stand-in reports for
the demo's people, as they would from Slack or Teams."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.dates import format_datetime

from messages.formatting import babel_locale

SCRIPTS = Path(__file__).parent / "scripts"
DEFAULT = "en"


class UnknownScript(ValueError):
    """No script in the language asked for; the message lists those there are."""


def languages() -> list[str]:
    return sorted(path.stem for path in SCRIPTS.glob("*.toml"))


@dataclass(frozen=True)
class Script:
    language: str
    # The language tag the stand-in reports for the demo's people ("de-DE"), and their zone.
    locale: str
    zone: str
    moment_pattern: str
    texts: dict[str, str]
    lists: dict[str, tuple[str, ...]]

    def text(self, key: str, **values: object) -> str:
        return self.texts[key].format(**values) if values else self.texts[key]

    def lines(self, key: str, **values: object) -> tuple[str, ...]:
        return tuple(line.format(**values) for line in self.lists[key])

    def moment(self, local: datetime) -> str:
        """A moment of the story as its narrator stamps it ("Monday 07 December, 09:30")."""
        return format_datetime(local, self.moment_pattern, locale=babel_locale(self.language))


def load_script(language: str | None = None) -> Script:
    wanted = (language or DEFAULT).replace("_", "-").split("-")[0].lower()
    path = SCRIPTS / f"{wanted}.toml"
    if wanted not in languages():
        raise UnknownScript(
            f"the demo plays in {', '.join(languages())}, not {language!r} "
            "(the bot itself writes in every language of the content)"
        )
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    texts = {k: v for k, v in raw.items() if isinstance(v, str)}
    lists = {k: tuple(v) for k, v in raw.items() if isinstance(v, list)}
    return Script(
        language=wanted,
        locale=texts.pop("locale"),
        zone=texts.pop("zone"),
        moment_pattern=texts.pop("moment"),
        texts=texts,
        lists=lists,
    )

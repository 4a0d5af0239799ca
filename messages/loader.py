"""Load and validate the guidance content: journey.toml plus one folder per locale."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import LINK_KEYS

DEFAULT_LOCALE = "en"
PACKAGED_CONTENT = Path(__file__).parent

# Each UI string and the placeholders it may use.
UI_KEYS: dict[str, frozenset[str]] = {
    key: frozenset(fields.split()) if fields else frozenset()
    for key, fields in {
        "notification": "app_name",
        "step_note": "number total",
        "todo_lead": "",
        "button_next": "",
        "button_finish": "",
        "button_snooze": "",
        "button_stop": "",
        "button_start": "",
        "chose_next": "",
        "chose_finish": "",
        "chose_snooze": "when",
        "chose_stop": "",
        "button_expired": "",
        "superseded": "",
        "when_tomorrow": "time",
        "when_weekday": "weekday time",
        "when_later": "date time",
        "weekdays": "",
        "finished_title": "",
        "finished_body": "",
        "finished_todo": "",
        "ack_started": "",
        "ack_resumed": "",
        "ack_resumed_paused": "",
        "ack_unavailable": "",
        "ack_dm_failed": "app_name",
        "help_title": "",
        "help_body": "",
        "unknown_command": "text",
        "safety_net": "",
        "safety_net_eap": "",
        "status_none": "",
        "status_current": "number total title",
        "status_waiting": "",
        "status_snoozed": "when",
        "status_paused": "",
        "status_finished": "",
        "paused": "",
        "already_paused": "",
        "resumed": "",
        "not_paused": "",
        "stopped": "",
        "nothing_to_stop": "",
        "forget_prompt": "",
        "forget_confirm": "",
        "forget_cancel": "",
        "forgotten": "",
        "forget_cancelled": "",
        "nothing_to_forget": "",
        "home_welcome_title": "",
        "home_welcome_body": "",
        "home_journey": "number total title",
        "home_paused": "number total",
        "home_finished": "",
    }.items()
}

STAGE_FIELDS = {"title", "body", "todo", "links"}
TITLE_LIMIT = 150  # Slack's header block limit
BODY_LIMIT = 2900  # under Slack's 3,000 characters per section


class ContentError(Exception):
    """A content file is missing or wrong; the message names the file and the field."""


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
class LocaleContent:
    locale: str
    stages: dict[str, Stage]
    ui: dict[str, str]

    def text(self, key: str, **values: object) -> str:
        return self.ui[key].format(**values) if values else self.ui[key]

    @property
    def weekdays(self) -> tuple[str, ...]:
        return tuple(day.strip() for day in self.ui["weekdays"].split(","))


@dataclass(frozen=True)
class Content:
    stage_order: tuple[str, ...]
    safety_net_stage: str
    locales: dict[str, LocaleContent]

    def for_locale(self, tag: str | None) -> LocaleContent:
        """The best folder for a Slack locale like "fr-FR": fr-FR, then fr, then English."""
        if tag:
            normalized = tag.replace("_", "-")
            for candidate in (normalized, normalized.split("-")[0]):
                for name, locale in self.locales.items():
                    if name.lower() == candidate.lower():
                        return locale
        return self.locales[DEFAULT_LOCALE]

    def position(self, stage_id: str) -> int:
        """1-based position of a stage; stages no longer in the order count as the first."""
        return self.stage_order.index(stage_id) + 1 if stage_id in self.stage_order else 1

    def next_stage(self, stage_id: str) -> str | None:
        number = self.position(stage_id)
        return self.stage_order[number] if number < len(self.stage_order) else None


def load_content(root: Path | None = None) -> Content:
    root = root or PACKAGED_CONTENT
    journey_file = root / "journey.toml"
    journey = _read_toml(journey_file)
    order = journey.get("stages")
    if not isinstance(order, list) or not order or not all(isinstance(s, str) for s in order):
        raise ContentError(f"{journey_file}: field 'stages' must be a non-empty list of stage ids")
    if len(set(order)) != len(order):
        raise ContentError(f"{journey_file}: field 'stages' lists a stage twice")
    safety_stage = journey.get("safety_net_stage", order[0])
    if not isinstance(safety_stage, str) or safety_stage not in order:
        raise ContentError(f"{journey_file}: field 'safety_net_stage' is not one of 'stages'")

    locales: dict[str, LocaleContent] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "ui.toml").exists()):
        locales[folder.name] = _load_locale(folder, tuple(order))
    if DEFAULT_LOCALE not in locales:
        raise ContentError(f"{root}: the fallback locale folder '{DEFAULT_LOCALE}/' is missing")
    return Content(stage_order=tuple(order), safety_net_stage=safety_stage, locales=locales)


def _load_locale(folder: Path, order: tuple[str, ...]) -> LocaleContent:
    ui_file = folder / "ui.toml"
    raw_ui = _read_toml(ui_file)
    ui: dict[str, str] = {}
    for key, allowed in UI_KEYS.items():
        value = raw_ui.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ContentError(f"{ui_file}: field '{key}' is missing or empty")
        _check_placeholders(value, allowed, ui_file, key)
        ui[key] = value.strip()
    unknown = set(raw_ui) - set(UI_KEYS)
    if unknown:
        raise ContentError(f"{ui_file}: unknown field(s) {', '.join(sorted(unknown))}")
    if len([d for d in ui["weekdays"].split(",") if d.strip()]) != 7:
        raise ContentError(f"{ui_file}: field 'weekdays' must name seven days, Monday first")

    stages = {
        stage_id: _load_stage(folder / "stages" / f"{stage_id}.toml", stage_id)
        for stage_id in order
    }
    return LocaleContent(locale=folder.name, stages=stages, ui=ui)


def _load_stage(path: Path, stage_id: str) -> Stage:
    data = _read_toml(path)
    unknown = set(data) - STAGE_FIELDS
    if unknown:
        raise ContentError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
    fields: dict[str, str] = {}
    for name, limit in (("title", TITLE_LIMIT), ("body", BODY_LIMIT), ("todo", BODY_LIMIT)):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ContentError(f"{path}: field '{name}' is missing or empty")
        if len(value.strip()) > limit:
            raise ContentError(f"{path}: field '{name}' is longer than {limit} characters")
        fields[name] = value.strip()
    links: list[StageLink] = []
    raw_links = data.get("links", [])
    if not isinstance(raw_links, list):
        raise ContentError(f"{path}: field 'links' must be a list of [[links]] tables")
    for index, link in enumerate(raw_links):
        where = f"{path}: field 'links[{index}]"
        if not isinstance(link, dict) or link.get("key") not in LINK_KEYS:
            raise ContentError(f"{where}.key' must be one of {', '.join(LINK_KEYS)}")
        text = link.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ContentError(f"{where}.text' is missing or empty")
        links.append(StageLink(key=link["key"], text=text.strip()))
    return Stage(id=stage_id, links=tuple(links), **fields)


def _check_placeholders(value: str, allowed: frozenset[str], path: Path, key: str) -> None:
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as error:
        raise ContentError(f"{path}: field '{key}' has broken braces: {error}") from None
    unknown = used - allowed
    if unknown:
        hint = ", ".join(sorted(allowed)) or "none"
        raise ContentError(
            f"{path}: field '{key}' uses unknown placeholder(s) {', '.join(sorted(unknown))} "
            f"(allowed: {hint})"
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"{path}: file is missing") from None
    except tomllib.TOMLDecodeError as error:
        raise ContentError(f"{path}: not valid TOML: {error}") from None

"""Load and validate the guidance content: journey.toml plus one folder per locale."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path
from typing import Any

from messages.content import DEFAULT_LOCALE, Content, LocaleContent, Stage, StageLink, Timing
from messages.schema import (
    BODY_LIMIT,
    CHECKIN_KEYS,
    LINK_KEYS,
    MEETING_KEYS,
    SHORT_LIMITS,
    STAGE_FIELDS,
    TIMING_DAYS,
    TITLE_LIMIT,
    UI_KEYS,
)

PACKAGED_CONTENT = Path(__file__).parent


class ContentError(Exception):
    """A content file is missing or wrong; the message names the file and the field."""


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
    helpers: dict[str, str | None] = {}
    for name in ("feedback_helper_stage", "goals_helper_stage", "manager_helper_stage"):
        value = journey.get(name)
        if value is not None and value not in order:
            raise ContentError(f"{journey_file}: field '{name}' is not one of 'stages'")
        helpers[name] = value
    return Content(
        stage_order=tuple(order),
        safety_net_stage=safety_stage,
        locales=locales,
        timing=_timing(journey.get("timing"), journey_file),
        **helpers,
    )


def _timing(raw: object, path: Path) -> Timing:
    """The [timing] table; a field left out keeps its default."""
    if raw is None:
        return Timing()
    if not isinstance(raw, dict):
        raise ContentError(f"{path}: 'timing' must be a [timing] table")
    unknown = set(raw) - {*TIMING_DAYS, "spread_minutes", "goal_progress_days"}
    if unknown:
        raise ContentError(f"{path}: unknown field(s) timing.{', timing.'.join(sorted(unknown))}")
    defaults = Timing()
    days: dict[str, int] = {}
    for name in TIMING_DAYS:
        value = raw.get(name, getattr(defaults, name))
        if not _whole(value, 1, 3650):
            raise _bad_field(path, f"timing.{name}", "a whole number of days from 1 to 3650")
        days[name] = value
    spread_minutes = raw.get("spread_minutes", defaults.spread_minutes)
    if not _whole(spread_minutes, 0, 60):
        raise _bad_field(path, "timing.spread_minutes", "a whole number of minutes from 0 to 60")
    progress = raw.get("goal_progress_days", list(defaults.goal_progress_days))
    if (
        not isinstance(progress, list)
        or not progress
        or not all(_whole(d, 1, 3650) for d in progress)
        or sorted(set(progress)) != progress
    ):
        raise _bad_field(path, "timing.goal_progress_days", "a rising list of days, like [14, 42]")
    return Timing(goal_progress_days=tuple(progress), spread_minutes=spread_minutes, **days)


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _bad_field(path: Path, field: str, expected: str) -> ContentError:
    return ContentError(f"{path}: field '{field}' must be {expected}")


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
    checkins = _load_sections(folder / "checkins.toml", CHECKIN_KEYS)
    meetings = {
        f"meeting_{section}": texts
        for section, texts in _load_sections(folder / "meetings.toml", MEETING_KEYS).items()
    }
    return LocaleContent(
        locale=folder.name, stages=stages, ui=ui, checkins={**checkins, **meetings}
    )


def _load_sections(
    path: Path, spec: dict[str, dict[str, frozenset[str]]]
) -> dict[str, dict[str, str]]:
    data = _read_toml(path)
    unknown = set(data) - set(spec)
    if unknown:
        raise ContentError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    sections: dict[str, dict[str, str]] = {}
    for section, keys in spec.items():
        table = data.get(section)
        if not isinstance(table, dict):
            raise ContentError(f"{path}: section [{section}] is missing")
        extra = set(table) - set(keys)
        if extra:
            raise ContentError(f"{path}: unknown field(s) {section}.{', '.join(sorted(extra))}")
        texts: dict[str, str] = {}
        for key, allowed in keys.items():
            value = table.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ContentError(f"{path}: field '{section}.{key}' is missing or empty")
            limit = SHORT_LIMITS.get(
                (section, key), 75 if key.startswith("button_") else BODY_LIMIT
            )
            if len(value.strip()) > limit:
                raise ContentError(
                    f"{path}: field '{section}.{key}' is longer than {limit} characters"
                )
            _check_placeholders(value, allowed, path, f"{section}.{key}")
            texts[key] = value.strip()
        sections[section] = texts
    return sections


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

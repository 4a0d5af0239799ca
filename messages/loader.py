"""Load and validate the guidance content: journey.toml plus one folder per locale."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path
from typing import Any

from messages.content import (
    DEFAULT_LOCALE,
    PLATFORMS,
    Content,
    LocaleContent,
    Stage,
    StageLink,
    Timing,
)
from messages.formatting import plain_word
from messages.schema import (
    BODY_LIMIT,
    CHECKIN_KEYS,
    COMMAND_WORD_LIMIT,
    COMMAND_WORDS_PER_COMMAND,
    COMMANDS,
    LINK_KEYS,
    MEETING_KEYS,
    RETIRED_UI_KEYS,
    SHORT_LIMITS,
    STAGE_FIELDS,
    TIMING_DAYS,
    TITLE_LIMIT,
    UI_KEYS,
)

PACKAGED_CONTENT = Path(__file__).parent


class ContentError(Exception):
    """A content file is missing or wrong; the message names the file and the field."""


def load_content(root: Path | None = None, *, default_locale: str = DEFAULT_LOCALE) -> Content:
    """The content of `root` (the packaged content by default). `default_locale` is the
    deployment's language for people whose own has no folder (NOTPROMOTED_DEFAULT_LOCALE)."""
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

    locales: dict[str, dict[str, LocaleContent]] = {}
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
    content = Content(
        stage_order=tuple(order),
        safety_net_stage=safety_stage,
        locales=locales,
        timing=_timing(journey.get("timing"), journey_file),
        default_locale=default_locale,
        words=_command_words(root, locales),
        **helpers,
    )
    if content.folder_for(default_locale) is None:
        raise ContentError(
            f"{root}: no locale folder for the default language {default_locale!r} "
            f"(NOTPROMOTED_DEFAULT_LOCALE); the folders are {', '.join(sorted(locales))}"
        )
    return content


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


def _load_locale(folder: Path, order: tuple[str, ...]) -> dict[str, LocaleContent]:
    """The folder's texts once per platform: the shared files with that platform's own.

    A folder without any platform file (slack.toml, teams.toml) says everything the same way
    on every platform: all its texts are in the shared files (a copy edited before the
    platform files existed still loads).
    """
    ui_file = folder / "ui.toml"
    shared = {
        "ui": _read_toml(ui_file),
        # Read here only to find texts kept in both places; a missing file is named below.
        "checkins": _read_if_there(folder / "checkins.toml"),
        "meetings": _read_if_there(folder / "meetings.toml"),
    }
    files = {platform: folder / f"{platform}.toml" for platform in PLATFORMS}
    variants: dict[str, dict[str, Any]] = {platform: {} for platform in PLATFORMS}
    if any(path.exists() for path in files.values()):
        variants = {platform: _read_platform_file(path) for platform, path in files.items()}
    _check_variants(folder, shared, variants)
    ui = {
        platform: _load_ui(ui_file, shared["ui"], files[platform], variant)
        for platform, variant in variants.items()
    }
    shared["checkins"] = _read_toml(folder / "checkins.toml")
    shared["meetings"] = _read_toml(folder / "meetings.toml")
    stages = {
        stage_id: _load_stage(folder / "stages" / f"{stage_id}.toml", stage_id)
        for stage_id in order
    }
    commands = _load_commands(folder / "commands.toml")
    return {
        platform: LocaleContent(
            locale=folder.name,
            platform=platform,
            stages=stages,
            ui=ui[platform],
            checkins=_load_checkins(folder, shared, files[platform], variant),
            commands=commands,
        )
        for platform, variant in variants.items()
    }


def _load_ui(
    path: Path, raw: dict[str, Any], variant_file: Path, variant: dict[str, Any]
) -> dict[str, str]:
    own = variant.get("ui", {})
    ui: dict[str, str] = {}
    for key, allowed in UI_KEYS.items():
        where, value = (variant_file, own[key]) if key in own else (path, raw.get(key))
        name = f"ui.{key}" if key in own else key
        if not isinstance(value, str) or not value.strip():
            raise ContentError(f"{where}: field '{name}' is missing or empty")
        _check_placeholders(value, allowed, where, name)
        ui[key] = value.strip()
    unknown = set(raw) - set(UI_KEYS) - RETIRED_UI_KEYS
    if unknown:
        raise ContentError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
    return ui


def _load_commands(path: Path) -> dict[str, tuple[str, ...]]:
    """A language's own command words (commands.toml, optional): each command to one to three
    single lower-case words; the English words need not be listed."""
    raw = _read_if_there(path)
    unknown = set(raw) - set(COMMANDS)
    if unknown:
        raise ContentError(
            f"{path}: unknown command(s) {', '.join(sorted(unknown))} "
            f"(the commands are {', '.join(COMMANDS)})"
        )
    commands: dict[str, tuple[str, ...]] = {}
    for command, words in raw.items():
        fine = (
            isinstance(words, list)
            and 1 <= len(words) <= COMMAND_WORDS_PER_COMMAND
            and all(
                isinstance(w, str)
                and w == w.lower()
                and len(w) <= COMMAND_WORD_LIMIT
                and w.isalpha()
                for w in words
            )
        )
        if not fine:
            raise ContentError(
                f"{path}: field '{command}' must list 1 to {COMMAND_WORDS_PER_COMMAND} lower-case "
                f"words of letters only, at most {COMMAND_WORD_LIMIT} characters each"
            )
        commands[command] = tuple(words)
    return commands


def _command_words(root: Path, locales: dict[str, dict[str, LocaleContent]]) -> dict[str, str]:
    """Every word a person may type, in any language (without its accents), to its command.
    Words are read whatever the person's language, so a word two commands share, or another
    command's English word, is refused."""
    owner: dict[str, tuple[str, str]] = {command: (command, "English") for command in COMMANDS}
    for name, variants in sorted(locales.items()):
        for command, words in next(iter(variants.values())).commands.items():
            for word in words:
                taken = owner.setdefault(plain_word(word), (command, name))
                if taken[0] != command:
                    raise ContentError(
                        f"{root / name / 'commands.toml'}: the word {word!r} for '{command}' "
                        f"already means '{taken[0]}' ({taken[1]})"
                    )
    return {word: command for word, (command, _) in owner.items()}


def _load_checkins(
    folder: Path, shared: dict[str, dict[str, Any]], variant_file: Path, variant: dict[str, Any]
) -> dict[str, dict[str, str]]:
    checkins = _load_sections(
        folder / "checkins.toml", shared["checkins"], CHECKIN_KEYS, variant_file, variant
    )
    meetings = _load_sections(
        folder / "meetings.toml", shared["meetings"], MEETING_KEYS, variant_file, variant
    )
    return {**checkins, **{f"meeting_{section}": texts for section, texts in meetings.items()}}


def _load_sections(
    path: Path,
    data: dict[str, Any],
    spec: dict[str, dict[str, frozenset[str]]],
    variant_file: Path,
    variant: dict[str, Any],
) -> dict[str, dict[str, str]]:
    unknown = set(data) - set(spec)
    if unknown:
        raise ContentError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    part = path.stem  # "checkins" or "meetings": the table of a platform file that overrides
    sections: dict[str, dict[str, str]] = {}
    for section, keys in spec.items():
        table = data.get(section)
        own = variant.get(part, {}).get(section, {})
        if not isinstance(table, dict):
            raise ContentError(f"{path}: section [{section}] is missing")
        extra = set(table) - set(keys)
        if extra:
            raise ContentError(f"{path}: unknown field(s) {section}.{', '.join(sorted(extra))}")
        texts: dict[str, str] = {}
        for key, allowed in keys.items():
            if key in own:
                where, name, value = variant_file, f"{part}.{section}.{key}", own[key]
            else:
                where, name, value = path, f"{section}.{key}", table.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ContentError(f"{where}: field '{name}' is missing or empty")
            limit = SHORT_LIMITS.get(
                (section, key), 75 if key.startswith("button_") else BODY_LIMIT
            )
            if len(value.strip()) > limit:
                raise ContentError(f"{where}: field '{name}' is longer than {limit} characters")
            _check_placeholders(value, allowed, where, name)
            texts[key] = value.strip()
        sections[section] = texts
    return sections


def _read_if_there(path: Path) -> dict[str, Any]:
    return _read_toml(path) if path.exists() else {}


def _read_platform_file(path: Path) -> dict[str, Any]:
    """A platform's own texts: [ui], [checkins.<section>] and [meetings.<section>] tables of
    the keys the shared files leave to each platform."""
    data = _read_toml(path)
    unknown = set(data) - {"ui", "checkins", "meetings"}
    if unknown:
        raise ContentError(
            f"{path}: unknown table(s) {', '.join(sorted(unknown))} "
            "(allowed: [ui], [checkins.<section>], [meetings.<section>])"
        )
    specs = {"checkins": CHECKIN_KEYS, "meetings": MEETING_KEYS}
    for part in ("ui", "checkins", "meetings"):
        if not isinstance(data.get(part, {}), dict):
            raise ContentError(f"{path}: '{part}' must be a table")
    for key in data.get("ui", {}):
        if key not in UI_KEYS:
            raise ContentError(f"{path}: unknown field 'ui.{key}'")
    for part, spec in specs.items():
        for section, table in data.get(part, {}).items():
            if section not in spec or not isinstance(table, dict):
                raise ContentError(f"{path}: unknown section [{part}.{section}]")
            for key in table:
                if key not in spec[section]:
                    raise ContentError(f"{path}: unknown field '{part}.{section}.{key}'")
    return data


def _variant_texts(data: dict[str, Any]) -> dict[str, object]:
    """A platform file's texts by their dotted name: "ui.help_body", "checkins.goals_nudge.x"."""
    texts: dict[str, object] = {f"ui.{key}": value for key, value in data.get("ui", {}).items()}
    for part in ("checkins", "meetings"):
        for section, table in data.get(part, {}).items():
            texts.update({f"{part}.{section}.{key}": value for key, value in table.items()})
    return texts


def _check_variants(
    folder: Path, shared: dict[str, dict[str, Any]], variants: dict[str, dict[str, Any]]
) -> None:
    """A text that differs per platform has one version in every platform file, each with the
    same placeholders, and none in the shared files (where a translator would look first)."""
    texts = {platform: _variant_texts(data) for platform, data in variants.items()}
    every = sorted({name for found in texts.values() for name in found})
    for name in every:
        for platform, found in texts.items():
            if name not in found:
                others = ", ".join(f"{p}.toml" for p, t in texts.items() if name in t)
                raise ContentError(
                    f"{folder / f'{platform}.toml'}: field '{name}' is missing: {others} "
                    "has it, and a text that differs per platform needs a version for each"
                )
        part, _, rest = name.partition(".")
        section, _, key = rest.rpartition(".")
        table = shared[part].get(section, {}) if section else shared[part]
        if isinstance(table, dict) and key in table:
            shared_file = folder / f"{part}.toml"
            shown = f"{section}.{key}" if section else key
            raise ContentError(
                f"{shared_file}: field '{shown}' is also in "
                f"{', '.join(f'{p}.toml' for p in texts)}; a text that differs per platform "
                "lives only there"
            )
        used = {platform: _placeholders(found[name]) for platform, found in texts.items()}
        if len({frozenset(names) for names in used.values()}) > 1:
            listed = "; ".join(
                f"{platform}.toml uses {', '.join(sorted(names)) or 'none'}"
                for platform, names in used.items()
            )
            raise ContentError(
                f"{folder}: field '{name}' has different placeholders per platform ({listed}); "
                "every platform's version must use the same ones"
            )


def _placeholders(value: object) -> set[str]:
    if not isinstance(value, str):
        return set()
    try:
        return {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError:
        return set()  # broken braces: the field's own check names them


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

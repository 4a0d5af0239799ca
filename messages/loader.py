"""Load and validate the guidance content: journey.toml plus one folder per locale."""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_LOCALE = "en"
# The company's own resources a stage may point to; a deployment sets each one's address
# (bot.core.config reads NOTPROMOTED_<KEY>_URL).
LINK_KEYS = ("eap", "job_board", "learning", "mentoring", "hr_contact")
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
        "button_feedback_help": "",
        "button_write_goals": "",
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
        "goals_opening": "",
        "hours_now": "hours days zone",
        "hours_set": "hours days zone",
        "hours_bad": "",
        "hours_form_title": "",
        "hours_form_submit": "",
        "hours_form_close": "",
        "hours_form_hours": "",
        "hours_form_days": "",
        "hours_form_zone": "",
        "hours_form_zone_hint": "",
        "hours_zone_bad": "",
        "home_button_hours": "",
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
        "export_sending": "",
        "export_comment": "",
        "export_nothing": "",
        "home_next": "when what",
        "home_goals": "",
        "home_notes": "",
        "home_progress": "answer date",
        "home_note_keep": "text",
        "home_note_work_on": "text",
        "home_button_feedback": "",
        "home_button_goals": "",
        "goal_done": "",
        "goal_drop": "",
        "home_button_pause": "",
        "home_button_resume": "",
        "home_button_export": "",
        "home_button_erase": "",
        "erase_confirm_title": "",
        "erase_confirm_text": "",
        "erase_confirm_yes": "",
        "erase_confirm_no": "",
        "home_welcome_title": "",
        "home_welcome_body": "",
        "home_journey": "number total title",
        "home_paused": "number total",
        "home_finished": "",
        "report_title": "",
        "report_intro": "min_cell",
        "report_month": "",
        "report_journeys_started": "",
        "report_feedback_requested": "",
        "report_goals_set": "",
        "report_meetings_held": "",
        "report_journeys_completed": "",
        "report_hidden": "min_cell",
        "report_legend": "",
        "report_unavailable": "",
        "install_title": "app_name",
        "install_body": "app_name",
        "install_button": "",
        "installed_title": "app_name team",
        "installed_body": "app_name",
        "install_cancelled": "",
        "install_expired": "",
        "install_unavailable": "",
        "install_again": "",
        "not_installed": "app_name",
        "teams_someone": "",
        "teams_notes_saved": "",
    }.items()
}

# Each check-in section of checkins.toml, its keys and the placeholders each may use.
CHECKIN_KEYS: dict[str, dict[str, frozenset[str]]] = {
    section: {
        key: frozenset(fields.split()) if fields else frozenset() for key, fields in keys.items()
    }
    for section, keys in {
        "feedback_nudge": {
            "title": "",
            "body": "",
            "button_asked": "",
            "button_help": "",
            "button_later": "",
            "button_decline": "",
            "chose_asked": "",
            "chose_help": "",
            "chose_later": "when",
            "chose_decline": "",
        },
        "feedback_request": {
            "title": "",
            "intro": "",
            "focus_line": "focus",
            "draft_short": "focus_line",
            "draft_warm": "focus_line",
            "draft_formal": "focus_line",
            "todo": "",
        },
        "feedback_form": {
            "title": "",
            "submit": "",
            "close": "",
            "intro": "",
            "decider_label": "",
            "focus_label": "",
            "focus_hint": "",
            "tone_label": "",
            "tone_short": "",
            "tone_warm": "",
            "tone_formal": "",
            "need_decider": "",
            "not_yourself": "",
        },
        "feedback_notes": {
            "title": "",
            "submit": "",
            "close": "",
            "intro": "",
            "keep_label": "",
            "keep_hint": "",
            "work_on_label": "",
            "work_on_hint": "",
            "need_one": "",
            "saved": "",
        },
        "feedback_followup": {
            "title": "",
            "body": "",
            "button_helped": "",
            "button_hard": "",
            "button_none": "",
            "button_notes": "",
            "chose_helped": "",
            "chose_hard": "",
            "chose_none": "",
        },
        "goals_nudge": {
            "title": "",
            "body": "",
            "button_write": "",
            "button_later": "",
            "chose_later": "",
            "saved": "count",
        },
        "goals_form": {
            "title": "",
            "submit": "",
            "close": "",
            "intro": "",
            "what_label": "number",
            "what_hint": "",
            "first_step_label": "number",
            "first_step_hint": "",
            "by_when_label": "number",
            "why_label": "number",
            "why_hint": "",
            "need_one": "",
            "date_in_past": "",
            "step_without_goal": "",
        },
        "goal_progress": {
            "title": "",
            "body": "",
            "button_on_track": "",
            "button_stuck": "",
            "button_done": "",
            "button_let_go": "",
            "button_note": "",
            "chose_let_go": "",
            "chose_on_track": "",
            "chose_stuck": "",
            "chose_done": "",
        },
        "goal_stuck": {
            "title": "",
            "body": "",
            "button_reshape": "",
            "button_later": "",
            "chose_later": "when",
        },
        "progress_note": {
            "title": "",
            "submit": "",
            "close": "",
            "label": "",
            "hint": "",
            "saved": "",
        },
        "looking_back": {"title": "", "body": "", "todo": ""},
    }.items()
}


def _keys(spec: dict[str, dict[str, str]]) -> dict[str, dict[str, frozenset[str]]]:
    return {
        section: {key: frozenset(fields.split()) for key, fields in keys.items()}
        for section, keys in spec.items()
    }


# meetings.toml: a feedback meeting a manager prepares. person and manager are mentions.
MEETING_KEYS = _keys(
    {
        "invite_form": dict.fromkeys(
            [
                "title",
                "submit",
                "close",
                "intro",
                "manager_label",
                "manager_hint",
                "saved",
                "already",
                "error_self",
                "error_bot",
                "error_unknown",
                "renewed",
                "error_too_many",
            ],
            "",
        )
        | dict.fromkeys(["saved_in_teams", "renewed_in_teams"], "app_name"),
        "pick_form": dict.fromkeys(["title", "submit", "close", "person_label", "person_hint"], ""),
        "template_form": {
            **dict.fromkeys(
                [
                    "title",
                    "submit",
                    "close",
                    "thanks_label",
                    "thanks_hint",
                    "thanks_initial",
                    "observed_label",
                    "observed_hint",
                    "gaps_label",
                    "gaps_hint",
                    "next_steps_label",
                    "next_steps_hint",
                    "growth_label",
                    "growth_hint",
                    "meeting_on_label",
                    "follow_up_on_label",
                    "error_required",
                    "error_date_missing",
                    "error_past",
                    "error_order",
                ],
                "",
            ),
            "intro": "person",
            "error_too_long": "limit",
            "saved": "person",
        },
        "refused": dict.fromkeys(["not_allowed", "self", "not_a_person", "waiting"], ""),
        "grant": {"title": "", "body": "person", "button_prepare": ""},
        "agenda": {
            **dict.fromkeys(
                [
                    "heading_thanks",
                    "heading_observed",
                    "heading_gaps",
                    "heading_next_steps",
                    "heading_growth",
                ],
                "",
            ),
            "title": "",
            "intro": "person",
            "dates": "meeting_on follow_up_on",
        },
        "offer": {
            "title": "",
            "body": "manager meeting_on",
            "button_accept": "",
            "button_decline": "",
            "chose_accept": "",
            "chose_decline": "manager",
            "answered": "",
        },
        "accepted": {
            "title_person": "meeting_on",
            "intro_person": "manager",
            "button_goals": "",
            "title_manager": "",
            "intro_manager": "person meeting_on",
        },
        "declined": {"title": "", "body": "person"},
        "followup": {
            "title": "",
            "body_person": "manager meeting_on",
            "body_manager": "person meeting_on",
            "button_goals": "",
        },
        "reminder": {
            "title": "",
            "body_person": "manager follow_up_on",
            "body_manager": "person follow_up_on",
        },
        "home": {
            **dict.fromkeys(
                [
                    "section",
                    "none",
                    "button_invite",
                    "button_withdraw",
                    "status_offered",
                    "status_accepted",
                    "status_declined",
                ],
                "",
            ),
            "invited": "manager date",
            "meeting": "manager meeting_on status",
        },
        "stage": {"button_invite": ""},
    }
)

# Slack's limits on the shortest of these: modal titles and buttons.
SHORT_LIMITS = {
    (form, key): 24
    for form in (
        "goals_form",
        "feedback_form",
        "feedback_notes",
        "progress_note",
        "invite_form",
        "pick_form",
        "template_form",
    )
    for key in ("title", "submit", "close")
}
TIMING_DAYS = (
    "feedback_nudge_working_days",
    "feedback_later_working_days",
    "feedback_followup_working_days",
    "goals_nudge_working_days",
    "looking_back_days",
)

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
    locale: str
    stages: dict[str, Stage]
    ui: dict[str, str]
    checkins: dict[str, dict[str, str]]

    def text(self, key: str, **values: object) -> str:
        return self.ui[key].format(**values) if values else self.ui[key]

    def checkin(self, section: str, key: str, **values: object) -> str:
        text = self.checkins[section][key]
        return text.format(**values) if values else text

    @property
    def weekdays(self) -> tuple[str, ...]:
        return tuple(day.strip() for day in self.ui["weekdays"].split(","))


@dataclass(frozen=True)
class Content:
    stage_order: tuple[str, ...]
    safety_net_stage: str
    locales: dict[str, LocaleContent]
    timing: Timing = Timing()
    feedback_helper_stage: str | None = None
    goals_helper_stage: str | None = None
    manager_helper_stage: str | None = None

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

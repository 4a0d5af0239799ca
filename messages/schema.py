"""What each locale folder must hold: the keys of ui.toml, checkins.toml and meetings.toml, the
placeholders each text may use, and the length limits; apart from the loader that checks them."""

from __future__ import annotations

# The words a person may write after the command, as the code knows them. Each language may
# add its own in its commands.toml; these English ones work in every language.
COMMANDS = (
    "start",
    "help",
    "status",
    "pause",
    "resume",
    "stop",
    "goals",
    "hours",
    "export",
    "forget",
    "meeting",
    "language",
)
# The words in Teams' command menu, in its order (Teams shows at most ten; every other word
# still works when typed, and the help lists them all).
TEAMS_MENU = (
    "start",
    "status",
    "goals",
    "hours",
    "pause",
    "stop",
    "export",
    "forget",
    "help",
    "meeting",
)
# The parts of a person's data export, each with a heading in their language.
EXPORT_SECTIONS = (
    "person",
    "journeys",
    "goals",
    "feedback_requests",
    "feedback_notes",
    "managers_invited",
    "feedback_meetings",
    "audit_trail",
)
COMMAND_WORD_LIMIT = 20
COMMAND_WORDS_PER_COMMAND = 3

# Keys an older copy of the content may still have and the bot no longer reads (day names
# come from Babel now): accepted and ignored, so an HR team's edited folder keeps loading.
RETIRED_UI_KEYS = frozenset({"weekdays"})

# The company's own resources a stage may point to; a deployment sets each one's address
# (bot.core.config_loading reads NOTPROMOTED_<KEY>_URL).
LINK_KEYS = ("eap", "job_board", "learning", "mentoring", "hr_contact")

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
        "enqueue_limit": "",
        "when_today": "time",
        "when_tomorrow": "time",
        "when_weekday": "weekday time",
        "when_later": "date time",
        "goal_by_when": "goal date",
        "home_button_language": "",
        "language_now": "language languages",
        "language_set": "",
        "language_automatic_set": "",
        "language_bad": "text languages",
        "language_form_title": "",
        "language_form_submit": "",
        "language_form_close": "",
        "language_form_label": "",
        "language_form_automatic": "",
        "export_title": "app_name",
        **{f"export_section_{section}": "" for section in EXPORT_SECTIONS},
        "app_description_short": "",
        "app_description_full": "",
        **{f"menu_{command}": "" for command in TEAMS_MENU},
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
        "hours_form_hours_hint": "",
        "hours_button_change": "",
        "hours_form_days_hint": "",
        "too_long": "limit",
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
        "teams_export_offer": "",
        "teams_export_declined": "",
        "teams_export_failed": "",
        "tab_title": "",
        "tab_name": "",
        "tab_loading": "",
        "tab_outside_teams": "",
        "tab_signed_out": "",
        "tab_failed": "",
        "tab_controls": "",
        "tab_pick_person": "",
        "tab_required": "",
        "tab_saved": "",
    }.items()
}

# Texts only one platform ever shows, by their key in a LocaleContent (a ui key, or
# "section.key" of the check-in sections, meeting ones as "meeting_<section>.key"): the lines of
# Slack's App Home that only Slack draws (Teams' Home tab shows the neutral Home, whose texts
# are checked on both) and its admins' report, the pages a Slack admin installs the app from,
# Slack's note that a DM failed; the Teams note on an invitation that waits for the manager to
# add the app, and the Teams Home tab's own page. The per-platform word check leaves them out
# for the other platform; every other text is shown on both and is checked on both.
_SLACK_ONLY = """
    ack_dm_failed
    home_journey home_paused home_finished
    report_title report_intro report_month report_journeys_started report_feedback_requested
    report_goals_set report_meetings_held report_journeys_completed report_hidden
    report_legend report_unavailable
    install_title install_body install_button installed_title installed_body
    install_cancelled install_expired install_unavailable install_again not_installed
"""
_TEAMS_ONLY = """
    teams_someone meeting_invite_form.saved_in_teams meeting_invite_form.renewed_in_teams
    teams_export_offer teams_export_declined teams_export_failed
    tab_title tab_name tab_loading tab_outside_teams tab_signed_out tab_failed tab_controls
    tab_pick_person tab_required tab_saved
"""
SHOWN_ONLY_ON: dict[str, str] = {
    **dict.fromkeys(_SLACK_ONLY.split(), "slack"),
    **dict.fromkeys(_TEAMS_ONLY.split(), "teams"),
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
            "too_many": "count",
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
                    "withdrawn",
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

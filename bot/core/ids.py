"""Command names and action ids, in one place for every adapter."""

COMMAND = "/notpromoted"

STAGE_NEXT = "stage_next"
STAGE_SNOOZE = "stage_snooze"
STAGE_STOP = "stage_stop"
STAGE_CHOICES = (STAGE_NEXT, STAGE_SNOOZE, STAGE_STOP)

FORGET_CONFIRM = "forget_confirm"
FORGET_CANCEL = "forget_cancel"
HOME_START = "home_start"
HOME_PAUSE = "home_pause"
HOME_RESUME = "home_resume"
HOME_EXPORT = "home_export"
HOME_ERASE = "home_erase"

CHECKIN_KIND_STAGE = "stage"
CHECKIN_KIND_FINISHED = "finished"
# The Slack message metadata event type that tags every message the bot sends on its own.
MESSAGE_METADATA_TYPE = "notpromoted_checkin"

# Check-ins that come days later, and what answers each offers (action id -> kind).
CHECKIN_KIND_FEEDBACK_NUDGE = "feedback_nudge"
CHECKIN_KIND_FEEDBACK_REQUEST = "feedback_request"
CHECKIN_KIND_FEEDBACK_FOLLOWUP = "feedback_followup"
CHECKIN_KIND_GOALS_NUDGE = "goals_nudge"
CHECKIN_KIND_GOAL_PROGRESS = "goal_progress"
CHECKIN_KIND_LOOKING_BACK = "looking_back"

NUDGE_ASKED = "nudge_asked"
NUDGE_HELP = "nudge_help"
NUDGE_LATER = "nudge_later"
NUDGE_DECLINE = "nudge_decline"
NUDGE_HELPED = "nudge_helped"
NUDGE_HARD = "nudge_hard"
NUDGE_NONE = "nudge_none"
NUDGE_WRITE_GOALS = "nudge_write_goals"
NUDGE_NOT_NOW = "nudge_not_now"
NUDGE_ON_TRACK = "nudge_on_track"
NUDGE_STUCK = "nudge_stuck"
NUDGE_DONE = "nudge_done"

NUDGE_ANSWERS: dict[str, str] = {
    NUDGE_ASKED: CHECKIN_KIND_FEEDBACK_NUDGE,
    NUDGE_HELP: CHECKIN_KIND_FEEDBACK_NUDGE,
    NUDGE_LATER: CHECKIN_KIND_FEEDBACK_NUDGE,
    NUDGE_DECLINE: CHECKIN_KIND_FEEDBACK_NUDGE,
    NUDGE_HELPED: CHECKIN_KIND_FEEDBACK_FOLLOWUP,
    NUDGE_HARD: CHECKIN_KIND_FEEDBACK_FOLLOWUP,
    NUDGE_NONE: CHECKIN_KIND_FEEDBACK_FOLLOWUP,
    NUDGE_WRITE_GOALS: CHECKIN_KIND_GOALS_NUDGE,
    NUDGE_NOT_NOW: CHECKIN_KIND_GOALS_NUDGE,
    NUDGE_ON_TRACK: CHECKIN_KIND_GOAL_PROGRESS,
    NUDGE_STUCK: CHECKIN_KIND_GOAL_PROGRESS,
    NUDGE_DONE: CHECKIN_KIND_GOAL_PROGRESS,
}

NUDGE_NOTES = "nudge_notes"
NUDGE_LET_GO = "nudge_let_go"
NUDGE_ANSWERS[NUDGE_NOTES] = CHECKIN_KIND_FEEDBACK_FOLLOWUP
NUDGE_ANSWERS[NUDGE_LET_GO] = CHECKIN_KIND_GOAL_PROGRESS

# Modals (their callback ids), and the buttons that open them.
GOALS_FORM = "goals_form"
FEEDBACK_FORM = "feedback_form"
NOTES_FORM = "notes_form"
OPEN_FEEDBACK_FORM = "open_feedback_form"
OPEN_GOALS_FORM = "open_goals_form"
HOURS_FORM = "hours_form"
OPEN_HOURS_FORM = "open_hours_form"
LANGUAGE_FORM = "language_form"
OPEN_LANGUAGE_FORM = "open_language_form"
FORM_OPENERS = {
    OPEN_FEEDBACK_FORM: FEEDBACK_FORM,
    OPEN_GOALS_FORM: GOALS_FORM,
    OPEN_HOURS_FORM: HOURS_FORM,
    OPEN_LANGUAGE_FORM: LANGUAGE_FORM,
}

CHECKIN_KIND_GOAL_STUCK = "goal_stuck"
PROGRESS_LATER = "progress_later"
NUDGE_ANSWERS[PROGRESS_LATER] = CHECKIN_KIND_GOAL_STUCK
PROGRESS_NOTE_FORM = "progress_note_form"
OPEN_PROGRESS_NOTE = "open_progress_note"

# Per-goal buttons on the home tab; the value is the goal's id.
GOAL_DONE = "goal_done"
GOAL_DROP = "goal_drop"
CHECKIN_KIND_GOALS_SAVED = "goals_saved"

# Feedback meetings. Check-in kinds (messages to the person and to their manager):
CHECKIN_KIND_MEETING_GRANT = "meeting_grant"  # to a manager: you have been invited
CHECKIN_KIND_MEETING_AGENDA = "meeting_agenda"  # to the manager: the agenda they prepared
CHECKIN_KIND_MEETING_OFFER = "meeting_offer"  # to the person: accept or decline
CHECKIN_KIND_MEETING_ACCEPTED = "meeting_accepted"  # to either: accepted, with the agenda
CHECKIN_KIND_MEETING_DECLINED = "meeting_declined"  # to the manager
CHECKIN_KIND_MEETING_FOLLOWUP = "meeting_followup"  # to both, after the meeting date
CHECKIN_KIND_MEETING_REMINDER = "meeting_reminder"  # to both, on the follow-up date
# Messages that wait in the outbox for a recipient who cannot be messaged yet (see
# scheduler.delivery.RecipientNotYetReachable): an invitation to a manager without the app.
WAITS_FOR_RECIPIENT = frozenset({CHECKIN_KIND_MEETING_GRANT})
MEETING_KINDS = (
    CHECKIN_KIND_MEETING_GRANT,
    CHECKIN_KIND_MEETING_AGENDA,
    CHECKIN_KIND_MEETING_OFFER,
    CHECKIN_KIND_MEETING_ACCEPTED,
    CHECKIN_KIND_MEETING_DECLINED,
    CHECKIN_KIND_MEETING_FOLLOWUP,
    CHECKIN_KIND_MEETING_REMINDER,
)
# Forms, shortcut and buttons.
MANAGER_INVITE_FORM = "manager_invite_form"
OPEN_MANAGER_INVITE = "open_manager_invite"
MANAGER_REVOKE = "manager_revoke"  # the value is the grant's id
MEETING_PICK_FORM = "meeting_pick_form"
MEETING_FORM = "meeting_form"
MEETING_SHORTCUT = "plan_feedback_meeting"
MEETING_PREPARE = "meeting_prepare"  # the value is the person's user id
MEETING_ACCEPT = "meeting_accept"  # the value is the meeting's id
MEETING_DECLINE = "meeting_decline"
MEETING_TO_GOALS = "meeting_to_goals"

# Buttons whose route answers with a form rather than at once: Teams draws them as dialog
# openers (a dialog opens only from such a click); Slack opens the form from any click.
OPENS_A_FORM = frozenset(
    {
        *FORM_OPENERS,
        NUDGE_HELP,
        NUDGE_WRITE_GOALS,
        NUDGE_NOTES,
        OPEN_PROGRESS_NOTE,
        OPEN_MANAGER_INVITE,
        MEETING_PREPARE,
        MEETING_TO_GOALS,
    }
)
# What a person types to the bot in Teams: the command's own name starts or resumes.
TEAMS_COMMAND_WORDS = ("notpromoted", "/notpromoted")
# The Teams dialog that asks who a manager's meeting is with, opened from the "meeting" word.
OPEN_MEETING_PICK = "open_meeting_pick"
OPENS_A_FORM |= {OPEN_MEETING_PICK}
# What a person typed after the command (Slack) or to the bot (Teams): one route takes it all.
TYPED = "typed"

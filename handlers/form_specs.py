"""Every form of the product, declared once: its fields, their content keys, their limits.

Slack draws a spec as a modal (bot.slack.form_render), Teams as a dialog card
(bot.teams.form_render); both read the answer back by the same field names, and the handler
behind the form's route (handlers.routes) validates it once. A new form is a spec here plus a
route; it then exists on both platforms.
"""

from __future__ import annotations

from bot.core import ids
from handlers.feedback import FOCUS_LIMIT, NOTE_LIMIT, TONES
from handlers.goals import MAX_GOALS, TEXT_LIMIT
from handlers.meeting_preparation import FIELD_LIMIT
from messages.form import FieldSpec, FormSpec

HOURS_LIMIT = 64


def _goal_fields(number: int) -> tuple[FieldSpec, ...]:
    def line(name: str) -> FieldSpec:
        return FieldSpec(
            f"{name}_{number}",
            "line",
            f"goals_form.{name}_label",
            placeholder=f"goals_form.{name}_hint",
            limit=TEXT_LIMIT,
            number=number,
        )

    by_when = FieldSpec(f"by_when_{number}", "date", "goals_form.by_when_label", number=number)
    return (line("what"), line("why"), line("first_step"), by_when)


GOALS = FormSpec(
    form_id=ids.GOALS_FORM,
    title="goals_form.title",
    submit="goals_form.submit",
    close="goals_form.close",
    intro="goals_form.intro",
    fields=tuple(f for number in range(1, MAX_GOALS + 1) for f in _goal_fields(number)),
    context=(("checkin", "row"),),
    opener=ids.OPEN_GOALS_FORM,
)

FEEDBACK = FormSpec(
    form_id=ids.FEEDBACK_FORM,
    title="feedback_form.title",
    submit="feedback_form.submit",
    close="feedback_form.close",
    intro="feedback_form.intro",
    fields=(
        FieldSpec("decider", "person", "feedback_form.decider_label", required=True),
        FieldSpec(
            "focus",
            "box",
            "feedback_form.focus_label",
            placeholder="feedback_form.focus_hint",
            limit=FOCUS_LIMIT,
        ),
        FieldSpec(
            "tone",
            "choice",
            "feedback_form.tone_label",
            required=True,
            choices=tuple((tone, f"feedback_form.tone_{tone}") for tone in TONES),
            starts_with="warm",
        ),
    ),
    context=(("checkin", "row"),),
    opener=ids.OPEN_FEEDBACK_FORM,
)

NOTES = FormSpec(
    form_id=ids.NOTES_FORM,
    title="feedback_notes.title",
    submit="feedback_notes.submit",
    close="feedback_notes.close",
    intro="feedback_notes.intro",
    fields=tuple(
        FieldSpec(
            name,
            "box",
            f"feedback_notes.{name}_label",
            placeholder=f"feedback_notes.{name}_hint",
            limit=NOTE_LIMIT,
        )
        for name in ("keep", "work_on")
    ),
)

PROGRESS_NOTE = FormSpec(
    form_id=ids.PROGRESS_NOTE_FORM,
    title="progress_note.title",
    submit="progress_note.submit",
    close="progress_note.close",
    fields=(
        FieldSpec(
            "note",
            "box",
            "progress_note.label",
            placeholder="progress_note.hint",
            limit=NOTE_LIMIT,
            required=True,
        ),
    ),
    context=(("checkin", "row"),),
)

HOURS = FormSpec(
    form_id=ids.HOURS_FORM,
    title="hours_form_title",
    submit="hours_form_submit",
    close="hours_form_close",
    fields=(
        FieldSpec(
            "hours",
            "line",
            "hours_form_hours",
            placeholder="hours_form_hours_hint",
            limit=HOURS_LIMIT,
            required=True,
        ),
        FieldSpec(
            "days",
            "line",
            "hours_form_days",
            placeholder="hours_form_days_hint",
            limit=HOURS_LIMIT,
            required=True,
        ),
        FieldSpec(
            "zone", "line", "hours_form_zone", placeholder="hours_form_zone_hint", limit=HOURS_LIMIT
        ),
    ),
    opener=ids.OPEN_HOURS_FORM,
)

# Its choices are the languages there are folders for (handlers.language draws them).
LANGUAGE = FormSpec(
    form_id=ids.LANGUAGE_FORM,
    title="language_form_title",
    submit="language_form_submit",
    close="language_form_close",
    fields=(FieldSpec("language", "choice", "language_form_label", required=True),),
    opener=ids.OPEN_LANGUAGE_FORM,
)

MANAGER_INVITE = FormSpec(
    form_id=ids.MANAGER_INVITE_FORM,
    title="meeting_invite_form.title",
    submit="meeting_invite_form.submit",
    close="meeting_invite_form.close",
    intro="meeting_invite_form.intro",
    fields=(
        FieldSpec(
            "manager",
            "person",
            "meeting_invite_form.manager_label",
            hint="meeting_invite_form.manager_hint",
            required=True,
        ),
    ),
    opener=ids.OPEN_MANAGER_INVITE,
)

MEETING_PICK = FormSpec(
    form_id=ids.MEETING_PICK_FORM,
    title="meeting_pick_form.title",
    submit="meeting_pick_form.submit",
    close="meeting_pick_form.close",
    fields=(
        FieldSpec(
            "person",
            "person",
            "meeting_pick_form.person_label",
            hint="meeting_pick_form.person_hint",
            required=True,
        ),
    ),
    opener=ids.OPEN_MEETING_PICK,
)


def _agenda_box(name: str, *, required: bool = True, starts_with: str | None = None) -> FieldSpec:
    return FieldSpec(
        name,
        "box",
        f"meeting_template_form.{name}_label",
        hint=f"meeting_template_form.{name}_hint",
        limit=FIELD_LIMIT,
        required=required,
        starts_with=starts_with,
    )


MEETING_TEMPLATE = FormSpec(
    form_id=ids.MEETING_FORM,
    title="meeting_template_form.title",
    submit="meeting_template_form.submit",
    close="meeting_template_form.close",
    intro="meeting_template_form.intro",
    fields=(
        _agenda_box("thanks", starts_with="meeting_template_form.thanks_initial"),
        _agenda_box("observed"),
        _agenda_box("gaps"),
        _agenda_box("next_steps"),
        _agenda_box("growth", required=False),
        FieldSpec("meeting_on", "date", "meeting_template_form.meeting_on_label", required=True),
        FieldSpec(
            "follow_up_on", "date", "meeting_template_form.follow_up_on_label", required=True
        ),
    ),
    context=(("person", "person"),),
    opener=ids.MEETING_PREPARE,
)

FORMS: dict[str, FormSpec] = {
    spec.form_id: spec
    for spec in (
        GOALS,
        FEEDBACK,
        NOTES,
        PROGRESS_NOTE,
        HOURS,
        LANGUAGE,
        MANAGER_INVITE,
        MEETING_PICK,
        MEETING_TEMPLATE,
    )
}

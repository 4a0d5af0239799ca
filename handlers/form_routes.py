"""Routes of the journey's forms: each opened (filled with what is stored) and each submitted
(validated by its handler, its errors shown under their fields on either platform)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core import ids
from handlers import journey_controls, language, locale_lookup
from handlers.checkin_answers import save_progress_note
from handlers.feedback import TONES, request_feedback, save_notes
from handlers.form_specs import FEEDBACK, FORMS, GOALS, HOURS, LANGUAGE, NOTES, PROGRESS_NOTE
from handlers.goals import MAX_GOALS, GoalDraft, current_goals, save_goals
from handlers.interaction import Done, Redraw, Reply, Turn
from messages.content import LocaleContent
from messages.form import Form, FormSpec, FormValues, draw, text_of


async def open_form(turn: Turn, form_id: str, *, from_checkin: int | None = None) -> Form | None:
    """A journey form as it opens for this person; None for a form id that is not one."""
    services, ref = turn.services, turn.ref
    context = {"checkin": from_checkin}
    if form_id == ids.GOALS_FORM:
        locale, goals = await turn.run(current_goals, services, ref)
        return goals_form(locale, goals, from_checkin=from_checkin)
    if form_id == ids.LANGUAGE_FORM:
        return await turn.run(language.form, services, ref)
    if form_id == ids.HOURS_FORM:
        locale = await turn.run(locale_lookup.person_locale, services, ref)
        shown = await turn.run(_current_hours, turn)
        hours, days, zone = shown
        return draw(HOURS, locale, values={"hours": hours, "days": days, "zone": zone})
    spec = FORMS.get(form_id)
    if spec is None or spec not in (FEEDBACK, NOTES, PROGRESS_NOTE):
        return None
    locale = await turn.run(locale_lookup.person_locale, services, ref)
    return draw(spec, locale, context=context)


def goals_form(locale: LocaleContent, goals: list[GoalDraft], *, from_checkin: int | None) -> Form:
    values: dict[str, str] = {}
    for goal in goals:
        values[f"what_{goal.number}"] = goal.what
        values[f"why_{goal.number}"] = goal.why
        values[f"first_step_{goal.number}"] = goal.first_step
        values[f"by_when_{goal.number}"] = goal.by_when.isoformat() if goal.by_when else ""
    return draw(GOALS, locale, values=values, context={"checkin": from_checkin})


def _current_hours(turn: Turn) -> tuple[str, str, str]:
    shown = journey_controls.set_working_time(
        turn.services, turn.ref, hours=None, days=None, zone=None, keep_zone=True
    )
    return shown.current


def again(
    spec: FormSpec, locale: LocaleContent, submitted: FormValues, errors: Mapping[str, str]
) -> Reply:
    """The submitted form shown again with what was typed and its errors."""
    form = draw(
        spec, locale, values=submitted.values, context=dict(submitted.context), errors=errors
    )
    return Reply(form=form)


def closed(locale: LocaleContent, spec: FormSpec, text: str) -> Done:
    """What a saved form turns into: its title, `text`, its close button."""
    return Done(text_of(locale, spec.title), text, text_of(locale, spec.close))


async def submit_goals(turn: Turn, submitted: FormValues) -> Reply:
    drafts = [
        GoalDraft(
            number=number,
            what=submitted.text(f"what_{number}"),
            why=submitted.text(f"why_{number}"),
            first_step=submitted.text(f"first_step_{number}"),
            by_when=submitted.day(f"by_when_{number}"),
        )
        for number in range(1, MAX_GOALS + 1)
    ]
    from_checkin = submitted.row("checkin")
    saved = await turn.run(
        lambda: save_goals(turn.services, turn.ref, drafts, from_checkin=from_checkin)
    )
    if saved.errors:
        locale = await turn.run(locale_lookup.person_locale, turn.services, turn.ref)
        return again(GOALS, locale, submitted, saved.errors)
    redraw = Redraw(*saved.retire) if saved.retire is not None else None
    return Reply(send_now=saved.send_now, redraw=redraw)


async def submit_feedback(turn: Turn, submitted: FormValues) -> Reply:
    tone = submitted.text("tone")
    result = await turn.run(
        lambda: request_feedback(
            turn.services,
            turn.ref,
            decider=submitted.person("decider"),
            focus=submitted.text("focus"),
            tone=tone if tone in TONES else "warm",
        )
    )
    if result.errors:
        locale = await turn.run(locale_lookup.person_locale, turn.services, turn.ref)
        return again(FEEDBACK, locale, submitted, result.errors)
    return Reply(send_now=result.send_now)


async def submit_notes(turn: Turn, submitted: FormValues) -> Reply:
    result = await turn.run(
        lambda: save_notes(
            turn.services,
            turn.ref,
            keep=submitted.text("keep"),
            work_on=submitted.text("work_on"),
        )
    )
    locale = await turn.run(locale_lookup.person_locale, turn.services, turn.ref)
    if result.errors:
        return again(NOTES, locale, submitted, result.errors)
    return Reply(done=closed(locale, NOTES, locale.checkin("feedback_notes", "saved")))


async def submit_progress_note(turn: Turn, submitted: FormValues) -> Reply:
    result = await turn.run(
        lambda: save_progress_note(
            turn.services,
            turn.ref,
            checkin_id=submitted.row("checkin"),
            text=submitted.text("note"),
        )
    )
    locale = await turn.run(locale_lookup.person_locale, turn.services, turn.ref)
    if result.errors:
        return again(PROGRESS_NOTE, locale, submitted, result.errors)
    return Reply(done=closed(locale, PROGRESS_NOTE, locale.checkin("progress_note", "saved")))


async def submit_hours(turn: Turn, submitted: FormValues) -> Reply:
    result = await turn.run(
        lambda: journey_controls.set_working_time(
            turn.services,
            turn.ref,
            hours=submitted.text("hours"),
            days=submitted.text("days"),
            zone=submitted.text("zone"),
        )
    )
    locale = await turn.run(locale_lookup.person_locale, turn.services, turn.ref)
    if result.errors:
        return again(HOURS, locale, submitted, result.errors)
    return Reply(done=closed(locale, HOURS, result.summary), home_changed=True)


async def submit_language(turn: Turn, submitted: FormValues) -> Reply:
    """The Home's language form: the choice kept; the form closes in the new language."""
    result = await turn.run(
        language.set_language, turn.services, turn.ref, submitted.text("language")
    )
    if result.error is not None:
        return again(LANGUAGE, result.locale, submitted, {"language": result.error})
    return Reply(done=closed(result.locale, LANGUAGE, result.text), home_changed=True)

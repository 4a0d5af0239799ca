"""Routes of what a person types after the command and of the journey's buttons: a stage's
choice, a check-in's answer, the forget prompt, the Home's controls, and the buttons that only
open a form."""

from __future__ import annotations

from bot.core import ids
from bot.core.models import GoalStatus
from handlers import journey_controls, locale_lookup
from handlers.checkin_answers import answer_nudge
from handlers.command import KEEPS_THE_PERSON, run_command
from handlers.form_routes import open_form
from handlers.goals import set_goal_status
from handlers.interaction import Reply, Turn
from handlers.meeting_routes import open_pick, prepare
from handlers.replies import ChoiceReply, CommandReply, row_id
from handlers.stage_choice import choose
from handlers.start import start_or_resume
from messages.model import Message, Paragraph

MEETING_WORD = "meeting"


async def typed(turn: Turn) -> Reply:
    """The words after the command (Slack) or typed to the bot (Teams). `meeting` with a
    person (the platform's id for them) opens the template for them, with anything else the
    picker; every other word goes to handlers.command."""
    text = turn.interaction.value
    word, _, rest = text.strip().partition(" ")
    if word and turn.services.content.command_for(word) == MEETING_WORD:
        if turn.directory.user_id(rest.strip()) is not None:
            return await prepare(turn.with_value(rest.strip()))
        return await open_pick(turn)
    command = turn.services.content.command_for(word) if word else "start"
    await _learn_language(turn, keeps_the_person=command in KEEPS_THE_PERSON)
    reply: CommandReply = await turn.run(run_command, turn.services, turn.ref, text)
    form = await open_form(turn, reply.open_form) if reply.open_form else None
    return Reply(
        message=reply.message,
        form=form,
        send_now=reply.send_now,
        send_export=reply.send_export,
    )


async def _learn_language(turn: Turn, *, keeps_the_person: bool) -> None:
    """Someone the bot has no language for yet (their first command on Slack, whose commands
    do not carry it) is answered in theirs: the platform is asked once, before the answer.
    A person not known yet is written only by a command that keeps them anyway (starting,
    hours, language); anything else (`help`, `forget`) leaves no trace of them."""
    known = await turn.run(locale_lookup.language_known, turn.services, turn.ref)
    if known or (known is None and not keeps_the_person):
        return
    tag = await turn.directory.own_language()
    if tag is not None:
        await turn.run(
            locale_lookup.keep_first_language, turn.services, turn.ref, tag, keeps_the_person
        )


async def _from_choice(turn: Turn, reply: ChoiceReply, row: int | None) -> Reply:
    form = await open_form(turn, reply.open_form, from_checkin=row) if reply.open_form else None
    return Reply(note=reply.note, follow_up=reply.follow_up, send_now=reply.send_now, form=form)


async def stage_choice(turn: Turn) -> Reply:
    row = row_id(turn.interaction.value)
    choice = turn.interaction.action
    reply = await turn.run(lambda: choose(turn.services, turn.ref, checkin_id=row, choice=choice))
    return await _from_choice(turn, reply, row)


async def checkin_answer(turn: Turn) -> Reply:
    row = row_id(turn.interaction.value)
    choice = turn.interaction.action
    reply = await turn.run(
        lambda: answer_nudge(turn.services, turn.ref, checkin_id=row, choice=choice)
    )
    return await _from_choice(turn, reply, row)


async def forget_confirm(turn: Turn) -> Reply:
    reply = await turn.run(journey_controls.confirm_forget, turn.services, turn.ref)
    return Reply(note=reply.note, home_changed=True)


async def forget_cancel(turn: Turn) -> Reply:
    reply = await turn.run(journey_controls.cancel_forget, turn.services, turn.ref)
    return Reply(note=reply.note)


def _said(message: Message) -> str:
    return " ".join(block.text for block in message.blocks if isinstance(block, Paragraph))


async def home_start(turn: Turn) -> Reply:
    started = await turn.run(start_or_resume, turn.services, turn.ref)
    return Reply(note=_said(started.message), send_now=started.send_now, home_changed=True)


async def pause_or_resume(turn: Turn) -> Reply:
    change = journey_controls.pause
    if turn.interaction.action == ids.HOME_RESUME:
        change = journey_controls.resume
    reply = await turn.run(change, turn.services, turn.ref)
    return Reply(note=_said(reply.message), send_now=reply.send_now, home_changed=True)


async def export(turn: Turn) -> Reply:
    reply = await turn.run(journey_controls.export, turn.services, turn.ref)
    return Reply(note=_said(reply.message), send_export=True, home_changed=True)


async def goal_status(turn: Turn) -> Reply:
    status = GoalStatus.DONE if turn.interaction.action == ids.GOAL_DONE else GoalStatus.DROPPED
    goal = row_id(turn.interaction.value)
    changed = await turn.run(
        lambda: set_goal_status(turn.services, turn.ref, goal_id=goal, status=status)
    )
    locale = await turn.run(locale_lookup.person_locale, turn.services, turn.ref)
    note = locale.text("goal_done" if status == GoalStatus.DONE else "goal_drop")
    return Reply(note=f"✓ {note}" if changed else None, home_changed=True)


async def form_opener(turn: Turn) -> Reply:
    """A button that only opens a form (on a stage, a check-in or the Home)."""
    action = turn.interaction.action
    if action == ids.OPEN_PROGRESS_NOTE:
        row = row_id(turn.interaction.value)
        return Reply(form=await open_form(turn, ids.PROGRESS_NOTE_FORM, from_checkin=row))
    return Reply(form=await open_form(turn, ids.FORM_OPENERS[action]))

"""Routes of the manager flow: a person invites (and withdraws) their manager; a manager picks
the person, prepares the meeting from the template; the person answers. Who may do what is
decided in handlers.meeting_access, from what the platform's Directory says about people."""

from __future__ import annotations

from bot.core import ids
from handlers import (
    home,
    locale_lookup,
    manager_invitation,
    meeting_access,
    meeting_answer,
    meeting_preparation,
)
from handlers.form_routes import again, closed, goals_form
from handlers.form_specs import MANAGER_INVITE, MEETING_PICK, MEETING_TEMPLATE
from handlers.interaction import Reply, Turn
from handlers.meeting_access import Access, Someone
from handlers.meeting_preparation import MeetingDraft
from handlers.neutral_messages import plain
from handlers.replies import row_id
from messages.content import LocaleContent
from messages.form import Form, FormValues, draw
from messages.model import mention


async def _locale(turn: Turn) -> LocaleContent:
    return await turn.run(locale_lookup.person_locale, turn.services, turn.ref)


def _said(turn: Turn, locale: LocaleContent, text: str) -> Reply:
    return Reply(message=plain(locale, turn.services.settings, text))


async def _who(turn: Turn, target: str) -> tuple[Someone, bool]:
    """What the platform says of the person named, and whether the actor is in the managers'
    group: what deciding who may prepare a meeting needs."""
    return await turn.directory.someone(target), await turn.directory.in_manager_group()


async def _access(turn: Turn, target: str) -> Access:
    subject, in_group = await _who(turn, target)
    return await turn.run(
        lambda: meeting_access.check_access(turn.services, turn.ref, subject, in_group=in_group)
    )


def template_form(
    locale: LocaleContent,
    target: str,
    *,
    submitted: FormValues | None = None,
    errors: dict[str, str] | None = None,
) -> Form:
    return draw(
        MEETING_TEMPLATE,
        locale,
        values=submitted.values if submitted else None,
        context={"person": target},
        errors=errors,
        intro={"person": mention(target)},
    )


# -- a manager starts ------------------------------------------------------------------------


async def open_pick(turn: Turn) -> Reply:
    return Reply(form=draw(MEETING_PICK, await _locale(turn)))


async def prepare(turn: Turn) -> Reply:
    """The template for the person named (a button's value, or after the `meeting` word),
    if the actor may prepare one for them; else why not."""
    locale = await _locale(turn)
    target = turn.directory.user_id(turn.interaction.value)
    if target is None:
        return _said(turn, locale, locale.checkin("meeting_refused", "not_a_person"))
    access = await _access(turn, target)
    if access.authority is None:
        return _said(turn, locale, access.refusal or locale.text("button_expired"))
    return Reply(form=template_form(locale, target))


async def submit_pick(turn: Turn, submitted: FormValues) -> Reply:
    locale = await _locale(turn)
    target = submitted.person("person")
    if target is None:
        refusal = locale.checkin("meeting_refused", "not_a_person")
        return again(MEETING_PICK, locale, submitted, {"person": refusal})
    access = await _access(turn, target)
    if access.authority is None:
        refusal = access.refusal or locale.text("button_expired")
        return again(MEETING_PICK, locale, submitted, {"person": refusal})
    return Reply(form=template_form(locale, target))


async def submit_template(turn: Turn, submitted: FormValues) -> Reply:
    locale = await _locale(turn)
    target = submitted.context_person("person")
    if target is None:
        return Reply(done=closed(locale, MEETING_TEMPLATE, locale.text("button_expired")))
    draft = MeetingDraft(
        thanks=submitted.text("thanks"),
        observed=submitted.text("observed"),
        gaps=submitted.text("gaps"),
        next_steps=submitted.text("next_steps"),
        growth=submitted.text("growth"),
        meeting_on=submitted.day("meeting_on"),
        follow_up_on=submitted.day("follow_up_on"),
    )
    subject, in_group = await _who(turn, target)
    answer = await turn.run(
        lambda: meeting_preparation.prepare_meeting(
            turn.services, turn.ref, subject, draft, in_group=in_group
        )
    )
    if answer.errors:
        form = template_form(locale, target, submitted=submitted, errors=answer.errors)
        return Reply(form=form)
    return Reply(done=closed(locale, MEETING_TEMPLATE, answer.saved), send_now=answer.send_now)


# -- the person answers ----------------------------------------------------------------------


async def answer_offer(turn: Turn) -> Reply:
    accept = turn.interaction.action == ids.MEETING_ACCEPT
    meeting = row_id(turn.interaction.value)
    reply = await turn.run(
        lambda: meeting_answer.answer_offer(turn.services, turn.ref, meeting, accept=accept)
    )
    return Reply(note=reply.note, send_now=reply.send_now)


async def next_steps_to_goals(turn: Turn) -> Reply:
    meeting = row_id(turn.interaction.value)
    found = await turn.run(meeting_answer.next_steps_as_goals, turn.services, turn.ref, meeting)
    if found is None:
        locale = await _locale(turn)
        return _said(turn, locale, locale.text("button_expired"))
    locale, goals = found
    return Reply(form=goals_form(locale, goals, from_checkin=None))


# -- the person invites their manager --------------------------------------------------------


async def open_invite(turn: Turn) -> Reply:
    return Reply(form=draw(MANAGER_INVITE, await _locale(turn)))


async def submit_invite(turn: Turn, submitted: FormValues) -> Reply:
    locale = await _locale(turn)
    manager_id = submitted.person("manager")
    if manager_id is None:
        unknown = locale.checkin("meeting_invite_form", "error_unknown")
        return again(MANAGER_INVITE, locale, submitted, {"manager": unknown})
    manager = await turn.directory.invitee(manager_id)
    answer = await turn.run(
        lambda: manager_invitation.invite_manager(turn.services, turn.ref, manager)
    )
    if answer.errors:
        return again(MANAGER_INVITE, locale, submitted, answer.errors)
    # Where the person can take it back: their invitations as the Home lists them, each with
    # its withdraw button (a platform whose Home shows them may leave this out).
    invited = await turn.run(home.invitations, turn.services, turn.ref)
    return Reply(
        done=closed(locale, MANAGER_INVITE, answer.saved),
        message=invited,
        send_now=answer.send_now,
        home_changed=True,
    )


async def withdraw(turn: Turn) -> Reply:
    grant = row_id(turn.interaction.value)
    taken_back = await turn.run(
        manager_invitation.withdraw_invitation, turn.services, turn.ref, grant
    )
    locale = await _locale(turn)
    note = locale.checkin("meeting_home", "withdrawn") if taken_back else None
    return Reply(note=note, home_changed=True)

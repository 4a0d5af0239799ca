"""Teams SDK handlers: parse the activity, call the same handler as Slack, answer with cards.

A message is answered from a task of its own, so Teams gets its 200 at once (Slack's "ack
first"). An invoke (a card button, a dialog) is answered in its response, as Teams requires;
the rows it asks to send go out afterwards, from a task. Nothing raises into the SDK: a
failure is logged and the person gets the "not available" line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from microsoft_teams.api import ActivityBase, ConversationUpdateActivity, InstallUpdateActivity
from microsoft_teams.api.activities.invoke import (
    AdaptiveCardInvokeActivity,
    TaskFetchInvokeActivity,
    TaskSubmitInvokeActivity,
)
from microsoft_teams.api.activities.message import MessageActivity, MessageActivityInput
from microsoft_teams.apps import ActivityContext, App

from bot.core import ids
from bot.core.checkin_planning import replan_for_person
from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from bot.teams import dialogs
from bot.teams.activity_reading import Chat, aad_id, chat_of, person_ref
from bot.teams.cards import (
    Card,
    build_answered_card,
    build_note_card,
)
from bot.teams.conversations import remember_chat
from bot.teams.dialogs import number_in
from bot.teams.directory import TeamsDirectory
from bot.teams.sender import TeamsSender, card_activity
from handlers import controls, meetings
from handlers.checkin_answers import answer_nudge, save_progress_note
from handlers.command import run_command
from handlers.export import export_data
from handlers.feedback import request_feedback, save_notes
from handlers.goals import current_goals, save_goals
from handlers.neutral_messages import forget_prompt, home_message, plain
from handlers.outbox import recompose_own
from handlers.replies import ChoiceReply, CommandReply
from handlers.stage_choice import choose
from handlers.start import start_or_resume
from messages.content import LocaleContent
from messages.model import MENTION, Button, Message, Paragraph, clean_typed, mention
from scheduler.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

CARD = "application/vnd.microsoft.card.adaptive"
# A Teams message holds about 28 KB; an export is sent in pieces well under that.
EXPORT_PIECE = 20_000
AT_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


class TeamsListeners:
    def __init__(self, services: Services, dispatcher: Dispatcher, sender: TeamsSender) -> None:
        self.services = services
        self.dispatcher = dispatcher
        self.sender = sender
        self.directory = TeamsDirectory(services)
        self.default = services.content.for_locale(None)
        self.unavailable = self.default.text("ack_unavailable")
        # Work that goes on after Teams has its answer; kept so that it is not collected.
        self.pending: set[asyncio.Task[None]] = set()

    def register(self, app: App) -> None:
        app.on_message(self.on_message)
        app.on_card_action_execute(self.on_card_action)
        app.on_dialog_open(self.on_dialog_open)
        app.on_dialog_submit(self.on_dialog_submit)
        app.on_conversation_update(self.on_conversation_update)
        app.on_installation_update(self.on_installation_update)

    async def settled(self) -> None:
        """Wait for the work started after answers (the tests need it)."""
        while self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)

    # -- installs and messages ------------------------------------------------------------

    async def on_installation_update(self, ctx: ActivityContext[InstallUpdateActivity]) -> None:
        if ctx.activity.action in ("add", "add-upgrade"):
            await self._remember(ctx.activity)

    async def on_conversation_update(
        self, ctx: ActivityContext[ConversationUpdateActivity]
    ) -> None:
        """The app was added to a personal chat: keep the reference, and say hello once."""
        added = ctx.activity.members_added or []
        if not any(member.id == ctx.activity.recipient.id for member in added):
            return
        chat = await self._remember(ctx.activity)
        if chat is not None:
            self._later(self._welcome(ctx, chat.ref))

    async def _welcome(self, ctx: ActivityContext[Any], ref: PersonRef) -> None:
        locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
        welcome = home_message(locale, self.services.settings, status_line=None)
        await self._send(ctx, ref, welcome)

    async def on_message(self, ctx: ActivityContext[MessageActivity]) -> None:
        chat = await self._remember(ctx.activity)
        if chat is None:
            logger.info("ignored a Teams message from outside a personal chat")
            return
        self._later(self._answer_message(ctx, chat.ref))

    async def _answer_message(self, ctx: ActivityContext[MessageActivity], ref: PersonRef) -> None:
        text = command_text(ctx.activity.text or "")
        if not text and ctx.activity.value is not None:  # a card from an older version
            await self._send(ctx, ref, self._plain(self.default, "button_expired"))
            return
        word, _, _rest = text.partition(" ")
        try:
            if word.lower() == "meeting":
                reply = await asyncio.to_thread(self._meeting_opener, ref)
            else:
                reply = await asyncio.to_thread(run_command, self.services, ref, text)
        except Exception:
            logger.exception("a Teams command failed")
            await self._send(ctx, ref, self._plain(self.default, "ack_unavailable"))
            return
        message = reply.message
        if reply.open_form == ids.GOALS_FORM:  # a dialog opens from a click, never by itself
            locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
            opener = Button(ids.OPEN_GOALS_FORM, locale.text("button_write_goals"), "command")
            message = replace(message, buttons=(*message.buttons, opener))
        await self._send(ctx, ref, message)
        if reply.send_export:
            await self._send_export(ctx, ref)
        await self.send_rows(reply.send_now)

    def _meeting_opener(self, ref: PersonRef) -> CommandReply:
        """`meeting`: a dialog can only open from a click, so the answer is its button."""
        locale = controls.person_locale(self.services, ref)
        form = locale.checkins["meeting_pick_form"]
        message = Message(
            notification=locale.text("notification", app_name=self.services.settings.display_name),
            buttons=(Button(ids.OPEN_MEETING_PICK, form["title"], "command", "primary"),),
        )
        return CommandReply(message)

    async def _send_export(self, ctx: ActivityContext[Any], ref: PersonRef) -> None:
        """Everything kept about the person, as JSON in the chat (bots cannot attach files in a
        personal chat without a consent round-trip)."""
        try:
            data = await asyncio.to_thread(export_data, self.services, ref)
            if data is None:
                return
            locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
            text = json.dumps(data, indent=2, ensure_ascii=False)
            pieces = [text[i : i + EXPORT_PIECE] for i in range(0, len(text), EXPORT_PIECE)]
            await ctx.send(MessageActivityInput(text=locale.text("export_comment")))
            for piece in pieces:
                await ctx.send(
                    MessageActivityInput(text=f"```\n{piece}\n```", text_format="markdown")
                )
        except Exception:
            logger.exception("could not send the data export to Teams")

    # -- card buttons (Action.Execute) ---------------------------------------------------------

    async def on_card_action(self, ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> Any:
        """A choice on a card: the answer is the card redrawn, its buttons replaced by the note."""
        await self._remember(ctx.activity)
        ref = person_ref(ctx.activity)
        data = _dict(ctx.activity.value.action.data if ctx.activity.value else None)
        action = str(data.get("action") or "")
        value = str(data.get("value") or "")
        checkin_id = number_in(data, "checkin")
        if ref is None:
            return _card_message(self.default.text("button_expired"))
        try:
            locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
            before = await self._original(ref, action, checkin_id, locale)
            reply = await asyncio.to_thread(self._choice, ref, action, value)
        except Exception:
            logger.exception("a Teams card action failed")
            return _card_message(self.unavailable)
        self._later(self.send_rows(reply.send_now))
        if reply.note is None:  # another click counted first; its answer redrew the card
            return _card_message(locale.text("button_expired"))
        if before is None:
            return _card_response(
                build_note_card(reply.note, names=await self._names(ref, reply.note))
            )
        names = await asyncio.to_thread(self.sender.names, ref.workspace_id, before)
        names.update(await self._names(ref, reply.note))
        card = build_answered_card(
            before, reply.note, reply.follow_up, names=names, checkin_id=checkin_id
        )
        return _card_response(card)

    async def _original(
        self, ref: PersonRef, action: str, checkin_id: int | None, locale: LocaleContent
    ) -> Message | None:
        """The clicked message, drawn again from what it was made of."""
        if action in (ids.FORGET_CONFIRM, ids.FORGET_CANCEL):
            return forget_prompt(locale, self.services.settings)
        if action == ids.HOME_START:
            return home_message(locale, self.services.settings, status_line=None)
        return await asyncio.to_thread(recompose_own, self.services, ref, checkin_id)

    def _choice(self, ref: PersonRef, action: str, value: str) -> ChoiceReply:
        row = dialogs.row_id(value)
        if action in ids.STAGE_CHOICES:
            return choose(self.services, ref, checkin_id=row, choice=action)
        if action in ids.NUDGE_ANSWERS:
            return answer_nudge(self.services, ref, checkin_id=row, choice=action)
        if action == ids.FORGET_CONFIRM:
            return controls.confirm_forget(self.services, ref)
        if action == ids.FORGET_CANCEL:
            return controls.cancel_forget(self.services, ref)
        if action in (ids.MEETING_ACCEPT, ids.MEETING_DECLINE):
            accept = action == ids.MEETING_ACCEPT
            return meetings.answer_offer(self.services, ref, row, accept=accept)
        if action == ids.HOME_START:
            started = start_or_resume(self.services, ref)
            said = " ".join(b.text for b in started.message.blocks if isinstance(b, Paragraph))
            return ChoiceReply(note=said, send_now=started.send_now)
        return ChoiceReply(note=controls.person_locale(self.services, ref).text("button_expired"))

    # -- dialogs (task/fetch and task/submit) -------------------------------------------------

    async def on_dialog_open(self, ctx: ActivityContext[TaskFetchInvokeActivity]) -> Any:
        return await self._in_dialog(ctx, self._open, "opened")

    async def _in_dialog(
        self,
        ctx: ActivityContext[TaskFetchInvokeActivity] | ActivityContext[TaskSubmitInvokeActivity],
        act: Callable[[PersonRef, dict[str, Any]], Awaitable[Any]],
        done: str,
    ) -> Any:
        """A dialog's fetch or submit: who asks, what the dialog carries, and a calm answer
        (never an error) when the person is unknown or the work fails."""
        await self._remember(ctx.activity)
        ref = person_ref(ctx.activity)
        data = _dict(ctx.activity.value.data if ctx.activity.value else None)
        if ref is None:
            return dialogs.build_dialog_message(self.default.text("button_expired"))
        try:
            return await act(ref, data)
        except Exception:
            logger.exception("a Teams dialog could not be %s", done)
            return dialogs.build_dialog_message(self.unavailable)

    async def _open(self, ref: PersonRef, data: dict[str, Any]) -> dict[str, Any]:
        form = str(data.get("dialog_id") or "")
        opener = str(data.get("opener") or "")
        value = str(data.get("value") or "")
        row = number_in(data, "value")
        locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
        expired = dialogs.build_dialog_message(locale.text("button_expired"))
        from_checkin = None
        if opener in ids.NUDGE_ANSWERS:  # the check-in must still be live and the person's
            reply = await asyncio.to_thread(
                answer_nudge, self.services, ref, checkin_id=row, choice=opener
            )
            if reply.open_form is None:
                return dialogs.build_dialog_message(reply.note or locale.text("button_expired"))
            form, from_checkin = reply.open_form, row
        if form == ids.GOALS_FORM:
            if opener == ids.MEETING_TO_GOALS:
                found = await asyncio.to_thread(
                    meetings.next_steps_as_goals, self.services, ref, row
                )
                if found is None:
                    return expired
                locale, goals = found
            else:
                locale, goals = await asyncio.to_thread(current_goals, self.services, ref)
            card = dialogs.build_goals_form(locale, goals, from_checkin=from_checkin)
            return dialogs.build_dialog(locale.checkin("goals_form", "title"), card)
        if form == ids.FEEDBACK_FORM:
            card = dialogs.build_feedback_form(locale, from_checkin=from_checkin)
            return dialogs.build_dialog(locale.checkin("feedback_form", "title"), card)
        if form == ids.NOTES_FORM:
            card = dialogs.build_notes_form(locale)
            return dialogs.build_dialog(locale.checkin("feedback_notes", "title"), card)
        if form == ids.PROGRESS_NOTE_FORM and opener == ids.OPEN_PROGRESS_NOTE:
            card = dialogs.build_progress_note_form(locale, from_checkin=row)
            return dialogs.build_dialog(locale.checkin("progress_note", "title"), card)
        if form == ids.MANAGER_INVITE_FORM:
            card = dialogs.build_invite_form(locale)
            return dialogs.build_dialog(locale.checkin("meeting_invite_form", "title"), card)
        if form == ids.MEETING_PICK_FORM:
            card = dialogs.build_pick_form(locale)
            return dialogs.build_dialog(locale.checkin("meeting_pick_form", "title"), card)
        if form == ids.MEETING_FORM and opener == ids.MEETING_PREPARE:
            return await self._template_or_refusal(ref, aad_id(value), locale)
        return expired

    async def _template_or_refusal(
        self, ref: PersonRef, target: str | None, locale: LocaleContent
    ) -> dict[str, Any]:
        refusal = await self._refusal(ref, target)
        if refusal is not None or target is None:
            return dialogs.build_dialog_message(refusal or locale.text("button_expired"))
        return await self._template(ref, target, locale)

    async def _template(
        self,
        ref: PersonRef,
        target: str,
        locale: LocaleContent,
        errors: dict[str, str] | None = None,
        typed: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        names = await asyncio.to_thread(
            self.sender.names, ref.workspace_id, _naming(mention(target))
        )
        name = names[target]
        card = dialogs.build_template_form(locale, target, name, errors=errors, typed=typed)
        return dialogs.build_dialog(locale.checkin("meeting_template_form", "title"), card)

    async def _refusal(self, ref: PersonRef, target: str | None) -> str | None:
        """None if `ref` may prepare a meeting for `target`, else what to tell them."""
        if target is None:
            return self.default.checkin("meeting_refused", "not_a_person")
        subject = await self.directory.someone(ref.workspace_id, target)
        access = await asyncio.to_thread(
            meetings.check_access,
            self.services,
            ref,
            subject,
            in_group=self.directory.in_manager_group(ref),
        )
        return None if access.authority is not None else access.refusal or self.unavailable

    async def on_dialog_submit(self, ctx: ActivityContext[TaskSubmitInvokeActivity]) -> Any:
        return await self._in_dialog(ctx, self._submit, "saved")

    async def _submit(self, ref: PersonRef, data: dict[str, Any]) -> dict[str, Any] | None:
        form = str(data.get("action") or "")
        locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
        if form == ids.GOALS_FORM:
            drafts, from_checkin = dialogs.read_goals_form(data)
            saved = await asyncio.to_thread(
                lambda: save_goals(self.services, ref, drafts, from_checkin=from_checkin)
            )
            if saved.errors:
                card = dialogs.build_goals_form(
                    locale, [], from_checkin=from_checkin, errors=saved.errors, typed=data
                )
                return dialogs.build_dialog(locale.checkin("goals_form", "title"), card)
            if saved.retire is not None:
                self._later(self._retire(*saved.retire))
            self._later(self.send_rows(saved.send_now))
            return None
        if form == ids.FEEDBACK_FORM:
            decider, focus, tone = dialogs.read_feedback_form(data)
            result = await asyncio.to_thread(
                lambda: request_feedback(
                    self.services, ref, decider=decider, focus=focus, tone=tone
                )
            )
            if result.errors:
                card = dialogs.build_feedback_form(
                    locale,
                    from_checkin=number_in(data, "checkin"),
                    errors=result.errors,
                    typed=data,
                )
                return dialogs.build_dialog(locale.checkin("feedback_form", "title"), card)
            self._later(self.send_rows(result.send_now))
            return None
        if form == ids.NOTES_FORM:
            keep, work_on = dialogs.read_notes_form(data)
            result = await asyncio.to_thread(
                lambda: save_notes(self.services, ref, keep=keep, work_on=work_on)
            )
            if result.errors:
                card = dialogs.build_notes_form(locale, errors=result.errors, typed=data)
                return dialogs.build_dialog(locale.checkin("feedback_notes", "title"), card)
            return dialogs.build_dialog_message(locale.text("teams_notes_saved"))
        if form == ids.PROGRESS_NOTE_FORM:
            checkin_id, text = dialogs.read_progress_note_form(data)
            result = await asyncio.to_thread(
                lambda: save_progress_note(self.services, ref, checkin_id=checkin_id, text=text)
            )
            if result.errors:
                card = dialogs.build_progress_note_form(
                    locale, from_checkin=checkin_id, errors=result.errors, typed=data
                )
                return dialogs.build_dialog(locale.checkin("progress_note", "title"), card)
            return dialogs.build_dialog_message(locale.checkin("progress_note", "saved"))
        if form == ids.MANAGER_INVITE_FORM:
            return await self._invite(ref, data, locale)
        if form == ids.MEETING_PICK_FORM:
            target = dialogs.read_person(data, "person")
            refusal = await self._refusal(ref, target)
            if refusal is not None or target is None:
                card = dialogs.build_pick_form(locale, errors={"person": refusal or ""})
                return dialogs.build_dialog(locale.checkin("meeting_pick_form", "title"), card)
            return await self._template(ref, target, locale)
        if form == ids.MEETING_FORM:
            return await self._prepare(ref, data, locale)
        return dialogs.build_dialog_message(locale.text("button_expired"))

    async def _invite(
        self, ref: PersonRef, data: dict[str, Any], locale: LocaleContent
    ) -> dict[str, Any]:
        form = locale.checkins["meeting_invite_form"]
        manager_id = dialogs.read_person(data, "manager")
        if manager_id is None:
            answer = meetings.FormAnswer(errors={"manager": form["error_unknown"]})
        else:
            manager = self.directory.invitee(manager_id)
            answer = await asyncio.to_thread(
                lambda: meetings.invite_manager(self.services, ref, manager)
            )
        if answer.errors:
            card = dialogs.build_invite_form(locale, errors=answer.errors)
            return dialogs.build_dialog(form["title"], card)
        self._later(self.send_rows(answer.send_now))
        return dialogs.build_dialog_message(answer.saved)

    async def _prepare(
        self, ref: PersonRef, data: dict[str, Any], locale: LocaleContent
    ) -> dict[str, Any]:
        target, draft = dialogs.read_template_form(data)
        if target is None:
            return dialogs.build_dialog_message(locale.text("button_expired"))
        subject = await self.directory.someone(ref.workspace_id, target)
        in_group = self.directory.in_manager_group(ref)
        answer = await asyncio.to_thread(
            lambda: meetings.prepare_meeting(self.services, ref, subject, draft, in_group=in_group)
        )
        if answer.errors:
            return await self._template(ref, target, locale, errors=answer.errors, typed=data)
        self._later(self.send_rows(answer.send_now))
        names = await self._names(ref, answer.saved)
        return dialogs.build_dialog_message(_with_names(answer.saved, names))

    # -- shared -----------------------------------------------------------------------------

    async def send_rows(self, checkin_ids: tuple[int, ...]) -> None:
        """Send rows a handler just wrote, at once; whatever fails here a sweep sends later."""
        for checkin_id in checkin_ids:
            try:
                await self.dispatcher.send_now(checkin_id)
            except Exception:
                logger.exception("sending check-in %s failed", checkin_id)

    async def _retire(self, channel_id: str, activity_id: str, shown: Message) -> None:
        try:
            await self.sender.redraw(channel_id, activity_id, shown)
        except Exception:
            logger.warning("could not update the goals check-in", exc_info=True)

    async def _send(self, ctx: ActivityContext[Any], ref: PersonRef, message: Message) -> None:
        try:
            card = await self.sender.card_for(ref.workspace_id, message)
            await ctx.send(card_activity(message, card))
        except Exception:
            logger.exception("could not answer in Teams")

    async def _remember(self, activity: ActivityBase) -> Chat | None:
        """Keep (or refresh) the person's conversation reference, when it is a personal chat."""
        chat = chat_of(activity)
        if chat is None:
            return None
        try:
            woken = await asyncio.to_thread(self._store_chat, chat)
        except Exception:
            logger.exception("could not store a Teams conversation reference")
            return chat
        if woken:  # an invitation that waited for this person to add the app
            self._later(self.send_rows(woken))
        return chat

    def _store_chat(self, chat: Chat) -> tuple[int, ...]:
        """Keep the reference; the time zone and language Teams reports are the person's
        profile (Slack's comes from users.info), and a new zone moves what is planned.
        Returns the rows that were waiting for the person's first chat, now due."""
        now = self.services.clock()
        with self.services.sessions.begin() as session:
            remembered = remember_chat(session, chat=chat, now=now)
            person = remembered.person
            moved = bool(chat.time_zone) and chat.time_zone != person.time_zone
            person.time_zone = chat.time_zone or person.time_zone
            person.locale = chat.locale or person.locale
            person.profile_checked_at = now
            session.add(person)
            if moved and not person.time_zone_override:
                session.flush()
                replan_for_person(
                    session,
                    person=person,
                    settings=self.services.settings,
                    timing=self.services.content.timing,
                )
            return remembered.woken

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    def _plain(self, locale: LocaleContent, key: str) -> Message:
        return plain(locale, self.services.settings, locale.text(key))

    async def _names(self, ref: PersonRef, text: str) -> dict[str, str]:
        return await asyncio.to_thread(self.sender.names, ref.workspace_id, _naming(text))


def command_text(text: str) -> str:
    """What the person typed, without @mentions of the bot and the command's own name."""
    words = AT_MENTION.sub(" ", clean_typed(text)).split()
    if words and words[0].lower() in ids.TEAMS_COMMAND_WORDS:
        words = words[1:]
    return " ".join(words)[:500]


def _naming(text: str) -> Message:
    return Message(notification="", note=text)


def _with_names(text: str, names: dict[str, str]) -> str:
    return MENTION.sub(lambda match: names.get(match.group(1), names.get("", "")), text)


def _dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _card_response(card: Card) -> dict[str, Any]:
    return {"statusCode": 200, "type": CARD, "value": card}


def _card_message(text: str) -> dict[str, Any]:
    """An Action.Execute answer that leaves the card as it is and shows a short message."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}

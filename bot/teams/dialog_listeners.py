"""Teams handlers of dialogs (task/fetch and task/submit): each form opened, and its
answer saved or shown again with its errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_teams.api.activities.invoke import TaskFetchInvokeActivity, TaskSubmitInvokeActivity
from microsoft_teams.apps import ActivityContext

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.teams import dialogs
from bot.teams.activity_reading import aad_id, person_ref
from bot.teams.dialogs import number_in
from bot.teams.listening import TeamsListening, as_dict, naming_message
from handlers import (
    locale_lookup,
    manager_invitation,
    meeting_access,
    meeting_answer,
    meeting_preparation,
    replies,
)
from handlers.checkin_answers import answer_nudge, save_progress_note
from handlers.feedback import request_feedback, save_notes
from handlers.goals import current_goals, save_goals
from messages.content import LocaleContent
from messages.model import MENTION, Message, mention

logger = logging.getLogger(__name__)


class DialogListeners(TeamsListening):
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
        data = as_dict(ctx.activity.value.data if ctx.activity.value else None)
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
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
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
                    meeting_answer.next_steps_as_goals, self.services, ref, row
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
            self.sender.names, ref.workspace_id, naming_message(mention(target))
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
            meeting_access.check_access,
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
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
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
            answer = replies.FormAnswer(errors={"manager": form["error_unknown"]})
        else:
            manager = self.directory.invitee(manager_id)
            answer = await asyncio.to_thread(
                lambda: manager_invitation.invite_manager(self.services, ref, manager)
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
            lambda: meeting_preparation.prepare_meeting(
                self.services, ref, subject, draft, in_group=in_group
            )
        )
        if answer.errors:
            return await self._template(ref, target, locale, errors=answer.errors, typed=data)
        self._later(self.send_rows(answer.send_now))
        names = await self._names(ref, answer.saved)
        return dialogs.build_dialog_message(_with_names(answer.saved, names))

    async def _retire(self, channel_id: str, activity_id: str, shown: Message) -> None:
        try:
            await self.sender.redraw(channel_id, activity_id, shown)
        except Exception:
            logger.warning("could not update the goals check-in", exc_info=True)


def _with_names(text: str, names: dict[str, str]) -> str:
    return MENTION.sub(lambda match: names.get(match.group(1), names.get("", "")), text)

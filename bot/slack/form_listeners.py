"""Bolt listeners of the forms: the buttons that open a modal, and each modal's submission
(feedback request, notes, goals, progress note, working hours)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.slack.blocks import build_message_blocks
from bot.slack.listening import SlackListening
from bot.slack.request_reading import button_number, person_ref
from bot.slack.views import (
    build_feedback_modal,
    build_goals_modal,
    build_hours_modal,
    build_notes_modal,
    build_progress_note_modal,
    read_feedback_form,
    read_goals_form,
    read_hours_form,
    read_notes_form,
    read_progress_note_form,
    saved_view,
)
from handlers import journey_controls, locale_lookup
from handlers.checkin_answers import save_progress_note
from handlers.feedback import FormResult, request_feedback, save_notes
from handlers.goals import SavedGoals, current_goals, save_goals

logger = logging.getLogger(__name__)

# What a form's handler gives back: inline errors, or what saving it asks of the adapter.
FormOutcome = SavedGoals | FormResult | journey_controls.WorkingTimeResult


class FormListeners(SlackListening):
    async def _open_form(
        self,
        form: str,
        client: AsyncWebClient,
        ref: PersonRef,
        trigger_id: str,
        from_checkin: int | None = None,
    ) -> None:
        """Open a form at once: a trigger_id expires three seconds after the click."""
        try:
            if form == ids.GOALS_FORM:
                locale, goals = await asyncio.to_thread(current_goals, self.services, ref)
                view = build_goals_modal(locale, goals, from_checkin=from_checkin)
            elif form == ids.PROGRESS_NOTE_FORM:
                locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
                view = build_progress_note_modal(locale, from_checkin=from_checkin)
            elif form == ids.HOURS_FORM:
                locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
                shown = await asyncio.to_thread(
                    journey_controls.set_working_time,
                    self.services,
                    ref,
                    hours=None,
                    days=None,
                    zone=None,
                    keep_zone=True,
                )
                view = build_hours_modal(locale, shown.current)
            else:
                locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
                view = (
                    build_feedback_modal(locale, from_checkin=from_checkin)
                    if form == ids.FEEDBACK_FORM
                    else build_notes_modal(locale)
                )
            await client.views_open(trigger_id=trigger_id, view=view)
        except Exception:
            logger.exception("could not open the %s", form)

    async def on_form_opener(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """A button (on a stage or the home tab) that only opens a form."""
        await ack()
        ref = person_ref(context)
        opener = str(action.get("action_id"))
        form = ids.FORM_OPENERS.get(opener)
        trigger_id = str(body.get("trigger_id") or "")
        if ref is None:
            return
        if opener == ids.OPEN_PROGRESS_NOTE:
            checkin_id = button_number(action.get("value"))
            await self._open_form(ids.PROGRESS_NOTE_FORM, client, ref, trigger_id, checkin_id)
        elif form is not None:
            await self._open_form(form, client, ref, trigger_id)

    async def on_feedback_submitted(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        decider, focus, tone = read_feedback_form(view)
        accepted = await self._accept_form(
            ack,
            context,
            "decider",
            lambda ref: request_feedback(
                self.services, ref, decider=decider, focus=focus, tone=tone
            ),
        )
        if accepted is not None:
            ref, result = accepted
            assert isinstance(result, FormResult)
            await ack()
            await self._send_now(result, None, ref)

    async def on_notes_submitted(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        keep, work_on = read_notes_form(view)
        accepted = await self._accept_form(
            ack,
            context,
            "keep",
            lambda ref: save_notes(self.services, ref, keep=keep, work_on=work_on),
        )
        if accepted is not None:
            await self._ack_saved(ack, accepted[0], "feedback_notes")

    async def on_goals_submitted(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        drafts, from_checkin = read_goals_form(view)
        accepted = await self._accept_form(
            ack,
            context,
            "what_1",
            lambda ref: save_goals(self.services, ref, drafts, from_checkin=from_checkin),
        )
        if accepted is None:
            return
        ref, saved = accepted
        assert isinstance(saved, SavedGoals)
        await ack()
        if saved.retire is not None:
            channel, ts, shown = saved.retire
            try:
                await client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=shown.notification,
                    blocks=build_message_blocks(shown),
                )
            except Exception:
                logger.warning("could not update the goals check-in", exc_info=True)
        await self._send_now(saved, None, ref)

    async def on_progress_note_submitted(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        checkin_id, text = read_progress_note_form(view)
        accepted = await self._accept_form(
            ack,
            context,
            "note",
            lambda ref: save_progress_note(self.services, ref, checkin_id=checkin_id, text=text),
        )
        if accepted is not None:
            await self._ack_saved(ack, accepted[0], "progress_note")

    async def _accept_form(
        self,
        ack: AsyncAck,
        context: AsyncBoltContext,
        first_field: str,
        save: Callable[[PersonRef], FormOutcome],
    ) -> tuple[PersonRef, FormOutcome] | None:
        """Run a form's handler; errors go back inline in the form, and None is returned."""
        ref = person_ref(context)
        if ref is None:
            await ack()
            return None
        try:
            result = await self._answer(save, ref)
        except Exception:
            logger.exception("a form could not be saved")
            await ack(response_action="errors", errors={first_field: self.unavailable})
            return None
        if result.errors:
            await ack(response_action="errors", errors=result.errors)
            return None
        return ref, result

    async def _ack_saved(self, ack: AsyncAck, ref: PersonRef, section: str) -> None:
        """Turn the form into a short note that it was saved."""
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        form = locale.checkins[section]
        await ack(
            response_action="update", view=saved_view(form["title"], form["saved"], form["close"])
        )

    async def on_hours_submitted(
        self,
        ack: AsyncAck,
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        hours, days, zone = read_hours_form(view)
        accepted = await self._accept_form(
            ack,
            context,
            "hours",
            lambda ref: journey_controls.set_working_time(
                self.services, ref, hours=hours, days=days, zone=zone
            ),
        )
        if accepted is None:
            return
        ref, result = accepted
        assert isinstance(result, journey_controls.WorkingTimeResult)
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        title, close = locale.text("hours_form_title"), locale.text("hours_form_close")
        await ack(response_action="update", view=saved_view(title, result.summary, close))
        await self.publish_home(client, ref)

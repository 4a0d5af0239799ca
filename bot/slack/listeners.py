"""Bolt listener wiring: a flat list of registrations; each listener acks first, then works."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ids
from bot.core.dependencies import Services
from bot.core.models import GoalStatus
from bot.core.person_ref import PersonRef
from bot.core.storage import events
from bot.slack.blocks import (
    build_home_view,
    build_message_blocks,
    plain_text_of,
    replace_actions_with_note,
)
from bot.slack.meeting_listeners import MeetingListeners, register_meetings
from bot.slack.oauth import SlackInstalls
from bot.slack.request_reading import button_number, names_other_message, person_ref, quietly
from bot.slack.uninstall_listeners import UninstallListeners
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
from handlers import controls
from handlers.admin_report import admin_section
from handlers.checkin_answers import answer_nudge, save_progress_note
from handlers.command import run_command
from handlers.export import export_data
from handlers.feedback import FormResult, request_feedback, save_notes
from handlers.goals import SavedGoals, current_goals, save_goals, set_goal_status
from handlers.home import home
from handlers.neutral_messages import forget_prompt
from handlers.outbox import SentCopy, sent_copy
from handlers.replies import ChoiceReply, CommandReply
from handlers.stage_choice import choose
from handlers.start import start_or_resume
from messages.model import Button, Message, clean_typed
from scheduler.dispatcher import Dispatcher, SendOutcome

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
# Where the web endpoint puts the request's arrival (time.perf_counter()) in Bolt's context.
ARRIVED = "notpromoted_arrived"
# Bolt's wait for an acknowledgement before it tries the next matching listener.
BOLT_ACK_TIMEOUT_SECONDS = 3.0


async def arrived_in_time(context: AsyncBoltContext) -> bool:
    """False for a request Bolt has already waited on for its full ack timeout."""
    arrived = context.get(ARRIVED)
    return (
        not isinstance(arrived, float) or time.perf_counter() - arrived < BOLT_ACK_TIMEOUT_SECONDS
    )


# What a form's handler gives back: inline errors, or what saving it asks of the adapter.
FormOutcome = SavedGoals | FormResult | controls.WorkingTimeResult


def register(
    app: AsyncApp,
    services: Services,
    dispatcher: Dispatcher,
    installs: SlackInstalls | None = None,
) -> None:
    listeners = SlackListeners(services, dispatcher)
    removal = UninstallListeners(services, installs)
    app.middleware(listeners.skip_redelivered_events)
    # Every command name (the app may be installed under another) has this one listener. One:
    # when a listener has not acknowledged within 3 s, Bolt tries the next that matches, and
    # a second would run the same command again.
    app.command(re.compile(".*"))(listeners.on_command)
    buttons = (*ids.STAGE_CHOICES, *ids.NUDGE_ANSWERS)
    app.action(re.compile(f"^({'|'.join(buttons)})$"))(listeners.on_checkin_button)
    app.action(ids.FORGET_CONFIRM)(listeners.on_forget_confirm)
    app.action(ids.FORGET_CANCEL)(listeners.on_forget_cancel)
    app.action(ids.HOME_START)(listeners.on_home_start)
    app.action(re.compile(f"^({'|'.join(ids.HOME_CONTROLS)})$"))(listeners.on_home_control)
    app.view(ids.GOALS_FORM)(listeners.on_goals_submitted)
    app.view(ids.FEEDBACK_FORM)(listeners.on_feedback_submitted)
    app.view(ids.NOTES_FORM)(listeners.on_notes_submitted)
    app.view(ids.HOURS_FORM)(listeners.on_hours_submitted)
    openers = (*ids.FORM_OPENERS, ids.OPEN_PROGRESS_NOTE)
    app.action(re.compile(f"^({'|'.join(openers)})$"))(listeners.on_form_opener)
    app.view(ids.PROGRESS_NOTE_FORM)(listeners.on_progress_note_submitted)
    app.action(re.compile(f"^({ids.GOAL_DONE}|{ids.GOAL_DROP})$"))(listeners.on_goal_status)
    app.event("app_home_opened")(listeners.on_home_opened)
    app.event("app_uninstalled")(removal.on_app_uninstalled)
    app.event("tokens_revoked")(removal.on_tokens_revoked)
    listeners.meetings = register_meetings(app, listeners)
    # Anything else is acknowledged, never answered with an error. A request reaches these
    # after 3 s only when its own listener was slower than that (Bolt then moves on to the
    # next that matches): it is that listener's, not an unknown one. Events are acknowledged
    # by Bolt before their listener runs.
    in_time = [arrived_in_time]
    app.action(re.compile(".*"), matchers=in_time)(listeners.on_unknown_action)
    app.event(re.compile(".*"))(listeners.on_other_event)
    app.view(re.compile(".*"), matchers=in_time)(listeners.ack_only)
    app.shortcut(re.compile(".*"), matchers=in_time)(listeners.ack_only)
    app.options(re.compile(".*"), matchers=in_time)(listeners.ack_only)


class SlackListeners:
    def __init__(self, services: Services, dispatcher: Dispatcher) -> None:
        self.services = services
        self.dispatcher = dispatcher
        # Said when the database does not answer, so in the default language: no locale known.
        self.unavailable = services.content.for_locale(None).text("ack_unavailable")
        self.meetings: MeetingListeners | None = None

    async def skip_redelivered_events(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """An event Slack delivers again (a retry of one we handled) has one effect."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str):
            try:
                first = await asyncio.to_thread(self._record_event, event_id)
            except Exception:
                logger.exception("could not record event %s", event_id)
                return BoltResponse(status=503, body="")  # Slack will retry it later
            if not first:
                return BoltResponse(status=200, body="")
        await next()
        return None

    def _record_event(self, event_id: str) -> bool:
        with self.services.sessions.begin() as session:
            return events.record_event(session, event_id=event_id, now=self.services.clock())

    async def _answer(self, work: Callable[..., _T], *args: Any) -> _T:
        """Work a person waits on before Slack gets its answer (a command, a form): it goes
        before the sending that follows earlier commands."""
        return await asyncio.wrap_future(self.services.blocking.submit_first(work, *args))

    async def on_command(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        ref = person_ref(context)
        if ref is None:
            await ack()
            return
        text = clean_typed(str(body.get("text") or ""))
        word, _, rest = text.strip().partition(" ")
        if word.lower() == "meeting" and self.meetings is not None:
            await self.meetings.on_command(ref, rest, body, ack, respond, client)
            return
        try:
            reply = await self._answer(run_command, self.services, ref, text)
        except Exception:
            logger.exception("command failed before it was acknowledged")
            await ack(text=self.unavailable, response_type="ephemeral")
            return
        if reply.open_form:
            # The trigger_id expires three seconds after the command: open the form first.
            await ack()
            await self._open_form(reply.open_form, client, ref, str(body.get("trigger_id") or ""))
            return
        message = reply.message
        await ack(
            text=plain_text_of(message),
            blocks=build_message_blocks(message),
            response_type="ephemeral",
        )
        if reply.send_export:
            await self._send_export(client, ref)
        await self._send_now(reply, respond, ref)

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
                locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
                view = build_progress_note_modal(locale, from_checkin=from_checkin)
            elif form == ids.HOURS_FORM:
                locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
                shown = await asyncio.to_thread(
                    controls.set_working_time,
                    self.services,
                    ref,
                    hours=None,
                    days=None,
                    zone=None,
                    keep_zone=True,
                )
                view = build_hours_modal(locale, shown.current)
            else:
                locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
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

    async def send_rows(self, checkin_ids: tuple[int, ...]) -> None:
        """Send rows a handler just wrote, at once; whatever fails here a sweep sends later."""
        for checkin_id in checkin_ids:
            try:
                await self.dispatcher.send_now(checkin_id)
            except Exception:
                logger.exception("sending check-in %s failed", checkin_id)

    async def _send_now(
        self,
        reply: CommandReply | ChoiceReply | SavedGoals | FormResult,
        respond: AsyncRespond | None,
        ref: PersonRef,
    ) -> None:
        for checkin_id in reply.send_now:
            try:
                outcome = await self.dispatcher.send_now(
                    checkin_id, respond.response_url if respond else None
                )
            except Exception:  # the row stays claimed; its lease runs out and a sweep sends it
                logger.exception("sending check-in %s failed", checkin_id)
                continue
            if outcome is SendOutcome.FAILED and respond is not None:
                locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
                text = locale.text("ack_dm_failed", app_name=self.services.settings.display_name)
                await quietly(respond(text=text, response_type="ephemeral", replace_original=False))

    async def on_checkin_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """A button on a stage or a check-in: the value is the row's id, the action the choice."""
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        choice = str(action.get("action_id"))
        answer = choose if choice in ids.STAGE_CHOICES else answer_nudge
        checkin_id = button_number(action.get("value"))
        try:
            copy = await asyncio.to_thread(sent_copy, self.services, ref, checkin_id)
            if copy is not None and names_other_message(body, copy):
                await self.refuse_click(ref, respond)
                return
            reply = await asyncio.to_thread(
                answer, self.services, ref, checkin_id=checkin_id, choice=choice
            )
        except Exception:
            logger.exception("a button answer failed")
            await quietly(
                respond(text=self.unavailable, response_type="ephemeral", replace_original=False)
            )
            return
        if reply.open_form:
            trigger_id = str(body.get("trigger_id") or "")
            await self._open_form(reply.open_form, client, ref, trigger_id, checkin_id)
        if reply.note is not None:
            await self.update_clicked(body, client, respond, reply.note, reply.follow_up, copy=copy)
        await self._send_now(reply, respond, ref)

    async def refuse_click(self, ref: PersonRef, respond: AsyncRespond) -> None:
        """A click whose payload names another message than the one its row was posted as:
        Slack never sends one, so it changes nothing and is told only that the button expired."""
        logger.info("a click named another message than its row's; nothing changed")
        if respond is None:  # Bolt gives none to a payload without a response_url
            return
        locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
        await quietly(
            respond(
                text=locale.text("button_expired"),
                response_type="ephemeral",
                replace_original=False,
            )
        )

    async def on_forget_confirm(
        self,
        ack: AsyncAck,
        context: AsyncBoltContext,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        try:
            prompt = await asyncio.to_thread(self._forget_prompt, ref)
            reply = await asyncio.to_thread(controls.confirm_forget, self.services, ref)
        except Exception:
            logger.exception("forget failed")
            await quietly(
                respond(text=self.unavailable, response_type="ephemeral", replace_original=False)
            )
            return
        await self.update_clicked(body, client, respond, reply.note or "", original=prompt)

    async def on_forget_cancel(
        self,
        ack: AsyncAck,
        context: AsyncBoltContext,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        prompt = await asyncio.to_thread(self._forget_prompt, ref)
        reply = await asyncio.to_thread(controls.cancel_forget, self.services, ref)
        await self.update_clicked(body, client, respond, reply.note or "", original=prompt)

    def _forget_prompt(self, ref: PersonRef) -> Message:
        """The prompt whose buttons were clicked, as the command drew it (before an erase)."""
        locale = controls.person_locale(self.services, ref)
        return forget_prompt(locale, self.services.settings)

    async def on_home_start(
        self, ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        try:
            reply = await asyncio.to_thread(start_or_resume, self.services, ref)
        except Exception:
            logger.exception("start from the home tab failed")
            return
        await self._send_now(reply, None, ref)
        await self.publish_home(client, ref)

    async def on_home_opened(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        ref = person_ref(context)
        if ref is None or event.get("tab") != "home":
            return
        await self.publish_home(client, ref)

    async def publish_home(self, client: AsyncWebClient, ref: PersonRef) -> None:
        try:
            view = await asyncio.to_thread(self._home_view, ref)
            await client.views_publish(user_id=ref.user_id, view=view)
        except Exception:
            logger.exception("could not publish the home tab")

    def _home_view(self, ref: PersonRef) -> dict[str, Any]:
        """The person's home, and for HR admins the report under it."""
        return build_home_view(home(self.services, ref), admin_section(self.services, ref))

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
        locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
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
            lambda ref: controls.set_working_time(
                self.services, ref, hours=hours, days=days, zone=zone
            ),
        )
        if accepted is None:
            return
        ref, result = accepted
        assert isinstance(result, controls.WorkingTimeResult)
        locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
        title, close = locale.text("hours_form_title"), locale.text("hours_form_close")
        await ack(response_action="update", view=saved_view(title, result.summary, close))
        await self.publish_home(client, ref)

    async def on_goal_status(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Done or let go, from a goal's own buttons on the home tab."""
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        status = GoalStatus.DONE if action.get("action_id") == ids.GOAL_DONE else GoalStatus.DROPPED
        try:
            await asyncio.to_thread(
                set_goal_status,
                self.services,
                ref,
                goal_id=button_number(action.get("value")),
                status=status,
            )
        except Exception:
            logger.exception("changing a goal failed")
        await self.publish_home(client, ref)

    async def on_home_control(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Pause, resume, export or erase, from the home tab; then show the tab afresh."""
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        choice = action.get("action_id")
        try:
            if choice == ids.HOME_EXPORT:
                await self._send_export(client, ref)
            elif choice == ids.HOME_ERASE:
                await asyncio.to_thread(controls.confirm_forget, self.services, ref)
            else:
                change = controls.pause if choice == ids.HOME_PAUSE else controls.resume
                reply = await asyncio.to_thread(change, self.services, ref)
                await self._send_now(reply, None, ref)
        except Exception:
            logger.exception("a home tab control failed")
        await self.publish_home(client, ref)

    async def _send_export(self, client: AsyncWebClient, ref: PersonRef) -> None:
        """Everything kept about the person, as a JSON file in their DM with the bot."""
        try:
            data = await asyncio.to_thread(export_data, self.services, ref)
            if data is None:
                return
            locale = await asyncio.to_thread(controls.person_locale, self.services, ref)
            opened = await client.conversations_open(users=ref.user_id)
            await client.files_upload_v2(
                channel=opened["channel"]["id"],
                filename="my-data.json",
                title=locale.text("export_comment"),
                content=json.dumps(data, indent=2, ensure_ascii=False),
                initial_comment=locale.text("export_comment"),
            )
        except Exception:
            logger.exception("could not send the data export")

    async def on_unknown_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        ref = person_ref(context)
        locale = (
            await asyncio.to_thread(controls.person_locale, self.services, ref) if ref else None
        )
        note = (
            locale.text("button_expired")
            if locale
            else self.services.content.for_locale(None).text("button_expired")
        )
        await self.update_clicked(body, client, respond, note)

    async def on_other_event(self, ack: AsyncAck) -> None:
        await ack()

    async def ack_only(self, ack: AsyncAck) -> None:
        await ack()

    async def update_clicked(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        note: str,
        follow_up: tuple[Button, ...] = (),
        *,
        copy: SentCopy | None = None,
        original: Message | None = None,
    ) -> None:
        """Show the choice in place of the buttons of the message that was clicked.

        Only ever the message the bot recorded for the clicked row (`copy`), drawn again from
        what it was made of: a payload's channel, ts and blocks are the clicker's to forge (with
        the signing secret), so they never choose what is edited or what it says. `original`
        is an ephemeral answer of ours with buttons (the forget prompt): Slack's response_url,
        which only the clicked message has, replaces it. Anything else gets a private note.
        """
        try:
            if copy is not None:
                if names_other_message(body, copy):
                    logger.info("a click named another message than its row's; nothing changed")
                    return
                blocks = replace_actions_with_note(
                    build_message_blocks(copy.message), note, follow_up
                )
                await client.chat_update(
                    channel=copy.channel_id,
                    ts=copy.message_ts,
                    text=copy.message.notification,
                    blocks=blocks,
                )
            elif original is not None and (body.get("container") or {}).get("is_ephemeral"):
                blocks = replace_actions_with_note(build_message_blocks(original), note)
                await respond(
                    text=plain_text_of(original) or note, blocks=blocks, replace_original=True
                )
            else:
                blocks = replace_actions_with_note([], note, follow_up)
                await respond(
                    text=note, blocks=blocks, response_type="ephemeral", replace_original=False
                )
        except Exception:
            logger.warning("could not update the clicked message", exc_info=True)

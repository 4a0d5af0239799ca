"""Teams handlers of dialogs (task/fetch and task/submit): the button that opens one goes to
its route, which answers with the form; a submitted form goes to its form's route, and is
saved, shown again with its errors, or followed by the next form."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_teams.api.activities.invoke import TaskFetchInvokeActivity, TaskSubmitInvokeActivity
from microsoft_teams.apps import ActivityContext

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.teams.activity_reading import person_ref, pressed
from bot.teams.cards import named, plain_text_of
from bot.teams.form_render import build_dialog_message, build_form_dialog, read_dialog
from bot.teams.listening import TeamsListening, as_dict
from handlers import locale_lookup
from handlers.interaction import Interaction, Reply
from handlers.routes import form_route_for, route_for
from messages.form import Form

logger = logging.getLogger(__name__)


class DialogListeners(TeamsListening):
    async def on_dialog_open(self, ctx: ActivityContext[TaskFetchInvokeActivity]) -> Any:
        return await self._in_dialog(ctx, self._open, "opened")

    async def on_dialog_submit(self, ctx: ActivityContext[TaskSubmitInvokeActivity]) -> Any:
        return await self._in_dialog(ctx, self._submit, "saved")

    async def _in_dialog(
        self,
        ctx: ActivityContext[TaskFetchInvokeActivity] | ActivityContext[TaskSubmitInvokeActivity],
        act: Callable[[ActivityContext[Any], PersonRef, dict[str, Any]], Awaitable[Any]],
        done: str,
    ) -> Any:
        """A dialog's fetch or submit: who asks, what the dialog carries, and a calm answer
        (never an error) when the person is unknown or the work fails."""
        await self._remember(ctx.activity)
        ref = person_ref(ctx.activity)
        data = as_dict(ctx.activity.value.data if ctx.activity.value else None)
        if ref is None:
            return build_dialog_message(self.default.text("button_expired"))
        try:
            return await act(ctx, ref, data)
        except Exception:
            logger.exception("a Teams dialog could not be %s", done)
            return build_dialog_message(self.unavailable)

    async def _open(
        self, ctx: ActivityContext[Any], ref: PersonRef, data: dict[str, Any]
    ) -> dict[str, Any]:
        """The button's route (the `opener` its data names) answers with the form to show."""
        opener, value = pressed({"opener": data.get("opener"), "value": data.get("value")})
        route = route_for(opener) if opener != ids.TYPED else None
        if route is None:
            return await self._expired(ref)
        reply = await route.answer(self._turn(Interaction(ref, opener, value)))
        self._after(ctx, ref, reply)
        if reply.form is not None:
            return await self._dialog(ref, reply.form)
        said = reply.note or (plain_text_of(reply.message) if reply.message else None)
        return build_dialog_message(said) if said else await self._expired(ref)

    async def _submit(
        self, ctx: ActivityContext[Any], ref: PersonRef, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        submitted = read_dialog(data)
        form_route = form_route_for(submitted.form_id) if submitted else None
        if submitted is None or form_route is None:
            return await self._expired(ref)
        turn = self._turn(Interaction(ref, submitted.form_id, form=submitted))
        reply = await form_route.answer(turn)
        if reply.form is not None:  # the same form with its errors, or the next one
            return await self._dialog(ref, reply.form)
        self._after(ctx, ref, reply)
        if reply.message is not None:  # what follows a saved form (an invitation's withdraw)
            self._later(self._send(ctx, ref, reply.message))
        if reply.done is not None:
            text = reply.done.text
            return build_dialog_message(named(text, await self._names(ref, text)))
        return None

    def _after(self, ctx: ActivityContext[Any], ref: PersonRef, reply: Reply) -> None:
        """What goes on once Teams has the dialog's answer: a message shown again, the
        export, rows sent at once."""
        if reply.redraw is not None:
            self._later(self._redraw(reply.redraw))
        if reply.send_export:
            self._later(self._send_export(ctx, ref))
        self._later(self.send_rows(reply.send_now))

    async def _dialog(self, ref: PersonRef, form: Form) -> dict[str, Any]:
        names = await self._names(ref, form.intro) if form.intro else {}
        return build_form_dialog(form, names, people=self.people_dataset)

    async def _expired(self, ref: PersonRef) -> dict[str, Any]:
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        return build_dialog_message(locale.text("button_expired"))

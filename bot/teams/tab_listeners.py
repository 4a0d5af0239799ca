"""The Home tab's clicks and forms, answered by the same routes as a card click or a dialog
(handlers.routes), for the person the tab's sign-in names (bot.teams.tab_auth).

What a card click would show in the chat shows there from the tab too: the route's note (or
the message it answers with, or a saved form's closing text) is posted to the person's chat
with the bot, rows written for the answer are sent at once, a message the answer retires is
redrawn, and the data export is offered in the chat as a file (bot.teams.export_file), as the
`export` word does. The page then draws the Home afresh; what changed in the chat shows on
the tab's next load the same way, both being read from the one database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.teams.cards import Card, build_card, build_note_card, named, plain_text_of
from bot.teams.form_render import read_dialog
from bot.teams.listening import TeamsListening
from bot.teams.sender import card_activity
from handlers import locale_lookup
from handlers.home import home
from handlers.interaction import Interaction, Reply
from handlers.neutral_messages import notification
from handlers.routes import form_route_for, route_for
from messages.content import LocaleContent
from messages.form import Form
from messages.model import Message

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TabHome:
    message: Message
    names: Mapping[str, str]
    locale: LocaleContent


@dataclass(frozen=True)
class TabAnswer:
    """What the page shows after a click or a submission: a line for its live region (names
    put in), or a form to fill (again, with its errors)."""

    said: str | None = None
    form: Form | None = None
    names: Mapping[str, str] = field(default_factory=dict)


class TabListeners(TeamsListening):
    async def tab_home(self, ref: PersonRef) -> TabHome:
        message = await asyncio.to_thread(home, self.services, ref)
        names = await asyncio.to_thread(self.sender.names, ref.workspace_id, message)
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        return TabHome(message, names, locale)

    async def tab_click(self, ref: PersonRef, action: str, value: str) -> TabAnswer:
        """A button on the tab: its route, exactly as a card's Action.Execute or a dialog
        opener would run it."""
        route = route_for(action) if action != ids.TYPED else None
        if route is None:
            return await self._tab_expired(ref)
        reply = await route.answer(self._turn(Interaction(ref, action, value[:200])))
        return await self._tab_reply(ref, reply)

    async def tab_submit(self, ref: PersonRef, data: Mapping[str, Any]) -> TabAnswer:
        """A form sent from the tab, read by its spec as a dialog's data is (bot.teams.
        form_render.read_dialog), then its form's route."""
        submitted = read_dialog(data)
        form_route = form_route_for(submitted.form_id) if submitted is not None else None
        if submitted is None or form_route is None:
            return await self._tab_expired(ref)
        turn = self._turn(Interaction(ref, submitted.form_id, form=submitted))
        reply = await form_route.answer(turn)
        if reply.form is None and reply.done is None and reply.message is None:
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
            return await self._tab_reply(ref, reply, saved=locale.text("tab_saved"))
        return await self._tab_reply(ref, reply)

    async def _tab_reply(
        self, ref: PersonRef, reply: Reply, *, saved: str | None = None
    ) -> TabAnswer:
        if reply.redraw is not None:
            self._later(self._redraw(reply.redraw))
        if reply.form is not None:
            self._later(self._in_the_chat(ref, reply, None))
            intro = reply.form.intro or ""
            return TabAnswer(form=reply.form, names=await self._names(ref, intro))
        said = reply.done.text if reply.done is not None else reply.note
        self._later(self._in_the_chat(ref, reply, said))
        if reply.message is not None:
            said = said or plain_text_of(reply.message)
        if not said and saved is None and not reply.send_now:
            return await self._tab_expired(ref)
        shown = said or saved or ""
        return TabAnswer(said=named(shown, await self._names(ref, shown)))

    async def _in_the_chat(self, ref: PersonRef, reply: Reply, said: str | None) -> None:
        """What the tab's answer says, then its message, the rows it sends and the export, in
        the chat in that order, as a chat command answers ("running again", then the step)."""
        if said:
            await self._post_note(ref, said)
        if reply.message is not None:
            await self._post(ref, reply.message)
        await self.send_rows(reply.send_now)
        if reply.send_export:
            await self.export_file.offer(partial(self.sender.post, ref), ref)

    async def _tab_expired(self, ref: PersonRef) -> TabAnswer:
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        return TabAnswer(said=locale.text("button_expired"))

    async def _post_note(self, ref: PersonRef, text: str) -> None:
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        message = Message(notification=notification(locale, self.services.settings), note=text)
        card = build_note_card(text, names=await self._names(ref, text))
        await self._post_card(ref, message, card)

    async def _post(self, ref: PersonRef, message: Message) -> None:
        names = await asyncio.to_thread(self.sender.names, ref.workspace_id, message)
        await self._post_card(ref, message, build_card(message, names=names))

    async def _post_card(self, ref: PersonRef, message: Message, card: Card) -> None:
        try:
            if not await self.sender.post(ref, card_activity(message, card)):
                logger.info("a Home tab answer stays on the tab: the person has no chat yet")
        except Exception:
            logger.exception("could not post a Home tab answer to the person's chat")

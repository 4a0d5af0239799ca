"""Teams handler of card buttons (Action.Execute): the button's route (handlers.routes) runs,
and the answer is the clicked card redrawn with the note in place of its buttons."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_teams.api.activities.invoke import AdaptiveCardInvokeActivity
from microsoft_teams.apps import ActivityContext

from bot.core import ids
from bot.teams.activity_reading import person_ref, pressed
from bot.teams.cards import Card, build_answered_card, build_note_card, plain_text_of
from bot.teams.listening import TeamsListening, as_dict
from handlers import locale_lookup
from handlers.clicked import ClickedOn, clicked_message
from handlers.interaction import Interaction
from handlers.replies import row_id
from handlers.routes import route_for

logger = logging.getLogger(__name__)

CARD = "application/vnd.microsoft.card.adaptive"


class CardListeners(TeamsListening):
    async def on_card_action(self, ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> Any:
        """A choice on a card: the answer is the card redrawn, its buttons replaced by the note."""
        await self._remember(ctx.activity)
        ref = person_ref(ctx.activity)
        data = as_dict(ctx.activity.value.action.data if ctx.activity.value else None)
        action, value = pressed(data)
        checkin_id = row_id(data.get("checkin"))
        route = route_for(action) if action != ids.TYPED else None
        if ref is None:
            return _card_message(self.default.text("button_expired"))
        try:
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
            if route is None:
                return _card_message(locale.text("button_expired"))
            clicked = None
            if route.clicked is not ClickedOn.NOTHING:
                clicked = await asyncio.to_thread(
                    clicked_message, self.services, ref, route.clicked, value
                )
            reply = await route.answer(self._turn(Interaction(ref, action, value)))
        except Exception:
            logger.exception("a Teams card action failed")
            return _card_message(self.unavailable)
        self._later(self.send_rows(reply.send_now))
        if reply.send_export:
            self._later(self._send_export(ctx, ref))
        if reply.note is None:
            if reply.message is not None:  # said on its own (a refusal), the card stays
                return _card_message(plain_text_of(reply.message))
            # Another click counted first; its answer redrew the card.
            return _card_message(locale.text("button_expired"))
        if clicked is None:
            return _card_response(
                build_note_card(reply.note, names=await self._names(ref, reply.note))
            )
        before = clicked.message
        names = await asyncio.to_thread(self.sender.names, ref.workspace_id, before)
        names.update(await self._names(ref, reply.note))
        card = build_answered_card(
            before, reply.note, reply.follow_up, names=names, checkin_id=checkin_id
        )
        return _card_response(card)


def _card_response(card: Card) -> dict[str, Any]:
    return {"statusCode": 200, "type": CARD, "value": card}


def _card_message(text: str) -> dict[str, Any]:
    """An Action.Execute answer that leaves the card as it is and shows a short message."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}

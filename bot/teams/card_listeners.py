"""Teams handler of card buttons (Action.Execute): the choice is made, and the answer is the
card redrawn with the note in place of its buttons."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_teams.api.activities.invoke import AdaptiveCardInvokeActivity
from microsoft_teams.apps import ActivityContext

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.teams import dialogs
from bot.teams.activity_reading import person_ref
from bot.teams.cards import (
    Card,
    build_answered_card,
    build_note_card,
)
from bot.teams.dialogs import number_in
from bot.teams.listening import TeamsListening, as_dict
from handlers import journey_controls, locale_lookup, meeting_answer
from handlers.checkin_answers import answer_nudge
from handlers.neutral_messages import forget_prompt, home_message
from handlers.outbox import recompose_own
from handlers.replies import ChoiceReply
from handlers.stage_choice import choose
from handlers.start import start_or_resume
from messages.content import LocaleContent
from messages.model import Message, Paragraph

logger = logging.getLogger(__name__)

CARD = "application/vnd.microsoft.card.adaptive"


class CardListeners(TeamsListening):
    async def on_card_action(self, ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> Any:
        """A choice on a card: the answer is the card redrawn, its buttons replaced by the note."""
        await self._remember(ctx.activity)
        ref = person_ref(ctx.activity)
        data = as_dict(ctx.activity.value.action.data if ctx.activity.value else None)
        action = str(data.get("action") or "")
        value = str(data.get("value") or "")
        checkin_id = number_in(data, "checkin")
        if ref is None:
            return _card_message(self.default.text("button_expired"))
        try:
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
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
            return journey_controls.confirm_forget(self.services, ref)
        if action == ids.FORGET_CANCEL:
            return journey_controls.cancel_forget(self.services, ref)
        if action in (ids.MEETING_ACCEPT, ids.MEETING_DECLINE):
            accept = action == ids.MEETING_ACCEPT
            return meeting_answer.answer_offer(self.services, ref, row, accept=accept)
        if action == ids.HOME_START:
            started = start_or_resume(self.services, ref)
            said = " ".join(b.text for b in started.message.blocks if isinstance(b, Paragraph))
            return ChoiceReply(note=said, send_now=started.send_now)
        return ChoiceReply(
            note=locale_lookup.person_locale(self.services, ref).text("button_expired")
        )


def _card_response(card: Card) -> dict[str, Any]:
    return {"statusCode": 200, "type": CARD, "value": card}


def _card_message(text: str) -> dict[str, Any]:
    """An Action.Execute answer that leaves the card as it is and shows a short message."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}

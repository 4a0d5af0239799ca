"""Teams handler of the typeahead search (the `application/search` invoke) that a form's
person field sends as someone types, when the bot serves the colleagues itself
(TEAMS_DIRECTORY_SEARCH=graph, bot.teams.graph_people).

Only a person the bot knows gets an answer: the activity names their tenant and Entra object
id, and they have a personal chat with the bot in that tenant (the form was opened from it).
Only the bot's own dataset is answered, and only from that person's tenant. Anything else, and
every failure, is an empty list of results: the dropdown shows no one, never an error.
"""

from __future__ import annotations

import asyncio
import logging

from microsoft_teams.api.activities.invoke import SearchInvokeActivity
from microsoft_teams.api.models.search import (
    SearchInvokeResponseValue,
    SearchInvokeResult,
    SearchResponse,
)
from microsoft_teams.apps import ActivityContext

from bot.core.person_ref import PersonRef
from bot.teams.activity_reading import person_ref
from bot.teams.form_render import COLLEAGUES
from bot.teams.graph_people import Colleague
from bot.teams.listening import TeamsListening

logger = logging.getLogger(__name__)


class SearchListeners(TeamsListening):
    async def on_card_search(self, ctx: ActivityContext[SearchInvokeActivity]) -> SearchResponse:
        found: list[Colleague] = []
        try:
            found = await self._colleagues(ctx.activity)
        except Exception:
            logger.exception("a Teams directory search failed")
        return search_response(found)

    async def _colleagues(self, activity: SearchInvokeActivity) -> list[Colleague]:
        search = self.people_search
        value = activity.value
        if search is None or value is None or value.dataset != COLLEAGUES:
            return []
        ref = person_ref(activity)
        if ref is None or not await asyncio.to_thread(self._knows, ref):
            return []
        return await search.search(ref.workspace_id, value.query_text)

    def _knows(self, ref: PersonRef) -> bool:
        return self.directory.has_chat(ref)


def search_response(found: list[Colleague]) -> SearchResponse:
    """The invoke's answer as Microsoft documents it for dynamic typeahead: a searchResponse
    whose results each have the title shown and the value submitted (the SDK's model; its
    body also carries statusCode 200, as our Action.Execute answers do)."""
    results = [SearchInvokeResult(title=c.title, value=c.user_id) for c in found]
    return SearchResponse(value=SearchInvokeResponseValue(results=results))

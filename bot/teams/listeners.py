"""Teams SDK handlers: parse the activity, call the same handler as Slack, answer with cards.

A message is answered from a task of its own, so Teams gets its 200 at once (Slack's "ack
first"). An invoke (a card button, a dialog) is answered in its response, as Teams requires;
the rows it asks to send go out afterwards, from a task. Nothing raises into the SDK: a
failure is logged and the person gets the "not available" line.

This module registers them; each kind of activity has its module (chats, cards, dialogs, file
consent, the forms' directory search, the Home tab).
"""

from __future__ import annotations

from microsoft_teams.apps import App

from bot.teams.card_listeners import CardListeners
from bot.teams.chat_listeners import ChatListeners
from bot.teams.dialog_listeners import DialogListeners
from bot.teams.file_listeners import FileListeners
from bot.teams.search_listeners import SearchListeners
from bot.teams.tab_listeners import TabListeners


class TeamsListeners(
    ChatListeners, CardListeners, DialogListeners, FileListeners, SearchListeners, TabListeners
):
    """The Teams handlers as one object, whose bound methods the SDK calls (and the Home
    tab's routes, bot.teams.tab_page); each kind is a module of its own, over the shared parts
    in bot.teams.listening."""

    def register(self, app: App) -> None:
        app.on_message(self.on_message)
        app.on_card_action_execute(self.on_card_action)
        app.on_dialog_open(self.on_dialog_open)
        app.on_dialog_submit(self.on_dialog_submit)
        app.on_file_consent(self.on_file_consent)
        app.on_card_search(self.on_card_search)
        app.on_conversation_update(self.on_conversation_update)
        app.on_installation_update(self.on_installation_update)

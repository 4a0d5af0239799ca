"""Teams handler of file consent cards (fileConsent/invoke): the person accepted or declined
the data export. The invoke is answered at once (200, no body: the SDK's answer for it); the
upload and the message that follows go on from a task of their own."""

from __future__ import annotations

from microsoft_teams.api.activities.invoke import FileConsentInvokeActivity
from microsoft_teams.apps import ActivityContext

from bot.teams.listening import TeamsListening


class FileListeners(TeamsListening):
    async def on_file_consent(self, ctx: ActivityContext[FileConsentInvokeActivity]) -> None:
        # Not remembered as other activities are: answering a card offered before `forget`
        # must not start keeping the person again.
        self._later(self.export_file.answer(ctx))

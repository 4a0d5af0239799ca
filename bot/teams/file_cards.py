"""The two Teams cards of sending a file to a personal chat ("Send and receive files using
bot", Teams bot APIs): the file consent card that asks the person first, and the file info card
that shows the file once it is in their OneDrive. Teams draws both itself (name, size, Accept
and Decline, open and download), on desktop, web and mobile; the bot names only what they hold.
"""

from __future__ import annotations

from typing import Any

from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.models.attachment import Attachment

FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


def file_consent_attachment(
    name: str, description: str, size: int, context: dict[str, Any]
) -> Attachment:
    """Asks to send the file `name`; `context` comes back with the person's answer (whichever
    it is), so it holds what finds the file again and never the file's content."""
    return Attachment(
        content_type=FILE_CONSENT,
        name=name,
        content={
            "description": description,
            "sizeInBytes": size,
            "acceptContext": context,
            "declineContext": context,
        },
    )


def file_info_attachment(name: str, content_url: str, unique_id: str, file_type: str) -> Attachment:
    """The uploaded file, as the `uploadInfo` of the accepted consent named it."""
    return Attachment(
        content_type=FILE_INFO,
        name=name,
        content_url=content_url,
        content={"uniqueId": unique_id, "fileType": file_type},
    )


def file_message(
    notification: str, attachment: Attachment, text: str | None = None
) -> MessageActivityInput:
    """A message carrying one file card; `summary` is what a notification shows (neutral)."""
    fields = {"type": "message", "summary": notification, **({"text": text} if text else {})}
    message = MessageActivityInput.model_validate(fields)
    return message.add_attachments(attachment)

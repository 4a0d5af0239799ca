"""What a view_submission's form holds, read so that no JSON shape can make a reader raise.

`view.state.values` is `{block_id: {action_id: element}}` when Slack sends it, but a signed
request can carry any JSON there (a list, a string, a number, elements that are not objects).
One reader once assumed the shape and answered 500; every form is now read through this
class, whose answers are typed and empty for anything that is not what Slack sends.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from messages.model import clean_typed

# The action_id every input element of our forms has.
ELEMENT = "value"


class SubmittedForm:
    def __init__(self, view: object) -> None:
        state = view.get("state") if isinstance(view, dict) else None
        values = state.get("values") if isinstance(state, dict) else None
        self._values: dict[str, Any] = values if isinstance(values, dict) else {}
        metadata = view.get("private_metadata") if isinstance(view, dict) else None
        self._metadata = metadata if isinstance(metadata, str) else ""

    def _element(self, block_id: str) -> dict[str, Any]:
        block = self._values.get(block_id)
        element = block.get(ELEMENT) if isinstance(block, dict) else None
        return element if isinstance(element, dict) else {}

    def text(self, block_id: str) -> str:
        """A text input's value as typed text may be kept (messages.model.clean_typed); ""
        when empty or not a string."""
        found = self._element(block_id).get("value")
        return clean_typed(found) if isinstance(found, str) else ""

    def day(self, block_id: str) -> date | None:
        """A date picker's date; None when empty or not an ISO date."""
        picked = self._element(block_id).get("selected_date")
        try:
            return date.fromisoformat(picked) if isinstance(picked, str) else None
        except ValueError:
            return None

    def user(self, block_id: str) -> str | None:
        """A user picker's user id; None when empty or not a plausible id."""
        picked = self._element(block_id).get("selected_user")
        return picked if isinstance(picked, str) and 0 < len(picked) <= 64 else None

    def option(self, block_id: str) -> str | None:
        """A select's chosen option's value; None when none is chosen."""
        option = self._element(block_id).get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None

    def metadata(self, key: str) -> object:
        """One entry of the JSON object the form was opened with (private_metadata)."""
        try:
            found = json.loads(self._metadata or "{}")
        except (ValueError, RecursionError):
            return None
        return found.get(key) if isinstance(found, dict) else None

    def metadata_number(self, key: str) -> int | None:
        """A row id kept in private_metadata; None for anything that is not a whole number."""
        found = self.metadata(key)
        return found if type(found) is int else None

    def metadata_id(self, key: str) -> str | None:
        """A platform id kept in private_metadata; None for anything that is not one."""
        found = self.metadata(key)
        return found if isinstance(found, str) and 0 < len(found) <= 64 else None

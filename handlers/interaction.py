"""The neutral way in and out: what an adapter makes of a platform payload (Interaction), what
a route gives back for the adapter to draw (Reply), and what the route may ask the platform
(Directory), so that no handler knows Slack or Teams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from handlers.meeting_access import Someone
from messages.form import Form, FormValues
from messages.model import Button, Message

_T = TypeVar("_T")


@dataclass(frozen=True)
class Interaction:
    """Who did what: a command's text, a button's value, or a submitted form's values.

    `action` is a route's key: an action id of bot.core.ids, a form id for a submission, or
    ids.COMMAND for what was typed after the command.
    """

    ref: PersonRef
    action: str
    value: str = ""
    form: FormValues | None = None


class Directory(Protocol):
    """What a route may ask the platform about people the actor names (the manager flow).
    Every doubt is a "no": a lookup that fails answers "not found" or raises."""

    def user_id(self, text: str) -> str | None:
        """A user id as this platform writes one (a button's value, a name typed after a
        command), or None for anything else."""
        ...

    async def someone(self, user_id: str) -> Someone: ...

    async def invitee(self, user_id: str) -> Someone: ...

    async def in_manager_group(self) -> bool: ...

    async def own_language(self) -> str | None:
        """The actor's language as the platform says it (a language tag), asked when the bot
        knows none for them yet; None if the platform cannot say at once."""
        ...


@dataclass(frozen=True)
class Redraw:
    """A message the bot sent earlier, to show again as it now stands (where it was posted:
    a Slack channel and ts, a Teams conversation and activity id)."""

    channel_id: str
    message_id: str
    message: Message


@dataclass(frozen=True)
class Done:
    """What a form turns into once saved: its title, a text (may name people), its close."""

    title: str
    text: str
    close: str


@dataclass(frozen=True)
class Reply:
    """What the adapter shows after a route ran; every part is optional.

    - `message`: a private answer (to a command; after a click, a note of its own; after a
      saved form, what follows it: Teams posts it in the chat, Slack's App Home shows it).
    - `note` and `follow_up`: the clicked message's buttons give way to these.
    - `form`: a form to open; after a submission, the form to show next (or the same form
      again with its errors, `form.errors`).
    - `done`: the submitted form closes and shows this (may name people).
    - `send_now`: outbox rows written for this answer, to send at once.
    - `send_export`, `redraw`, `home_changed`: the person's data sent to them, a message
      shown again, the Home drawn afresh.
    """

    message: Message | None = None
    note: str | None = None
    follow_up: tuple[Button, ...] = ()
    form: Form | None = None
    done: Done | None = None
    send_now: tuple[int, ...] = ()
    send_export: bool = False
    redraw: Redraw | None = None
    home_changed: bool = False

    @property
    def errors(self) -> Mapping[str, str]:
        return self.form.errors if self.form is not None else {}


@dataclass(frozen=True)
class Turn:
    """One interaction being answered: the services, what came in, and the platform's
    directory. `run` runs blocking work (a transaction) before queued sending work."""

    services: Services
    interaction: Interaction
    directory: Directory

    @property
    def ref(self) -> PersonRef:
        return self.interaction.ref

    def with_value(self, value: str) -> Turn:
        """The same turn, as if the interaction had carried `value`."""
        return replace(self, interaction=replace(self.interaction, value=value))

    async def run(self, work: Callable[..., _T], *args: object) -> _T:
        return await asyncio.wrap_future(self.services.blocking.submit_first(work, *args))

"""Adaptive Cards from neutral messages: pure functions, tested without mocks.

Text goes into TextRuns, which Teams shows as plain text: nothing a person typed is read as
markdown. People named in a text (messages.model.mention) show as their names from `names`.
Choices are Action.Execute, so Teams sends an invoke and the answer replaces the card in
place; buttons that open a form are Action.Submit with task/fetch, so Teams opens a dialog.
Only what Teams documents for desktop, web and mobile is used (docs/teams-cards.md; the
allow-list is tests/bot/teams/test_card_support.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    Container,
    ExecuteAction,
    OpenUrlAction,
    RichTextBlock,
    SubmitAction,
    TextRun,
)
from microsoft_teams.cards.core import Action, CardElement, TeamsCardProperties

from bot.core import ids
from messages.model import MENTION, Bullets, Button, Message, Paragraph, Preformatted

Card = dict[str, Any]

TEXT_LIMIT = 3000
TITLE_LIMIT = 150
BUTTON_LABEL_LIMIT = 75
# Card actions carry the row a message came from, so that a click can redraw it.
CHECKIN_KEY = "checkin"


def build_card(
    message: Message, *, names: Mapping[str, str] | None = None, checkin_id: int | None = None
) -> Card:
    """The whole message as a card; `checkin_id` tags its buttons with the row it came from."""
    body = _body(message, names or {})
    for number, row in enumerate(message.rows, start=1):
        body.append(_rich([_run(named(row.text, names or {}))]))
        if row.buttons:
            actions = [_action(b, checkin_id) for b in row.buttons]
            body.append(ActionSet(id=f"row_{number}", actions=actions))
    actions = [_action(button, checkin_id) for button in message.buttons]
    return _card(body, actions, fallback=message.notification)


def build_answered_card(
    message: Message,
    note: str,
    follow_up: tuple[Button, ...] = (),
    *,
    names: Mapping[str, str] | None = None,
    checkin_id: int | None = None,
) -> Card:
    """The message as it was, its buttons gone and the choice shown in their place (with any
    buttons that follow from the choice)."""
    body = _body(message, names or {})
    body.append(_rich([_run(f"✓ {named(note, names or {})}", subtle=True)]))
    actions = [_action(button, checkin_id) for button in follow_up]
    return _card(body, actions, fallback=message.notification)


def build_note_card(text: str, *, names: Mapping[str, str] | None = None) -> Card:
    return _card([_rich([_run(named(text, names or {}))])], [], fallback=text)


def card_attachment(card: Card) -> dict[str, Any]:
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}


def plain_text_of(message: Message, names: Mapping[str, str] | None = None) -> str:
    """A readable text version, for notifications and clients that cannot show cards."""
    parts: list[str] = [message.title] if message.title else []
    for block in message.blocks:
        if isinstance(block, Paragraph | Preformatted):
            parts.append(block.text)
        else:
            parts.append("\n".join(f"• {item}" for item in block.items))
    return named("\n\n".join(parts), names or {})[:TEXT_LIMIT]


def _body(message: Message, names: Mapping[str, str]) -> list[CardElement]:
    body: list[CardElement] = []
    if message.title:
        title = named(message.title, names)[:TITLE_LIMIT]
        body.append(_rich([TextRun(text=title, size="Large", weight="Bolder")]))
    for block in message.blocks:
        if isinstance(block, Paragraph):
            body.append(_rich([_run(named(block.text, names))]))
        elif isinstance(block, Bullets):
            lines = "\n".join(f"•  {named(item, names)}" for item in block.items)
            body.append(_rich([_run(lines)]))
        elif isinstance(block, Preformatted):
            run = TextRun(text=named(block.text, names)[:TEXT_LIMIT], font_type="Monospace")
            body.append(Container(style="emphasis", items=[_rich([run])]))
    for link in message.links:
        runs = [_run(f"{link.lead} "), TextRun(text=link.url, select_action=_open(link.url))]
        body.append(_rich(runs))
    if message.todo:
        runs = [_run(named(message.todo, names))]
        if message.todo_lead:
            runs.insert(0, TextRun(text=f"{message.todo_lead} ", weight="Bolder"))
        body.append(_rich(runs))
    if message.note:
        body.append(_rich([_run(named(message.note, names), subtle=True)]))
    return body


def _action(button: Button, checkin_id: int | None) -> Action:
    """A button as an action. Without a style: Teams documents positive and destructive
    action styling as not supported (docs/teams-cards.md)."""
    title = button.label[:BUTTON_LABEL_LIMIT]
    if button.action in ids.OPENS_A_FORM:
        data: dict[str, Any] = {
            "msteams": {"type": "task/fetch"},
            "opener": button.action,
            "value": button.value,
        }
        if checkin_id is not None:
            data[CHECKIN_KEY] = checkin_id
        return SubmitAction(title=title, data=data)
    data = {"action": button.action, "value": button.value}
    if checkin_id is not None:
        data[CHECKIN_KEY] = checkin_id
    return ExecuteAction(title=title, verb=button.action, data=data)


def _card(body: list[CardElement], actions: list[Action], *, fallback: str) -> Card:
    card = AdaptiveCard(
        version="1.5",
        body=body,
        actions=actions or None,
        fallback_text=fallback[:TEXT_LIMIT],
        msteams=TeamsCardProperties(width="full"),
    )
    dumped: Card = card.model_dump(exclude_none=True, by_alias=True)
    return {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", **dumped}


def _rich(runs: list[TextRun]) -> RichTextBlock:
    inlines: list[CardElement] = list(runs)
    return RichTextBlock(inlines=inlines)


def _run(text: str, *, subtle: bool = False) -> TextRun:
    run = TextRun(text=text[:TEXT_LIMIT])
    if subtle:
        run.is_subtle = True
        run.size = "Small"
    return run


def _open(url: str) -> OpenUrlAction:
    return OpenUrlAction(url=url)


def named(text: str, names: Mapping[str, str]) -> str:
    """The text with each person it names (messages.model.mention) as their name."""
    return MENTION.sub(lambda match: names.get(match.group(1), names.get("", "")), text)

"""Block Kit from neutral messages: pure functions, tested without mocks."""

from __future__ import annotations

from typing import Any

from messages.model import MENTION, MENTION_MARK, Bullets, Button, Message, Paragraph, Preformatted

Block = dict[str, Any]

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_LABEL_LIMIT = 75


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters; everything typed or stored goes through this.

    People named with messages.model.mention become Slack mentions, shown as their names.
    """
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MENTION.sub(r"<@\1>", text) if MENTION_MARK in text else text


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": False}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def build_message_blocks(message: Message) -> list[Block]:
    blocks: list[Block] = []
    if message.title:
        blocks.append(
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    # Plain text cannot show a mention; content keeps people out of titles.
                    "text": MENTION.sub(r"@\1", message.title)[:HEADER_LIMIT],
                    "emoji": False,
                },
            }
        )
    for block in message.blocks:
        if isinstance(block, Paragraph):
            blocks.append(_section(escape_mrkdwn(block.text)))
        elif isinstance(block, Bullets):
            blocks.append(_section("\n".join(f"•  {escape_mrkdwn(item)}" for item in block.items)))
        elif isinstance(block, Preformatted):
            blocks.append(_section(f"```{escape_mrkdwn(block.text)}```"))
    for link in message.links:
        blocks.append(_section(f"{escape_mrkdwn(link.lead)} <{link.url}>"))
    if message.todo:
        lead = f"*{escape_mrkdwn(message.todo_lead)}* " if message.todo_lead else ""
        blocks.append(_section(f"{lead}{escape_mrkdwn(message.todo)}"))
    if message.note:
        blocks.append(_context(escape_mrkdwn(message.note)))
    for number, row in enumerate(message.rows, start=1):
        blocks.append(_section(escape_mrkdwn(row.text)))
        if row.buttons:
            blocks.append(_actions(row.buttons, block_id=f"row_{number}"))
    if message.buttons:
        blocks.append(_actions(message.buttons, block_id="choices"))
    return blocks


def _actions(buttons: tuple[Button, ...], *, block_id: str) -> Block:
    elements: list[Block] = []
    for button in buttons:
        element: Block = {
            "type": "button",
            "action_id": button.action,
            "text": {
                "type": "plain_text",
                "text": button.label[:BUTTON_LABEL_LIMIT],
                "emoji": False,
            },
            "value": button.value,
        }
        if button.style:
            element["style"] = button.style
        if button.confirm:
            element["confirm"] = {
                "title": _plain(button.confirm.title[:100]),
                "text": _plain(button.confirm.text[:300]),
                "confirm": _plain(button.confirm.yes[:30]),
                "deny": _plain(button.confirm.no[:30]),
                "style": "danger",
            }
        elements.append(element)
    return {"type": "actions", "block_id": block_id, "elements": elements}


def replace_actions_with_note(
    blocks: list[Block], note: str, buttons: tuple[Button, ...] = ()
) -> list[Block]:
    """The clicked message, its buttons gone and the choice shown in their place (with any
    buttons that follow from the choice)."""
    kept = [block for block in blocks if isinstance(block, dict) and block.get("type") != "actions"]
    shown = [*kept, _context(f"✓ {escape_mrkdwn(note)}")]
    return [*shown, _actions(buttons, block_id="follow_up")] if buttons else shown


def build_home_view(message: Message, section: Message | None = None) -> Block:
    """The home tab; `section` (the admins' report) follows the person's own, set apart."""
    blocks = build_message_blocks(message)
    if section is not None:
        blocks += [{"type": "divider"}, *build_message_blocks(section)]
    return {"type": "home", "blocks": blocks}


def plain_text_of(message: Message) -> str:
    """A readable text version, for clients and places that cannot show blocks."""
    parts: list[str] = []
    if message.title:
        parts.append(message.title)
    for block in message.blocks:
        if isinstance(block, Paragraph | Preformatted):
            parts.append(block.text)
        else:
            parts.append("\n".join(f"• {item}" for item in block.items))
    return escape_mrkdwn("\n\n".join(parts))[:SECTION_LIMIT]

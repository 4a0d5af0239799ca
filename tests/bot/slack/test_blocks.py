"""bot.slack.blocks: Block Kit from neutral messages, escaping, and a real stage rendered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core import ids
from bot.core.config import Settings
from bot.slack.blocks import (
    build_home_view,
    build_message_blocks,
    escape_mrkdwn,
    replace_actions_with_note,
)
from handlers.neutral_messages import stage_message
from messages.content import Content
from messages.loader import load_content
from messages.model import Bullets, Button, Link, Message, Paragraph, mention

Block = dict[str, Any]


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


def section_texts(blocks: list[Block]) -> list[str]:
    return [block["text"]["text"] for block in blocks if block["type"] == "section"]


def context_texts(blocks: list[Block]) -> list[str]:
    return [
        element["text"]
        for block in blocks
        if block["type"] == "context"
        for element in block["elements"]
    ]


def only_actions(blocks: list[Block]) -> Block:
    actions = [block for block in blocks if block["type"] == "actions"]
    assert len(actions) == 1
    return actions[0]


# -- escaping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<&>", "&lt;&amp;&gt;"),
        ("&lt;", "&amp;lt;"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("a & b", "a &amp; b"),
        ("*bold* _it_ `code`", "*bold* _it_ `code`"),
        ("", ""),
    ],
)
def test_escape_mrkdwn(raw: str, escaped: str) -> None:
    assert escape_mrkdwn(raw) == escaped


# -- a full message ----------------------------------------------------------------------


FULL = Message(
    notification="You have a new message",
    title="A <title> & more",
    blocks=(
        Paragraph("<!channel> & <@U1>"),
        Bullets(("first <b>", "second & third")),
    ),
    links=(Link(lead="Read <this>:", url="https://intranet.example/eap?a=1"),),
    todo="Write <it> down",
    todo_lead="Today & now:",
    note="Step 1 of 10 <!here>",
    buttons=(
        Button("act_next", "Next", "42", "primary"),
        Button("act_snooze", "Later", "42"),
        Button("act_stop", "Stop", "42", "danger"),
    ),
)


def test_full_message_block_order() -> None:
    blocks = build_message_blocks(FULL)
    assert [block["type"] for block in blocks] == [
        "header",
        "section",  # paragraph
        "section",  # bullets
        "section",  # link
        "section",  # todo
        "context",  # note
        "actions",
    ]


def test_header_is_plain_text_and_unescaped() -> None:
    header = build_message_blocks(FULL)[0]
    assert header["text"] == {"type": "plain_text", "text": "A <title> & more", "emoji": False}


def test_user_text_is_escaped_everywhere() -> None:
    blocks = build_message_blocks(FULL)
    sections = section_texts(blocks)
    assert sections[0] == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert sections[1] == "•  first &lt;b&gt;\n•  second &amp; third"
    assert sections[2] == "Read &lt;this&gt;: <https://intranet.example/eap?a=1>"
    assert sections[3] == "*Today &amp; now:* Write &lt;it&gt; down"
    assert context_texts(blocks) == ["Step 1 of 10 &lt;!here&gt;"]
    mrkdwn = json.dumps([sections, context_texts(blocks)])
    for dangerous in ("<!channel>", "<@U1>", "<!here>", "<b>", "<this>", "<it>"):
        assert dangerous not in mrkdwn


def test_mrkdwn_fields_are_typed_mrkdwn() -> None:
    blocks = build_message_blocks(FULL)
    assert all(b["text"]["type"] == "mrkdwn" for b in blocks if b["type"] == "section")
    assert all(
        e["type"] == "mrkdwn" for b in blocks if b["type"] == "context" for e in b["elements"]
    )


def test_buttons_keep_action_ids_values_and_only_given_styles() -> None:
    actions = only_actions(build_message_blocks(FULL))
    elements = actions["elements"]
    assert [e["action_id"] for e in elements] == ["act_next", "act_snooze", "act_stop"]
    assert [e["value"] for e in elements] == ["42", "42", "42"]
    assert [e["text"]["text"] for e in elements] == ["Next", "Later", "Stop"]
    assert all(e["type"] == "button" for e in elements)
    assert elements[0]["style"] == "primary"
    assert "style" not in elements[1]
    assert elements[2]["style"] == "danger"


def test_todo_without_lead_has_no_bold_prefix() -> None:
    blocks = build_message_blocks(Message(notification="n", todo="Just this & that"))
    assert section_texts(blocks) == ["Just this &amp; that"]


def test_minimal_message_has_no_blocks() -> None:
    assert build_message_blocks(Message(notification="n")) == []


def test_header_is_truncated_at_150_characters() -> None:
    title = "".join(str(i % 10) for i in range(200))
    header = build_message_blocks(Message(notification="n", title=title))[0]
    assert header["text"]["text"] == title[:150]
    assert len(header["text"]["text"]) == 150


def test_long_paragraph_stays_within_the_section_limit() -> None:
    blocks = build_message_blocks(Message(notification="n", blocks=(Paragraph("x" * 4000),)))
    assert len(blocks[0]["text"]["text"]) == 3000


def test_button_label_is_truncated_at_75_characters() -> None:
    message = Message(notification="n", buttons=(Button("a", "L" * 100, "v"),))
    assert only_actions(build_message_blocks(message))["elements"][0]["text"]["text"] == "L" * 75


# -- replacing the buttons after a click -------------------------------------------------


def test_replace_actions_with_note() -> None:
    blocks = build_message_blocks(FULL)
    replaced = replace_actions_with_note(blocks, "You chose <next> & more")
    assert [block["type"] for block in replaced] == [
        "header",
        "section",
        "section",
        "section",
        "section",
        "context",
        "context",
    ]
    assert replaced[:-1] == blocks[:-1]
    assert replaced[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "✓ You chose &lt;next&gt; &amp; more"}],
    }
    # The original list is left alone.
    assert blocks[-1]["type"] == "actions"


def test_replace_actions_ignores_non_dict_entries() -> None:
    weird: list[Any] = ["not a block", {"type": "actions", "elements": []}]
    replaced = replace_actions_with_note(weird, "done")
    assert replaced == [{"type": "context", "elements": [{"type": "mrkdwn", "text": "✓ done"}]}]


def test_build_home_view() -> None:
    view = build_home_view(FULL)
    assert view["type"] == "home"
    assert view["blocks"] == build_message_blocks(FULL)


# -- a real stage ------------------------------------------------------------------------


def render_stage(
    content: Content, settings: Settings, stage_id: str
) -> tuple[Message, list[Block]]:
    message = stage_message(
        content=content,
        locale=content.for_locale("en-GB", "slack"),
        settings=settings,
        stage_id=stage_id,
        checkin_id=7,
    )
    return message, build_message_blocks(message)


def test_first_stage_buttons(content: Content) -> None:
    _, blocks = render_stage(content, Settings(), "pause")
    elements = only_actions(blocks)["elements"]
    assert [e["action_id"] for e in elements] == [
        ids.STAGE_NEXT,
        ids.STAGE_SNOOZE,
        ids.STAGE_STOP,
    ]
    assert [e["value"] for e in elements] == ["7", "7", "7"]
    assert [e.get("style") for e in elements] == ["primary", None, None]
    ui = content.for_locale("en", "slack").ui
    assert [e["text"]["text"] for e in elements] == [
        ui["button_next"],
        ui["button_snooze"],
        ui["button_stop"],
    ]


def test_first_stage_header_step_note_and_todo(content: Content) -> None:
    english = content.for_locale("en", "slack")
    _, blocks = render_stage(content, Settings(), "pause")
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == english.stages["pause"].title
    assert context_texts(blocks) == ["Step 1 of 10"]
    todo = escape_mrkdwn(english.stages["pause"].todo)
    assert f"*{english.ui['todo_lead']}* {todo}" in section_texts(blocks)


def test_first_stage_without_eap_shows_the_safety_net_sentence(content: Content) -> None:
    english = content.for_locale("en", "slack")
    _, blocks = render_stage(content, Settings(), "pause")
    sections = section_texts(blocks)
    assert escape_mrkdwn(english.ui["safety_net"]) in sections
    # No links at all: nothing configured.
    assert not any("<http" in text or "<mailto" in text for text in sections)
    assert english.ui["safety_net_eap"] not in json.dumps(blocks, ensure_ascii=False)


def test_notification_text_is_neutral(content: Content) -> None:
    for stage_id in content.stage_order:
        message, _ = render_stage(content, Settings(), stage_id)
        lowered = message.notification.lower()
        assert "next step" in lowered  # the default display name
        for word in ("promot", "reject", "job"):
            assert word not in lowered


def test_first_stage_with_eap_links_it_once(content: Content) -> None:
    english = content.for_locale("en", "slack")
    url = "https://eap.example/"
    settings = Settings(company_links={"eap": url})
    message, blocks = render_stage(content, settings, "pause")
    sections = section_texts(blocks)
    assert f"{escape_mrkdwn(english.ui['safety_net_eap'])} <{url}>" in sections
    assert escape_mrkdwn(english.ui["safety_net"]) not in sections
    assert json.dumps(blocks).count(url) == 1
    assert [link.url for link in message.links] == [url]
    stage_link_text = english.stages["pause"].links[0].text
    assert all(stage_link_text not in text for text in sections)


def test_other_stage_shows_its_own_eap_link(content: Content) -> None:
    english = content.for_locale("en", "slack")
    assert [link.key for link in english.stages["resilience"].links] == ["eap"]
    url = "https://eap.example/"
    _, blocks = render_stage(content, Settings(company_links={"eap": url}), "resilience")
    sections = section_texts(blocks)
    lead = escape_mrkdwn(english.stages["resilience"].links[0].text)
    assert f"{lead} <{url}>" in sections
    assert escape_mrkdwn(english.ui["safety_net_eap"]) not in " ".join(sections)


def test_stage_link_hidden_without_its_url(content: Content) -> None:
    _, blocks = render_stage(
        content, Settings(company_links={"eap": "https://e.example/"}), "goals"
    )
    assert not any("<https" in text for text in section_texts(blocks))


def test_last_stage_has_the_finish_label(content: Content) -> None:
    _, blocks = render_stage(content, Settings(), "look-ahead")
    elements = only_actions(blocks)["elements"]
    assert elements[0]["text"]["text"] == "I've read this"
    assert elements[0]["action_id"] == ids.STAGE_NEXT
    assert context_texts(blocks) == ["Step 10 of 10"]
    assert escape_mrkdwn(content.for_locale("en", "slack").ui["safety_net"]) not in section_texts(
        blocks
    )


def test_middle_stage_has_the_next_label(content: Content) -> None:
    _, blocks = render_stage(content, Settings(), "network")
    assert only_actions(blocks)["elements"][0]["text"]["text"] == "I'm ready for the next step"
    assert context_texts(blocks) == ["Step 9 of 10"]


def test_the_manager_stage_offers_to_invite_the_manager(content: Content) -> None:
    _, blocks = render_stage(content, Settings(), "manager")
    actions = [e["action_id"] for e in only_actions(blocks)["elements"]]
    assert actions == [ids.STAGE_NEXT, ids.STAGE_SNOOZE, ids.STAGE_STOP, ids.OPEN_MANAGER_INVITE]


def test_mentions_become_slack_mentions_and_typed_brackets_stay_text() -> None:
    text = f"{mention('U0ANA')} wrote <@U0FAKE> & more"
    assert escape_mrkdwn(text) == "<@U0ANA> wrote &lt;@U0FAKE&gt; &amp; more"
    message = Message(notification="n", title=f"Meeting with {mention('U0ANA')}")
    [header] = build_message_blocks(message)
    assert header["text"]["text"] == "Meeting with @U0ANA"

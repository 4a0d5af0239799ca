"""The demo's reading of Adaptive Cards: what the bot draws for Teams, as plain text."""

from __future__ import annotations

from bot.core import ids
from bot.demo.teams_card_text import last_line, render_card
from bot.teams.cards import build_answered_card, build_card
from bot.teams.form_render import build_form_card
from messages.form import Choice, Field, Form
from messages.model import Bullets, Button, Message, Paragraph, Preformatted

MESSAGE = Message(
    notification="You have a new message",
    title="A title",
    blocks=(
        Paragraph("A paragraph that is long enough to be wrapped at the terminal's width " * 2),
        Bullets(("one", "two")),
        Preformatted("Hi,\n\nThank you"),
    ),
    todo="Do one small thing.",
    todo_lead="One small thing for today:",
    note="Step 1 of 10",
    buttons=(Button(ids.STAGE_NEXT, "Next", "7"), Button(ids.STAGE_SNOOZE, "Later", "7")),
)


def test_a_message_card_reads_as_a_person_sees_it() -> None:
    lines = render_card(build_card(MESSAGE, checkin_id=7)).splitlines()
    assert lines[:2] == ["A title", "───────"]
    assert all(len(line) <= 78 for line in lines[:-1])
    assert lines[lines.index("•  one") + 1] == "•  two"
    assert "  Hi," in lines and "  Thank you" in lines  # the copy-ready text, set in
    assert "One small thing for today: Do one small thing." in lines
    assert "  Step 1 of 10" in lines  # a quiet note, indented
    assert lines[-1] == "[ Next ]  [ Later ]"
    assert last_line(build_card(MESSAGE)) == "[ Next ]  [ Later ]"


def test_an_answered_card_ends_with_its_note_on_one_line() -> None:
    note = "A note long enough that the terminal would wrap it over two lines if it were drawn."
    card = build_answered_card(MESSAGE, note)
    assert last_line(card) == f"✓ {note}"
    assert "[ Next ]" not in render_card(card)


def test_a_dialog_shows_its_fields_with_their_labels() -> None:
    form = Form(
        form_id="f",
        title="A form",
        submit="Send",
        close="Cancel",
        intro="Some words first.",
        fields=(
            Field("who", "person", "Who decided?", None, None, None, required=True),
            Field("what", "box", "What to ask", "For example: this", None, 200, False),
            Field(
                "tone",
                "choice",
                "Tone",
                None,
                None,
                None,
                True,
                "warm",
                (Choice("short", "Short"), Choice("warm", "Warm")),
            ),
            Field("on", "date", "When", None, None, None, False),
        ),
        errors={"who": "Pick someone."},
    )
    text = render_card(build_form_card(form))
    assert text.splitlines() == [
        "Some words first.",
        "",
        "Who decided? *",
        "  [ Search for a person ]",
        "",
        "Pick someone.",
        "",
        "What to ask",
        "  [ For example: this ]",
        "  [ " + " " * 30 + " ]",  # room to write more lines
        "",
        "Tone *",
        "  ( ) Short",
        "  (•) Warm",
        "",
        "When",
        "  [ Select a date ]",
        "",
        "[ Send ]",
    ]


def test_text_blocks_and_fact_sets_read_too() -> None:
    card = {
        "type": "AdaptiveCard",
        "body": [
            {"type": "TextBlock", "text": "Heading", "size": "Large", "weight": "Bolder"},
            {"type": "TextBlock", "text": "Plain words."},
            {"type": "FactSet", "facts": [{"title": "Meeting", "value": "Fri 18 Dec"}]},
            {"type": "Unknown", "text": "never shown"},
        ],
    }
    assert render_card(card).splitlines() == [
        "Heading",
        "───────",
        "Plain words.",
        "",
        "Meeting: Fri 18 Dec",
    ]

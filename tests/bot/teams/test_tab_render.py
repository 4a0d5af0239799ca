"""The Home tab's HTML (bot.teams.tab_render): every text escaped, real buttons and labels, a
form's errors tied to their field with what was typed kept, and a page with no inline script;
the manifest's tab and sign-in; the pinned teams-js as published."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

from bot.core import ids
from bot.teams.package import build_manifest
from bot.teams.tab_render import form_html, message_html, page_html
from handlers.form_specs import FEEDBACK, HOURS
from messages.content import LocaleContent
from messages.form import draw
from messages.loader import load_content
from messages.model import Bullets, Button, Confirm, Link, Message, Paragraph, Row, mention

HOSTILE = "\"'><script>alert(1)</script>&amp;"
TEAMS_JS = Path(__file__).resolve().parents[3] / "bot/teams/tab_static/vendor/teams-js"
TEAMS_JS_SHA256 = "1737ae2e319c8ab56d71d2218fd5a49d96a8ad70eb01ff2e9ab7e35093b93379"


class Elements(HTMLParser):
    """Every start tag with its attributes, and all the text, of a fragment."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attributes for name, attributes in self.tags if name == tag]


def _locale() -> LocaleContent:
    return load_content().for_locale(None, "teams")


def test_every_text_and_attribute_of_a_message_is_escaped() -> None:
    message = Message(
        notification="n",
        title=HOSTILE,
        blocks=(Paragraph(f"said {mention('ab12')}"), Bullets((HOSTILE,))),
        links=(Link(HOSTILE, "javascript:alert(1)"), Link("Help", "https://help.example/?a=1&b=2")),
        rows=(Row(HOSTILE, (Button(ids.GOAL_DONE, HOSTILE, HOSTILE),)),),
        buttons=(Button(ids.HOME_PAUSE, "Pause", "pause"),),
    )
    html = message_html(message, {"ab12": "<img src=x onerror=alert(1)>"}, controls="Controls")
    found = Elements(html)
    assert [tag for tag, _ in found.tags].count("script") == 0
    assert found.named("img") == []
    assert "<img src=x onerror=alert(1)>" in "".join(found.text)  # shown as text
    # the title, the bullet, the link's lead, the row and its button's label
    assert "".join(found.text).count(HOSTILE) == 5
    # the javascript: URL is shown, never a link; the https one is, opened apart from Teams
    [link] = found.named("a")
    assert link == {
        "href": "https://help.example/?a=1&b=2",
        "target": "_blank",
        "rel": "noopener noreferrer",
    }
    row_button, pause = found.named("button")
    assert row_button["data-value"] == HOSTILE and row_button["type"] == "button"
    assert pause["data-action"] == ids.HOME_PAUSE
    assert found.named("section")[0]["aria-labelledby"] == "controls-title"


def test_the_small_thing_to_do_reads_as_its_language_writes_it() -> None:
    """The lead brings its own colon (French spaces it): the page adds none."""
    french = load_content().for_locale("fr", "teams")
    message = Message(notification="n", todo="Notez-le.", todo_lead=french.text("todo_lead"))
    shown = message_html(message, {}, controls="c")
    assert f"<strong>{french.text('todo_lead')}</strong> Notez-le." in shown
    assert ":</strong>" not in shown.replace("\u00a0:</strong>", "")


def test_a_button_that_asks_first_carries_its_question() -> None:
    confirm = Confirm(title="Erase?", text=HOSTILE, yes="Erase", no="Keep it")
    message = Message(
        notification="n", buttons=(Button(ids.HOME_ERASE, "Erase", "e", "danger", confirm),)
    )
    [button] = Elements(message_html(message, {}, controls="c")).named("button")
    assert button["data-confirm-text"] == HOSTILE
    assert (button["data-confirm-yes"], button["data-confirm-no"]) == ("Erase", "Keep it")
    assert button["class"] == "button danger"


def test_a_form_has_a_label_for_every_field_and_its_errors_next_to_it() -> None:
    locale = _locale()
    form = draw(
        HOURS,
        locale,
        values={"hours": HOSTILE, "days": "mon", "zone": ""},
        errors={"hours": "Not hours I can read."},
    )
    found = Elements(form_html(form, {}, locale))
    labels = {attributes["for"] for attributes in found.named("label")}
    inputs = [a for a in found.named("input") if a.get("type") == "text"]
    assert {a["id"] for a in inputs} == labels == {"field-hours", "field-days", "field-zone"}
    hours = next(a for a in inputs if a["name"] == "hours")
    assert hours["value"] == HOSTILE  # what was typed, kept, as a value
    assert hours["aria-invalid"] == "true" and hours["aria-required"] == "true"
    assert hours["aria-describedby"] == "field-hours-error"
    [error] = [a for a in found.named("p") if a.get("class") == "error"]
    assert error["id"] == "field-hours-error"
    assert "Not hours I can read." in found.text
    assert found.named("form")[0]["data-form"] == ids.HOURS_FORM
    assert [b["type"] for b in found.named("button")] == ["submit", "button"]


def test_choices_are_radios_in_a_fieldset_and_the_context_rides_along() -> None:
    locale = _locale()
    form = draw(FEEDBACK, locale, context={"checkin": 42})
    found = Elements(form_html(form, {}, locale))
    radios = [a for a in found.named("input") if a.get("type") == "radio"]
    assert {a["value"] for a in radios} == {"short", "warm", "formal"}
    assert [a["value"] for a in radios if "checked" in a] == ["warm"]
    assert found.named("fieldset") and found.named("legend")
    [hidden] = [a for a in found.named("input") if a.get("type") == "hidden"]
    assert (hidden["name"], hidden["value"]) == ("checkin", "42")
    # the person field: a text field, and a picker button that only Teams can show
    [picker] = [a for a in found.named("button") if "data-pick" in a]
    assert picker["data-pick"] == "field-decider" and "hidden" in picker


def test_the_page_holds_no_inline_script_and_no_ones_data() -> None:
    locale = _locale()
    teams = page_html(locale, lang="en", test_token_url=None)
    found = Elements(teams)
    scripts = found.named("script")
    assert scripts and all((s.get("src") or "").startswith("/tab/static/") for s in scripts)
    assert not re.search(r"<script[^>]*>[^<]", teams) and " style=" not in teams
    assert found.named("body")[0]["data-host"] == "teams"
    assert "data-token-url" not in teams
    tested = Elements(page_html(locale, lang="en", test_token_url="http://127.0.0.1:9/t?a=1&b"))
    body = tested.named("body")[0]
    assert (body["data-host"], body["data-token-url"]) == ("test", "http://127.0.0.1:9/t?a=1&b")
    assert found.named("p")[0] == {"id": "status", "role": "status", "aria-live": "polite"}


def test_the_manifest_declares_the_tab_beside_the_chat_and_its_sign_in() -> None:
    app_id = "11111111-2222-3333-4444-555555555555"
    manifest = build_manifest(
        app_id=app_id,
        display_name="Next Step",
        base_url="https://bot.example.com",
        developer="Example Ltd",
        privacy_url="https://bot.example.com/privacy",
        terms_url="https://bot.example.com/terms",
    )
    chat, home = manifest["staticTabs"]
    assert chat == {"entityId": "conversations", "scopes": ["personal"]}
    assert home == {
        "entityId": "home",
        "name": "Home",
        "contentUrl": "https://bot.example.com/tab/home",
        "scopes": ["personal"],
    }
    assert manifest["webApplicationInfo"] == {
        "id": app_id,
        "resource": f"api://bot.example.com/botid-{app_id}",
    }
    assert manifest["validDomains"] == ["bot.example.com"]
    assert manifest["manifestVersion"] == "1.22"  # has staticTabs and webApplicationInfo


def test_the_pinned_teams_js_is_the_published_file_with_its_licence() -> None:
    script = (TEAMS_JS / "MicrosoftTeams.min.js").read_bytes()
    assert hashlib.sha256(script).hexdigest() == TEAMS_JS_SHA256
    assert "MIT License" in (TEAMS_JS / "LICENSE").read_text(encoding="utf-8")
    assert TEAMS_JS_SHA256 in (TEAMS_JS / "README.md").read_text(encoding="utf-8")

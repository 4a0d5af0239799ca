"""The Home tab's HTML: a neutral Message (the Home) and a neutral Form drawn as HTML
fragments, and the page around them.

Every text goes through `html.escape` (quotes too), after the people it names are put in by
name; nothing typed or stored ever becomes markup. Buttons are real `<button>`s that carry
their route's action and value in data attributes (the page's script sends them to the tab's
JSON API, which runs the same route as a card click); a button that asks first carries its
question. A form is a real `<form>` with a `<label>` for every field, its hint and its error
tied to it with aria-describedby, and what was typed shown again.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from bot.teams.cards import named
from messages.content import LocaleContent
from messages.form import Field, Form
from messages.model import Bullets, Button, Link, Message, Paragraph, Preformatted, Row

STATIC_PATH = "/tab/static"
# The pinned copy of @microsoft/teams-js (bot/teams/tab_static/vendor/README.md).
TEAMS_JS = "vendor/teams-js/MicrosoftTeams.min.js"


def text(value: str, names: Mapping[str, str]) -> str:
    """A text as HTML: the people it names by name, everything escaped."""
    return escape(named(value, names), quote=True)


def message_html(message: Message, names: Mapping[str, str], *, controls: str) -> str:
    """The Home (or any message) as a fragment: title, texts, rows with their buttons, and the
    controls under a heading of their own (`controls`, for screen readers' heading list)."""
    parts: list[str] = []
    if message.title:
        parts.append(f'<h1 id="home-title" tabindex="-1">{text(message.title, names)}</h1>')
    for block in message.blocks:
        if isinstance(block, Paragraph):
            parts.append(f"<p>{text(block.text, names)}</p>")
        elif isinstance(block, Bullets):
            items = "".join(f"<li>{text(item, names)}</li>" for item in block.items)
            parts.append(f"<ul>{items}</ul>")
        elif isinstance(block, Preformatted):
            parts.append(f"<pre>{text(block.text, names)}</pre>")
    parts += [_link(link) for link in message.links]
    if message.todo:
        lead = f"<strong>{text(message.todo_lead, names)}</strong> " if message.todo_lead else ""
        parts.append(f'<p class="todo">{lead}{text(message.todo, names)}</p>')
    if message.note:
        parts.append(f'<p class="note">{text(message.note, names)}</p>')
    if message.rows:
        rows = "".join(_row(row, names) for row in message.rows)
        parts.append(f'<ul class="rows">{rows}</ul>')
    if message.buttons:
        buttons = "".join(button_html(button) for button in message.buttons)
        parts.append(
            '<section class="controls" aria-labelledby="controls-title">'
            f'<h2 id="controls-title">{escape(controls)}</h2>'
            f'<div class="buttons">{buttons}</div></section>'
        )
    return "".join(parts)


def _link(link: Link) -> str:
    lead = escape(link.lead)
    if not link.url.startswith(("https://", "http://")):
        return f"<p>{lead} {escape(link.url)}</p>"
    url = escape(link.url, quote=True)
    return f'<p>{lead} <a href="{url}" target="_blank" rel="noopener noreferrer">{url}</a></p>'


def _row(row: Row, names: Mapping[str, str]) -> str:
    buttons = "".join(button_html(button) for button in row.buttons)
    shown = f'<div class="buttons">{buttons}</div>' if buttons else ""
    return f'<li class="row"><span>{text(row.text, names)}</span>{shown}</li>'


def button_html(button: Button) -> str:
    attributes = {
        "type": "button",
        "class": f"button {button.style or 'plain'}",
        "data-action": button.action,
        "data-value": button.value,
    }
    if button.confirm is not None:
        attributes.update(
            {
                "data-confirm-title": button.confirm.title,
                "data-confirm-text": button.confirm.text,
                "data-confirm-yes": button.confirm.yes,
                "data-confirm-no": button.confirm.no,
            }
        )
    shown = " ".join(f'{name}="{escape(value, quote=True)}"' for name, value in attributes.items())
    return f"<button {shown}>{escape(button.label)}</button>"


def form_html(form: Form, names: Mapping[str, str], locale: LocaleContent) -> str:
    """The form, with what it shows (stored or typed) and its errors under their fields; the
    context it was opened with rides along in hidden inputs (checked again on submission)."""
    parts = [
        f'<form class="form" data-form="{escape(form.form_id, quote=True)}" novalidate '
        'aria-labelledby="form-title">',
        f'<h2 id="form-title" tabindex="-1">{escape(form.title)}</h2>',
    ]
    if form.intro:
        parts.append(f"<p>{text(form.intro, names)}</p>")
    for key, value in form.context.items():
        parts.append(
            f'<input type="hidden" name="{escape(key, quote=True)}" '
            f'value="{escape(str(value), quote=True)}">'
        )
    parts += [_field(field, form.errors.get(field.name), locale) for field in form.fields]
    parts.append(
        '<div class="buttons">'
        f'<button type="submit" class="button primary">{escape(form.submit)}</button>'
        f'<button type="button" class="button plain" data-close>{escape(form.close)}</button>'
        "</div></form>"
    )
    return "".join(parts)


def _field(field: Field, error: str | None, locale: LocaleContent) -> str:
    ident = f"field-{field.name}"
    described = []
    below = ""
    if field.hint:
        described.append(f"{ident}-hint")
        below += f'<p class="hint" id="{ident}-hint">{escape(field.hint)}</p>'
    if error:
        described.append(f"{ident}-error")
        below += f'<p class="error" id="{ident}-error">{escape(error)}</p>'
    needed = f' <span class="needed">{escape(locale.text("tab_required"))}</span>'
    label = escape(field.label) + (needed if field.required else "")
    common = f'id="{ident}" name="{escape(field.name, quote=True)}"'
    if described:
        common += f' aria-describedby="{" ".join(described)}"'
    if error:
        common += ' aria-invalid="true"'
    if field.required:
        common += ' aria-required="true"'
    value = escape(field.value, quote=True)
    if field.kind == "choice":
        return _choice(field, label, below, error)
    placeholder = (
        f' placeholder="{escape(field.placeholder, quote=True)}"' if field.placeholder else ""
    )
    limit = f' maxlength="{field.limit}"' if field.limit else ""
    if field.kind == "box":
        control = f'<textarea {common} rows="4"{placeholder}{limit}>{value}</textarea>'
    elif field.kind == "date":
        control = f'<input type="date" {common} value="{value}">'
    elif field.kind == "person":
        pick = escape(locale.text("tab_pick_person"))
        control = (
            f'<div class="person"><input type="text" {common} value="{value}"{placeholder} '
            f'autocomplete="off" spellcheck="false">'
            f'<button type="button" class="button plain" data-pick="{ident}" hidden>'
            f"{pick}</button></div>"
        )
    else:
        control = f'<input type="text" {common} value="{value}"{placeholder}{limit}>'
    return f'<div class="field"><label for="{ident}">{label}</label>{control}{below}</div>'


def _choice(field: Field, label: str, below: str, error: str | None) -> str:
    options = []
    for number, choice in enumerate(field.choices):
        ident = f"field-{field.name}-{number}"
        checked = " checked" if choice.value == field.value else ""
        options.append(
            f'<div class="choice"><input type="radio" id="{ident}" '
            f'name="{escape(field.name, quote=True)}" value="{escape(choice.value, quote=True)}"'
            f'{checked}><label for="{ident}">{escape(choice.label)}</label></div>'
        )
    invalid = ' aria-invalid="true"' if error else ""
    return (
        f'<fieldset class="field"{invalid}><legend>{label}</legend>{"".join(options)}'
        f"{below}</fieldset>"
    )


def page_html(locale: LocaleContent, *, lang: str, test_token_url: str | None) -> str:
    """The page Teams opens in the tab. It holds no one's data: the script asks the JSON API
    for it with the person's sign-in token. No inline script or style (the CSP forbids both).
    `data-host` tells the script where its token comes from: Teams, or (test mode only) the
    loopback identity provider at `data-token-url`."""
    host = (
        f'data-host="test" data-token-url="{escape(test_token_url, quote=True)}"'
        if test_token_url
        else 'data-host="teams"'
    )
    texts = {
        "loading": locale.text("tab_loading"),
        "outside": locale.text("tab_outside_teams"),
        "signed-out": locale.text("tab_signed_out"),
        "failed": locale.text("tab_failed"),
    }
    said = " ".join(
        f'data-text-{key}="{escape(value, quote=True)}"' for key, value in texts.items()
    )
    return (
        "<!doctype html>"
        f'<html lang="{escape(lang, quote=True)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(locale.text('tab_title'))}</title>"
        f'<link rel="stylesheet" href="{STATIC_PATH}/home.css">'
        f'<script src="{STATIC_PATH}/{TEAMS_JS}" defer></script>'
        f'<script src="{STATIC_PATH}/home.js" defer></script>'
        f'</head><body class="theme-default" {host} {said}>'
        '<main id="main">'
        f'<p id="status" role="status" aria-live="polite">{escape(texts["loading"])}</p>'
        '<div id="home"></div>'
        '<div id="form-area"></div>'
        "</main>"
        '<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">'
        '<h2 id="confirm-title"></h2><p id="confirm-text"></p>'
        '<div class="buttons"><button type="button" class="button danger" id="confirm-yes">'
        '</button><button type="button" class="button plain" id="confirm-no"></button></div>'
        "</dialog></body></html>"
    )

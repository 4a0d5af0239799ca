"""The small HTML pages of the install flow: pure builders, every word from the content."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from messages.content import LocaleContent

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;"
    "color:#2f3e46;line-height:1.5}a.button{display:inline-block;padding:.6rem 1.2rem;"
    "background:#2f3e46;color:#fff;border-radius:.3rem;text-decoration:none}"
)


_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
# Every response of the install flow carries these (bot.app.web adds them): the pages load nothing,
# run nothing, post nothing and show in no frame; only their own <style> applies.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _page(title: str, body: str, link: tuple[str, str] | None) -> str:
    action = (
        f'<p><a class="button" href="{escape(link[0])}">{escape(link[1])}</a></p>' if link else ""
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(body)}</p>{action}</body></html>"
    )


def build_install_page(locale: LocaleContent, *, app_name: str, authorize_url: str) -> str:
    return _page(
        locale.text("install_title", app_name=app_name),
        locale.text("install_body", app_name=app_name),
        (authorize_url, locale.text("install_button")),
    )


def build_installed_page(locale: LocaleContent, *, app_name: str, team: str) -> str:
    return _page(
        locale.text("installed_title", app_name=app_name, team=team),
        locale.text("installed_body", app_name=app_name),
        None,
    )


def build_install_failed_page(
    locale: LocaleContent, *, app_name: str, reason_key: str, install_path: str
) -> str:
    return _page(
        locale.text("install_title", app_name=app_name),
        locale.text(reason_key),
        (install_path, locale.text("install_again")),
    )

"""The Teams app package: manifest.json and two icons, zipped, for upload to Teams.

The icons are drawn here with the standard library (a few steps going up), so the repository
holds no binary files: a 192x192 colour icon and the 32x32 white-on-transparent outline.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from bot.teams.manifest_languages import (
    command_menu,
    descriptions,
    localization_files,
    localization_info,
)
from messages.content import DEFAULT_LOCALE, Content
from messages.loader import load_content

MANIFEST_VERSION = "1.22"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
ACCENT = (0x3B, 0x5B, 0x7A)
SHORT_NAME_LIMIT = 30

# The command menu Teams shows in the chat with the bot (at most ten entries): its words and
# what each does come from the content, in every language (bot.teams.manifest_languages).
COMMAND_MENU_LIMIT = 10


Pixel = tuple[int, int, int, int]

# The personal tab (bot.teams.tab_page): its id in the manifest, its name, its page.
HOME_TAB_ID = "home"
HOME_TAB_PATH = "/tab/home"


def build_manifest(
    *,
    app_id: str,
    display_name: str,
    base_url: str,
    developer: str,
    privacy_url: str,
    terms_url: str,
    version: str = "1.0.0",
    content: Content | None = None,
) -> dict[str, Any]:
    """The manifest, in English; the other languages are the package's localization files."""
    content = content or load_content()
    english = content.for_locale(DEFAULT_LOCALE, "teams")
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": developer,
            "websiteUrl": base_url,
            "privacyUrl": privacy_url,
            "termsOfUseUrl": terms_url,
        },
        "name": {"short": display_name[:SHORT_NAME_LIMIT], "full": display_name},
        "description": descriptions(english),
        "localizationInfo": localization_info(content),
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal"],
                "supportsFiles": True,  # the data export is sent as a file
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": command_menu(english),
                    }
                ],
            }
        ],
        # The chat with the bot first (where Teams opens the app), then the Home tab.
        "staticTabs": [
            {"entityId": "conversations", "scopes": ["personal"]},
            {
                "entityId": HOME_TAB_ID,
                "name": english.text("tab_name"),
                "contentUrl": f"{base_url.rstrip('/')}{HOME_TAB_PATH}",
                "scopes": ["personal"],
            },
        ],
        # The tab's single sign-on: Teams gives the page tokens for this resource, which the
        # server checks (bot.teams.tab_auth). TEAMS_TAB_DOMAIN must be this same host.
        "webApplicationInfo": {"id": app_id, "resource": tab_resource(base_url, app_id)},
        "permissions": ["identity"],
        "validDomains": [urlparse(base_url).netloc],
    }


def tab_resource(base_url: str, app_id: str) -> str:
    """The Application ID URI of the app registration, as Teams' tab SSO wants it."""
    return f"api://{urlparse(base_url).netloc}/botid-{app_id}"


def build_package(manifest: dict[str, Any], content: Content | None = None) -> bytes:
    """The zip Teams takes: the manifest, a localization file per other language of the
    content, and the two icons, all at the top level."""
    files = localization_files(
        content or load_content(),
        display_name=manifest["name"]["full"],
        manifest_version=manifest["manifestVersion"],
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        for name, texts in files.items():
            package.writestr(name, json.dumps(texts, indent=2, ensure_ascii=False))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return buffer.getvalue()


def color_icon() -> bytes:
    white: Pixel = (255, 255, 255, 255)
    background: Pixel = (*ACCENT, 255)
    return png(192, lambda x, y: white if _on_steps(x, y, 192) else background)


def outline_icon() -> bytes:
    """Teams wants the outline white on a transparent background."""
    white: Pixel = (255, 255, 255, 255)
    clear: Pixel = (0, 0, 0, 0)
    return png(32, lambda x, y: white if _on_steps(x, y, 32) else clear)


def _on_steps(x: int, y: int, size: int) -> bool:
    """Three steps rising to the right, inside a margin of a sixth of the icon."""
    margin, steps = size // 6, 3
    inner = size - 2 * margin
    if not (margin <= x < size - margin and margin <= y < size - margin):
        return False
    step = min((x - margin) * steps // inner, steps - 1)
    top = margin + inner - (step + 1) * inner // steps
    return y >= top


def png(size: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """A square RGBA PNG, each pixel from `pixel(x, y)`."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )

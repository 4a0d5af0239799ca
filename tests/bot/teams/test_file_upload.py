"""Where a person's data export may be uploaded: the URL a file consent answer names is checked
against TEAMS_UPLOAD_HOSTS before a byte leaves."""

from __future__ import annotations

import pytest

from bot.core.config import DEFAULT_TEAMS_UPLOAD_HOSTS
from bot.teams.file_upload import RANGE_UNIT, byte_ranges, upload_url_allowed

SESSION = "/personal/alex_contoso_com/_api/v2.0/drive/items/01ABC/uploadSession?guid=x"


@pytest.mark.parametrize(
    "url",
    [
        f"https://contoso-my.sharepoint.com{SESSION}",
        f"https://CONTOSO.SharePoint.com:443{SESSION}",
        "https://sharepoint.com/up",
    ],
)
def test_onedrive_for_business_is_allowed(url: str) -> None:
    assert upload_url_allowed(url, DEFAULT_TEAMS_UPLOAD_HOSTS)


@pytest.mark.parametrize(
    "url",
    [
        f"http://contoso-my.sharepoint.com{SESSION}",  # not https
        f"https://contoso-my.sharepoint.com:8443{SESSION}",  # another port
        f"https://contoso-my.sharepoint.com.attacker.example{SESSION}",  # a look-alike
        f"https://attackersharepoint.com{SESSION}",
        f"https://me@contoso-my.sharepoint.com{SESSION}",  # credentials in the URL
        "https://attacker.example/?next=https://contoso-my.sharepoint.com/",
        "ftp://contoso-my.sharepoint.com/up",
        "//contoso-my.sharepoint.com/up",
        "https://[::1/up",  # unparseable
        "",
        "http://127.0.0.1:8123/up",  # loopback, but not named
        "https://127.0.0.1/up",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    assert not upload_url_allowed(url, DEFAULT_TEAMS_UPLOAD_HOSTS)


def test_a_loopback_fake_only_on_the_port_the_list_names() -> None:
    hosts = ("sharepoint.com", "127.0.0.1:8123")
    assert upload_url_allowed("http://127.0.0.1:8123/up/1", hosts)
    assert not upload_url_allowed("http://127.0.0.1:8124/up/1", hosts)
    assert not upload_url_allowed("http://localhost:8123/up/1", hosts)
    # a host:port entry is no suffix for a public host
    assert not upload_url_allowed("https://x.127.0.0.1:8123/up/1", hosts)


def test_ranges_are_whole_pieces_then_the_rest() -> None:
    assert byte_ranges(10) == [(0, 9)]
    assert byte_ranges(2 * RANGE_UNIT + 1, RANGE_UNIT) == [
        (0, RANGE_UNIT - 1),
        (RANGE_UNIT, 2 * RANGE_UNIT - 1),
        (2 * RANGE_UNIT, 2 * RANGE_UNIT),
    ]
    with pytest.raises(ValueError, match="320 KiB"):
        byte_ranges(10, 1000)

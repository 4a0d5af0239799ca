"""Putting a file's bytes into the OneDrive upload session Teams hands the bot when a person
accepts a file consent card (`uploadInfo.uploadUrl` of a `fileConsent/invoke`).

The protocol is OneDrive's "upload bytes to the upload session" (Microsoft Graph,
driveItem: createUploadSession): PUT requests with Content-Range, in order, each under 60 MiB;
when a file is split, every range but the last is a multiple of 320 KiB. The server answers
202 while it expects more, and 200 or 201 with the finished item. No Authorization header: the
upload URL carries its own authorisation, and a bearer token on the PUT may be refused.

The URL comes from the activity, so it is checked before anything is sent: https to a host on
TEAMS_UPLOAD_HOSTS (by default sharepoint.com, where OneDrive for Business lives), never a
redirect followed, never the bot's token.
"""

from __future__ import annotations

import httpx

from bot.core.config_teams import LOOPBACK_HOSTS, url_parts

# OneDrive wants each range of a split upload to be a multiple of 320 KiB, each request under
# 60 MiB; ten of those keeps every request short enough to finish well within its timeout.
RANGE_UNIT = 320 * 1024
UPLOAD_PIECE = 10 * RANGE_UNIT
UPLOAD_TIMEOUT_SECONDS = 30.0


class UploadFailed(Exception):
    """The upload session refused the bytes or did not answer; the reason names no data."""


def upload_url_allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether a person's file may be PUT to `url`.

    https, on port 443, to a host that is an entry of `hosts` or ends in "." and one: the
    entries are domains like sharepoint.com (every tenant's OneDrive is a subdomain of it).
    Plain http only to a loopback address an entry names with its port (a test's fake).
    """
    parts = url_parts(url)
    if parts is None:
        return False
    scheme, host, port = parts
    if scheme == "http" and host in LOOPBACK_HOSTS:
        return f"{host}:{port}" in hosts
    if scheme != "https" or (port is not None and port != 443):
        return False
    return any(host == entry or host.endswith("." + entry) for entry in hosts if ":" not in entry)


def byte_ranges(size: int, piece: int = UPLOAD_PIECE) -> list[tuple[int, int]]:
    """The first and last byte of each request; one range when the file fits in one piece."""
    if piece <= 0 or piece % RANGE_UNIT:
        raise ValueError("an upload piece is a positive multiple of 320 KiB")
    return [(start, min(start + piece, size) - 1) for start in range(0, size, piece)]


async def upload_file(
    url: str,
    content: bytes,
    *,
    seconds_per_request: float = UPLOAD_TIMEOUT_SECONDS,
    piece: int = UPLOAD_PIECE,
) -> None:
    """PUT `content` to the upload session at `url`, range after range; UploadFailed when a
    range is refused or a request does not finish within `seconds_per_request`."""
    if not content:
        raise UploadFailed("nothing to upload")
    size = len(content)
    async with httpx.AsyncClient(timeout=seconds_per_request, follow_redirects=False) as client:
        for first, last in byte_ranges(size, piece):
            headers = {
                "Content-Range": f"bytes {first}-{last}/{size}",
                "Content-Type": "application/octet-stream",
            }
            try:
                response = await client.put(url, content=content[first : last + 1], headers=headers)
            except httpx.TimeoutException:
                raise UploadFailed(f"no answer within {seconds_per_request:g} s") from None
            except httpx.TransportError as error:
                raise UploadFailed(f"connection: {type(error).__name__}") from None
            done = last == size - 1
            if response.status_code in (200, 201) and done:
                return
            if response.status_code == 202 and not done:
                continue
            raise UploadFailed(f"the upload session answered {response.status_code}")

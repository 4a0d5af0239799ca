"""Bad requests at the real endpoint: 401, 400 or 413, never a 500; the server keeps serving."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlencode, urlparse

import pytest

from bot.demo import slack_requests
from tests.conftest import SECRET, BotFactory, RunningBot

FORM = slack_requests.FORM


def _command_body() -> bytes:
    body, _ = slack_requests.slash_command(
        user_id="U0X", team_id="T0TEST", response_url="http://127.0.0.1:9/r"
    )
    return body


def _still_serving(bot: RunningBot) -> None:
    assert bot.http.get(f"{bot.url}/healthz").status_code == 200


def test_unsigned_wrongly_signed_and_stale_requests_get_401(start_bot: BotFactory) -> None:
    bot = start_bot()
    body = _command_body()
    assert bot.post(body, FORM, headers={"content-type": FORM}).status_code == 401
    wrong = slack_requests.signed_headers("another-secret", body, content_type=FORM)
    assert bot.post(body, FORM, headers=wrong).status_code == 401
    stale = slack_requests.signed_headers(
        SECRET, body, content_type=FORM, timestamp=int(time.time()) - 6 * 60
    )
    assert bot.post(body, FORM, headers=stale).status_code == 401
    future = slack_requests.signed_headers(
        SECRET, body, content_type=FORM, timestamp=int(time.time()) + 6 * 60
    )
    assert bot.post(body, FORM, headers=future).status_code == 401
    garbage = {
        "content-type": FORM,
        "x-slack-request-timestamp": "soon",
        "x-slack-signature": "v0=zz",
    }
    assert bot.post(body, FORM, headers=garbage).status_code == 401
    assert bot.standin.calls == []
    _still_serving(bot)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", FORM),
        (b"hello=world", FORM),
        (b"\xff\xfe\x00", FORM),
        (urlencode({"payload": "{not json"}).encode(), FORM),
        (urlencode({"payload": "[1, 2]"}).encode(), FORM),
        (urlencode({"payload": json.dumps({"type": "block_actions"})}).encode(), FORM),
        (
            urlencode(
                {"payload": json.dumps({"type": "block_actions", "user": {"id": 5}, "actions": []})}
            ).encode(),
            FORM,
        ),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        {"type": "block_actions", "user": {"id": "U1"}, "actions": "x"}
                    )
                }
            ).encode(),
            FORM,
        ),
        (urlencode({"command": "/notpromoted", "team_id": "T0TEST"}).encode(), FORM),
        (
            urlencode(
                {"payload": json.dumps({"type": "interactive_message", "user": {"id": "U1"}})}
            ).encode(),
            FORM,
        ),
        (b"[]", "application/json"),
        (b'{"type": 3}', "application/json"),
        (b'{"type": "event_callback", "event": "x", "event_id": "Ev1"}', "application/json"),
        (
            b'{"type": "event_callback", "event_id": "Ev1", '
            b'"event": {"type": "app_home_opened", "user": 7}}',
            "application/json",
        ),
        (b'{"type": "url_verification"}', "application/json"),
        (b"{", "application/json"),
    ],
)
def test_signed_but_malformed_requests_get_400(
    start_bot: BotFactory, body: bytes, content_type: str
) -> None:
    bot = start_bot()
    assert bot.post(body, content_type).status_code == 400
    _still_serving(bot)


def test_url_verification_and_ssl_check_are_answered(start_bot: BotFactory) -> None:
    bot = start_bot()
    response = bot.post(
        b'{"type": "url_verification", "challenge": "abc123", "token": "t"}', "application/json"
    )
    assert response.status_code == 200 and "abc123" in response.text
    assert bot.post(b"ssl_check=1&token=t", FORM).status_code == 200


def test_a_body_over_one_megabyte_gets_413(start_bot: BotFactory) -> None:
    bot = start_bot()
    body = urlencode(
        {
            "command": "/notpromoted",
            "user_id": "U0X",
            "team_id": "T0TEST",
            "text": "x" * (1024 * 1024),
        }
    ).encode()
    assert bot.post(body, FORM).status_code == 413
    _still_serving(bot)


def _raw_status(
    bot: RunningBot, head: bytes, body_chunks: list[bytes], pause: float = 0.0
) -> tuple[int, float]:
    """Send a request by hand; return the status and how long the answer took."""
    address = urlparse(bot.url)
    started = time.monotonic()
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(head)
        for chunk in body_chunks:
            connection.sendall(chunk)
            time.sleep(pause)
        connection.settimeout(5)
        answer = connection.recv(1024)
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def test_a_large_content_length_is_refused_before_the_body_arrives(start_bot: BotFactory) -> None:
    bot = start_bot()
    address = urlparse(bot.url)
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: {address.hostname}\r\n"
        f"Content-Type: {FORM}\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n"
    ).encode()
    # Only a first trickle of the 50 MB is ever sent; the answer must not wait for the rest.
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(head + b"command=%2Fnotpromoted")
        connection.settimeout(3)
        answer = connection.recv(1024)
    assert answer.startswith(b"HTTP/1.1 413")
    _still_serving(bot)


def test_a_chunked_body_that_grows_too_large_gets_413(start_bot: BotFactory) -> None:
    bot = start_bot()
    address = urlparse(bot.url)
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: {address.hostname}\r\n"
        f"Content-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"a" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    status, _ = _raw_status(bot, head, [frame] * 17)
    assert status == 413
    _still_serving(bot)


def test_unknown_paths_and_methods(start_bot: BotFactory) -> None:
    bot = start_bot()
    assert bot.http.get(f"{bot.url}/slack/events").status_code == 405
    assert bot.http.get(f"{bot.url}/nope").status_code == 404


def test_requests_nobody_listens_for_are_acknowledged(start_bot: BotFactory) -> None:
    bot = start_bot()
    payload = {
        "type": "interactive_message",
        "user": {"id": "U0X"},
        "team": {"id": "T0TEST"},
        "callback_id": "old",
        "actions": [{"name": "legacy", "type": "button", "value": "1"}],
    }
    assert bot.post(urlencode({"payload": json.dumps(payload)}).encode(), FORM).status_code == 200
    body, kind = slack_requests.event_callback(
        team_id="T0TEST", event={"type": "reaction_added", "user": "U0X"}, event_id="Ev9"
    )
    assert bot.post(body, kind).status_code == 200
    body = urlencode(
        {"command": "/other", "user_id": "U0X", "team_id": "T0TEST", "text": ""}
    ).encode()
    assert bot.post(body, FORM).status_code == 200


def test_health_is_503_when_the_database_does_not_answer(start_bot: BotFactory) -> None:
    from bot.core.db import make_engine

    bot = start_bot(
        engine=make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), migrate=False
    )
    response = bot.http.get(f"{bot.url}/healthz")
    assert response.status_code == 503
    # And a command then gets a friendly answer instead of an error.
    reply = bot.command("U0X")
    assert reply.status_code == 200
    assert "try again in a minute" in reply.json()["text"]

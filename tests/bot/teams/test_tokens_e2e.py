"""Teams' tokens are checked without blocking the server: forged Entra tokens are refused
before any key is fetched, and the Bot Framework's keys are fetched off the event loop.

The attack (issue 15, item 1): microsoft-teams-apps 2.1.1 fetched signing keys for a forged
token's own tenant with blocking I/O on the event loop, so twenty forged tokens delayed
/healthz and Slack's commands by 10-30 s. The bounds below are loose on purpose.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.teams import tokens
from tests.bot.teams.fakes import CLIENT_ID, ISSUER, KEY_ID, BlackHole
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory

FLOOD = 20
# The attack made these 10-30 s; a healthy server answers in milliseconds.
ANSWERS_WITHIN = 3.0


def _refused(teams: TeamsBot, reason: str) -> float:
    value = teams.runtime.metrics.registry.get_sample_value(
        "notpromoted_teams_refused_tokens_total", {"reason": reason}
    )
    return float(value or 0.0)


def _entra_token(issuer_kind: str, login_url: str) -> str:
    """What the attacker sent: an Entra-looking issuer, a fresh tenant, any key."""
    tenant = str(uuid.uuid4())
    issuer = (
        f"https://sts.windows.net/{tenant}/"
        if issuer_kind == "v1"
        else f"{login_url}/{tenant}/v2.0"
    )
    now = int(time.time())
    claims = {"iss": issuer, "tid": tenant, "aud": CLIENT_ID, "iat": now, "exp": now + 600}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": uuid.uuid4().hex})


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.stop()


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_forged_entra_tokens_are_refused_without_delaying_anyone(
    start_teams: TeamsFactory, black_hole: BlackHole
) -> None:
    # The login URL (where Entra's keys would be fetched from) never answers; Slack is served
    # too, and its commands must not wait either.
    teams = start_teams(slack=True, teams_login_url=black_hole.url)
    message = teams.activity(ALEX, "message", text="notpromoted")
    tokens = [_entra_token("v1" if i % 2 else "v2", black_hole.url) for i in range(FLOOD)]

    def forge(token: str) -> int:
        with httpx.Client(timeout=120) as client:
            url = f"{teams.bot.url}/api/messages"
            headers = {"Authorization": f"Bearer {token}"}
            return client.post(url, json=message, headers=headers).status_code

    with ThreadPoolExecutor(FLOOD) as pool, httpx.Client(timeout=10) as client:
        flood = [pool.submit(forge, token) for token in tokens]
        deadline = time.monotonic() + 5
        while not black_hole.connections and not all(f.done() for f in flood):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        try:
            health, health_took = _timed(lambda: client.get(f"{teams.bot.url}/healthz"))
            command, command_took = _timed(lambda: teams.bot.command("U0FLOOD"))
        finally:
            black_hole.stop()  # the old code's blocked fetches fail now, and the test ends
        statuses = [f.result(timeout=120) for f in flood]

    assert health.status_code == 200 and health_took < ANSWERS_WITHIN
    assert command.status_code == 200 and command_took < ANSWERS_WITHIN
    assert statuses == [401] * FLOOD
    assert black_hole.connections == []  # refused before any key was fetched
    assert _refused(teams, "entra") == FLOOD
    assert teams.cloud.sent == []


def test_the_first_request_waits_for_slow_keys_while_the_server_answers_others(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams(slack=True)  # and Slack's commands are answered meanwhile
    teams.cloud.hold_keys()
    message = teams.activity(ALEX, "message", text="notpromoted", textFormat="plain")
    with ThreadPoolExecutor(1) as pool, httpx.Client(timeout=10) as client:
        first = pool.submit(teams.post, message)
        assert teams.cloud.wait_for(lambda: teams.cloud.key_requests >= 1)
        try:  # the key server holds its answer: the loop must not
            health, took = _timed(lambda: client.get(f"{teams.bot.url}/healthz"))
            command, command_took = _timed(lambda: teams.bot.command("U0WAITS"))
        finally:
            teams.cloud.release_keys()
        assert first.result(timeout=30).status_code == 200
    assert health.status_code == 200 and took < ANSWERS_WITHIN
    assert command.status_code == 200 and command_took < ANSWERS_WITHIN
    assert len(teams.cards(ALEX, 2)) == 2
    for _ in range(3):  # the keys are kept: no second fetch
        assert teams.say(ALEX, "help").status_code == 200
    assert teams.cloud.key_requests == 1


def test_without_keys_teams_is_asked_to_retry_and_the_keys_are_fetched_again_soon(
    start_teams: TeamsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "NO_KEYS_RETRY", 0.2)
    teams = start_teams()
    teams.cloud.keys_down = True
    message = teams.activity(ALEX, "message", text="notpromoted", textFormat="plain")
    assert teams.post(message).status_code == 503  # Teams retries a 5xx
    assert _refused(teams, "keys_unavailable") == 1
    teams.cloud.keys_down = False
    time.sleep(0.3)
    assert teams.post(message).status_code == 200
    assert len(teams.cards(ALEX, 2)) == 2


def test_made_up_key_ids_do_not_send_every_request_to_the_key_server(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    assert teams.say(ALEX, "notpromoted").status_code == 200
    message = teams.activity(ALEX, "message", text="help")
    now = int(time.time())
    for number in range(30):
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 600}
        claims["serviceurl"] = teams.cloud.service_url
        token = jwt.encode(
            claims, teams.cloud.key, algorithm="RS256", headers={"kid": f"k{number}"}
        )
        assert teams.post(message, token=f"Bearer {token}").status_code == 401
    assert teams.cloud.key_requests <= 2  # the first fetch, and at most one more a minute
    assert _refused(teams, "unknown_key") == 30


def test_expired_forged_and_wrong_audience_tokens_are_counted_by_reason(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    message = teams.activity(ALEX, "message", text="notpromoted")
    now = int(time.time())
    cases = {
        "expired": teams.cloud.sign(exp=now - 3600, iat=now - 7200),
        "audience": teams.cloud.sign(aud="someone-else"),
        "issuer": teams.cloud.sign(iss="https://example.com"),
        "service_url": teams.cloud.sign(serviceurl="https://smba.trafficmanager.net/teams/"),
    }
    for reason, token in cases.items():
        assert teams.post(message, token=f"Bearer {token}").status_code == 401, reason
        assert _refused(teams, reason) == 1, reason
    assert teams.post(message, token="Bearer x.y.z").status_code == 401
    assert _refused(teams, "malformed") == 1
    assert teams.cloud.sent == []


def test_a_flood_of_forged_tokens_writes_a_few_lines_and_counts_every_one(
    start_teams: TeamsFactory, captured: io.StringIO
) -> None:
    teams = start_teams()
    assert teams.say(ALEX, "notpromoted").status_code == 200
    message = teams.activity(ALEX, "message", text="notpromoted")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 600}
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": KEY_ID})
    before = len(captured.getvalue().splitlines())
    for _ in range(200):
        assert teams.post(message, token=f"Bearer {forged}").status_code == 401
    flood_lines = captured.getvalue().splitlines()[before:]
    refused_lines = [line for line in flood_lines if "token" in line.lower()]
    assert 1 <= len(refused_lines) <= 3, refused_lines
    assert len(flood_lines) <= 10, flood_lines
    assert _refused(teams, "signature") == 200

"""The Home tab's API lets in only a Teams sign-in token for this app, in this tenant, signed
by the tenant's published key (bot.teams.tab_auth). Everything else is a 401 with a JSON body:
never a 500, never anyone's data. Through the real server, against the fake Entra ID."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.demo.teams_standin import ENTRA_KEY_ID
from tests.bot.teams.fakes import CLIENT_ID, TENANT, TeamsCloud
from tests.bot.teams.harness import ALEX, SAM, TAB_DOMAIN, TeamsBot, TeamsFactory

API = "/tab/api/home"
# A healthy server answers in milliseconds; the bound is loose on purpose.
ANSWERS_WITHIN = 3.0


def _get(teams: TeamsBot, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return teams.bot.http.get(f"{teams.bot.url}{API}", headers=headers)


def _refused(teams: TeamsBot, reason: str) -> float:
    value = teams.runtime.metrics.registry.get_sample_value(
        "notpromoted_teams_refused_tokens_total", {"reason": f"tab_{reason}"}
    )
    return float(value or 0.0)


def _forged(cloud: TeamsCloud, **claims: Any) -> str:
    """Right claims, signed with a key that is not the tenant's (under its key id)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    payload = {
        "iss": f"{cloud.login_url}/{TENANT}/v2.0",
        "aud": cloud.tab_audience,
        "tid": TENANT,
        "oid": ALEX,
        "scp": "access_as_user",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": ENTRA_KEY_ID})


OTHER_TENANT = "12345678-1234-4234-8234-123456789abc"


def _cases(cloud: TeamsCloud) -> dict[str, tuple[str | None, str]]:
    """Each bad request: its Authorization header and the reason it is counted under."""
    now = int(time.time())
    login = cloud.login_url
    return {
        "no header": (None, "missing"),
        "not a bearer": ("Basic YWxleDpzZWNyZXQ=", "missing"),
        "empty bearer": ("Bearer", "missing"),
        "garbage": ("Bearer not.a.token", "malformed"),
        "too long": ("Bearer " + "a" * 20_000, "malformed"),
        "unsigned": (
            "Bearer " + jwt.encode({"oid": ALEX, "tid": TENANT}, "", algorithm="none"),
            "malformed",
        ),
        "HS256 with the key as a secret": (
            "Bearer " + jwt.encode({"oid": ALEX, "tid": TENANT}, "x" * 32, algorithm="HS256"),
            "malformed",
        ),
        "forged": ("Bearer " + _forged(cloud), "signature"),
        "unknown key id": (
            "Bearer " + _unknown_kid(cloud),
            "unknown_key",
        ),
        "expired": ("Bearer " + cloud.sign_user(ALEX, iat=now - 7200, exp=now - 3600), "expired"),
        "not yet valid": ("Bearer " + cloud.sign_user(ALEX, nbf=now + 3600), "signature"),
        "wrong audience": (
            "Bearer " + cloud.sign_user(ALEX, aud=f"api://elsewhere.example/botid-{uuid.uuid4()}"),
            "audience",
        ),
        "the bot's client id as audience": (
            "Bearer " + cloud.sign_user(ALEX, aud=CLIENT_ID),
            "audience",
        ),
        "another tenant": (
            "Bearer "
            + cloud.sign_user(ALEX, tenant=OTHER_TENANT, iss=f"{login}/{OTHER_TENANT}/v2.0"),
            "issuer",
        ),
        "another tenant under ours": (
            "Bearer " + cloud.sign_user(ALEX, tid=OTHER_TENANT),
            "tenant",
        ),
        "wrong issuer": (
            "Bearer " + cloud.sign_user(ALEX, iss="https://evil.example/v2.0"),
            "issuer",
        ),
        "a Bot Framework token": ("Bearer " + cloud.sign(), "issuer"),
        "app-only (no scope)": ("Bearer " + cloud.sign_user(ALEX, scp=None), "scope"),
        "another scope": ("Bearer " + cloud.sign_user(ALEX, scp="User.Read"), "scope"),
        "no person": ("Bearer " + cloud.sign_user("not-an-object-id"), "no_person"),
    }


def _unknown_kid(cloud: TeamsCloud) -> str:
    token = cloud.sign_user(ALEX)
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, cloud.entra_key, algorithm="RS256", headers={"kid": "rolled-away"})


def test_every_bad_token_is_a_401_with_json_and_counted(
    start_tab: TeamsFactory, cloud: TeamsCloud
) -> None:
    teams = start_tab()
    teams.install(ALEX)
    teams.say(ALEX, "start")
    for name, (authorization, reason) in _cases(cloud).items():
        before = _refused(teams, reason)
        answer = _get(teams, authorization)
        assert answer.status_code == 401, name
        assert answer.json() == {"error": "unauthorized"}, name
        assert "step" not in answer.text, name
        assert _refused(teams, reason) == before + 1, name
    assert _get(teams, f"Bearer {cloud.sign_user(ALEX)}").status_code == 200


def test_clicks_and_forms_are_refused_alike_and_change_nothing(
    start_tab: TeamsFactory, cloud: TeamsCloud
) -> None:
    teams = start_tab()
    teams.install(ALEX)
    teams.say(ALEX, "start")
    sent_before = len(teams.cards(ALEX))
    for path, body in (
        ("/tab/api/click", {"action": "home_erase", "value": "erase"}),
        ("/tab/api/submit", {"action": "hours_form", "hours": "01:00-02:00", "days": "mon"}),
    ):
        for authorization in (None, f"Bearer {_forged(cloud)}", f"Bearer {cloud.sign()}"):
            headers = {"Authorization": authorization} if authorization else {}
            answer = teams.bot.http.post(f"{teams.bot.url}{path}", json=body, headers=headers)
            assert answer.status_code == 401 and answer.json() == {"error": "unauthorized"}
    home = _get(teams, f"Bearer {cloud.sign_user(ALEX)}").json()["home"]
    assert "step 1 of 10" in home  # not erased
    teams.settle()
    assert len(teams.cards(ALEX)) == sent_before  # nothing said in the chat


def test_each_token_shows_its_own_persons_home_only(
    start_tab: TeamsFactory, cloud: TeamsCloud
) -> None:
    teams = start_tab()
    teams.install(ALEX)
    teams.say(ALEX, "start")
    alex = _get(teams, f"Bearer {cloud.sign_user(ALEX)}").json()["home"]
    sam = _get(teams, f"Bearer {cloud.sign_user(SAM)}").json()["home"]
    assert "step 1 of 10" in alex
    assert "step 1 of 10" not in sam and 'data-action="home_start"' in sam


def test_bad_requests_with_a_good_token_are_400_with_json(
    start_tab: TeamsFactory, cloud: TeamsCloud
) -> None:
    teams = start_tab()
    headers = {"Authorization": f"Bearer {cloud.sign_user(ALEX)}"}
    url = f"{teams.bot.url}/tab/api/click"
    for content, kind in (
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"[" * 100_000, "application/json"),
        (b'{"action": 5}', "application/json"),
        (b'{"action": "home_pause"}', "text/plain"),
        (b'{"action": "home_pause", "value": "' + b"x" * 70_000 + b'"}', "application/json"),
    ):
        answer = teams.bot.http.post(
            url, content=content, headers={**headers, "Content-Type": kind}
        )
        assert answer.status_code == 400 and "error" in answer.json()
    # An action no route has, a form of no spec: the person reads that the button expired.
    unknown = teams.bot.http.post(url, json={"action": "nope", "value": ""}, headers=headers)
    assert unknown.status_code == 200 and unknown.json()["said"].startswith(
        "This button has expired"
    )
    form = teams.bot.http.post(
        f"{teams.bot.url}/tab/api/submit", json={"action": "nope"}, headers=headers
    )
    assert form.status_code == 200 and form.json()["said"].startswith("This button has expired")


def test_a_slow_key_server_holds_only_the_requests_that_wait_for_it(
    start_tab: TeamsFactory, cloud: TeamsCloud
) -> None:
    """The tenant's keys are fetched with httpx off the loop: while the key server hangs,
    the health check, a refused token and the bot's own endpoint answer at once."""
    teams = start_tab()
    cloud.hold_keys()
    try:
        with ThreadPoolExecutor(4) as pool:
            waiting = [
                pool.submit(_get, teams, f"Bearer {cloud.sign_user(ALEX)}") for _ in range(3)
            ]
            assert cloud.wait_for(lambda: cloud.key_requests >= 1)
            started = time.monotonic()
            assert teams.bot.http.get(f"{teams.bot.url}/healthz").status_code == 200
            assert _get(teams, f"Bearer {cloud.sign()}").status_code == 401
            assert _get(teams, None).status_code == 401
            assert time.monotonic() - started < ANSWERS_WITHIN
            assert not any(future.done() for future in waiting)
            cloud.release_keys()
            assert [future.result(timeout=20).status_code for future in waiting] == [200] * 3
    finally:
        cloud.release_keys()
    assert cloud.key_requests == 1  # one fetch for the three who waited


def test_without_the_keys_the_api_answers_503_and_recovers(
    start_tab: TeamsFactory, cloud: TeamsCloud
) -> None:
    teams = start_tab()
    cloud.keys_down = True
    answer = _get(teams, f"Bearer {cloud.sign_user(ALEX)}")
    assert answer.status_code == 503 and answer.json() == {"error": "unavailable"}


def test_the_tab_is_served_only_where_it_is_configured(
    start_teams: TeamsFactory, start_tab: TeamsFactory
) -> None:
    plain = start_teams()  # Teams without TEAMS_TAB_DOMAIN: no tab
    assert plain.bot.http.get(f"{plain.bot.url}/tab/home").status_code == 404
    assert _get(plain, None).status_code == 404
    served = start_tab()
    page = served.bot.http.get(f"{served.bot.url}/tab/home")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'self' https://teams.microsoft.com" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert 'data-host="teams"' in page.text and "data-token-url" not in page.text
    assert served.runtime.services.settings.teams_tab_audience == (
        f"api://{TAB_DOMAIN}/botid-{served.runtime.services.settings.teams_client_id}"
    )


@pytest.mark.parametrize(
    "path", ["../../core/config.py", "home.js.map", "vendor/teams-js/README.md"]
)
def test_only_the_pages_own_files_are_served(start_tab: TeamsFactory, path: str) -> None:
    teams = start_tab()
    assert teams.bot.http.get(f"{teams.bot.url}/tab/static/{path}").status_code == 404
    script = teams.bot.http.get(f"{teams.bot.url}/tab/static/home.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )

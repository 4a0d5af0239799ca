"""What /api/messages does with requests that are not what Teams sends: never a 500."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Person, TeamsConversation
from tests.bot.teams.fakes import CLIENT_ID, ISSUER, KEY_ID
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory


@pytest.fixture
def teams(start_teams: TeamsFactory) -> TeamsBot:
    return start_teams()


def _forged(**claims: Any) -> str:
    """A token with the right key id, signed with a key Teams never published."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 600, **claims}
    return jwt.encode(body, other, algorithm="RS256", headers={"kid": KEY_ID})


def test_requests_without_a_valid_token_are_refused(teams: TeamsBot) -> None:
    message = teams.activity(ALEX, "message", text="notpromoted")
    assert teams.post(message, token=None).status_code == 401
    assert teams.post(message, token="Basic abc").status_code == 401
    assert teams.post(message, token="Bearer not-a-jwt").status_code == 401
    assert teams.post(message, token=f"Bearer {_forged()}").status_code == 401
    now = int(time.time())
    for claims in (
        {"aud": "someone-else"},
        {"iss": "https://example.com"},
        {"exp": now - 3600, "iat": now - 7200},
        {"serviceurl": "https://elsewhere.example.com/"},
    ):
        token = teams.cloud.sign(**claims)
        assert teams.post(message, token=f"Bearer {token}").status_code == 401, claims
    assert teams.cloud.sent == []  # nothing was answered


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"message"',
        b"{}",
        b'{"type": "message"}',
        b'{"type": "message", "from": "me", "conversation": 7, "recipient": null}',
        b'{"type": 5, "id": [], "from": {"id": 1}}',
    ],
)
def test_malformed_activities_get_a_clear_400(teams: TeamsBot, body: bytes) -> None:
    headers = {
        "Authorization": f"Bearer {teams.cloud.sign()}",
        "Content-Type": "application/json",
    }
    response = teams.bot.http.post(f"{teams.bot.url}/api/messages", content=body, headers=headers)
    assert response.status_code == 400


def test_a_huge_body_is_refused(teams: TeamsBot) -> None:
    response = teams.bot.http.post(
        f"{teams.bot.url}/api/messages",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"Authorization": f"Bearer {teams.cloud.sign()}"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "value",
    [
        {"action": {"type": "Action.Execute", "verb": "x", "data": {}}},
        {"action": {"type": "Action.Execute", "verb": "x", "data": {"action": "dance"}}},
        {
            "action": {
                "type": "Action.Execute",
                "data": {"action": ids.STAGE_NEXT, "value": "99999", "checkin": "abc"},
            }
        },
        {"action": {"type": "Action.Execute", "data": {"action": ids.MEETING_ACCEPT, "value": []}}},
        {"action": {"type": "Action.Execute", "data": {"action": ids.FORGET_CONFIRM}}},
    ],
)
def test_unknown_or_stale_card_actions_answer_calmly(teams: TeamsBot, value: Any) -> None:
    invoke = teams.activity(ALEX, "invoke", name="adaptiveCard/action", value=value)
    response = teams.post(invoke)
    assert response.status_code == 200
    answer = response.json()
    assert answer["statusCode"] == 200
    text = answer["value"] if isinstance(answer["value"], str) else str(answer["value"])
    assert "expired" in text or "nothing to forget" in text.lower() or "erased" in text


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("task/fetch", None),
        ("task/fetch", {"opener": "no_such_button"}),
        ("task/fetch", {"opener": ids.MEETING_PREPARE}),
        ("task/fetch", {"opener": ids.MEETING_TO_GOALS, "value": 7}),
        ("task/fetch", {"opener": ids.NUDGE_HELP, "value": "1"}),
        ("task/submit", {"action": "no_such_form"}),
        ("task/submit", {"action": ids.GOALS_FORM, "what_1": ["a"], "by_when_1": "31-02-2026"}),
        ("task/submit", {"action": ids.MEETING_FORM, "person": "<script>"}),
        ("task/submit", {"action": ids.PROGRESS_NOTE_FORM, "checkin": True, "note": "x"}),
        ("task/submit", {"action": ids.FEEDBACK_FORM, "decider": {"id": 1}}),
    ],
)
def test_dialogs_with_odd_data_answer_with_a_message_or_the_form(
    teams: TeamsBot, name: str, data: Any
) -> None:
    invoke = teams.activity(ALEX, "invoke", name=name, value={"data": data})
    response = teams.post(invoke)
    assert response.status_code == 200
    assert response.json()["task"]["type"] in ("message", "continue")


def test_a_channel_message_is_not_answered(teams: TeamsBot) -> None:
    message = teams.activity(ALEX, "message", text="notpromoted")
    message["conversation"] = {"id": "19:channel", "conversationType": "channel", "isGroup": True}
    assert teams.post(message).status_code == 200
    teams.settle()
    assert teams.cloud.sent == []


def test_the_unauthenticated_switch_accepts_unsigned_activities_and_says_so(
    start_teams: TeamsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING")
    teams = start_teams(teams_allow_unauthenticated=True)
    assert "WITHOUT" in caplog.text
    message = teams.activity(ALEX, "message", text="notpromoted")
    assert teams.post(message, token=None).status_code == 200
    teams.settle()
    assert len(teams.cards(ALEX, 2)) == 2


def test_deeply_nested_json_gets_a_400_not_a_500(teams: TeamsBot) -> None:
    headers = {"Authorization": f"Bearer {teams.cloud.sign()}"}
    for body in (b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000):
        response = teams.bot.http.post(
            f"{teams.bot.url}/api/messages", content=body, headers=headers
        )
        assert response.status_code == 400


@pytest.mark.parametrize("zone", ["Europe", "America", "x" * 5000, "../../etc/passwd", ""])
def test_an_unusable_time_zone_falls_back_to_the_default(teams: TeamsBot, zone: str) -> None:
    teams.zones[ALEX] = zone
    assert teams.say(ALEX, "notpromoted").status_code == 200
    assert len(teams.cards(ALEX, 2)) == 2
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(TeamsConversation)).one().time_zone is None
        assert session.exec(select(Person)).one().time_zone is None

"""JSON log lines, request ids, and a whole journey's logs searched for what must not be there."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.core import ids, logs
from bot.core.db import make_engine
from bot.demo import slack_requests
from bot.demo.slack_standin_records import Failure
from scheduler import runner
from tests.bot.teams.fakes import CLIENT_ID
from tests.bot.teams.fakes import Failure as TeamsFailure
from tests.bot.teams.harness import TeamsFactory
from tests.conftest import TEAM, BotFactory, RunningBot

USER = "U0LOGS"
TYPED_GOAL = "Quietly-typed goal 7f3a"
TYPED_STEP = "First step only I know 91c2"
TYPED_COMMAND = "words I typed by mistake 4d1e"


def _record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("notpromoted.test", logging.INFO, __file__, 1, message, args, exc_info)


def test_json_lines_have_the_fields_and_the_request_id_when_there_is_one() -> None:
    formatter = logs.JsonFormatter()
    outside = json.loads(formatter.format(_record("sent %s check-in(s)", 3)))
    assert set(outside) == {"timestamp", "level", "logger", "message"}
    assert outside["message"] == "sent 3 check-in(s)" and outside["level"] == "INFO"
    assert outside["timestamp"].endswith("+00:00")
    token = logs.request_id.set("req-0123456789")
    try:
        inside = json.loads(formatter.format(_record("failed", exc=True)))
    finally:
        logs.request_id.reset(token)
    assert inside["request_id"] == "req-0123456789"
    assert "ValueError: boom" in inside["exception"]
    assert "\n" not in formatter.format(_record("one\nline", exc=True))


def test_text_lines_carry_the_request_id_too() -> None:
    token = logs.request_id.set("sweep-abc")
    try:
        line = logs.TextFormatter().format(_record("hello"))
    finally:
        logs.request_id.reset(token)
    assert line.endswith("hello [sweep-abc]")


def test_an_incoming_request_id_is_kept_only_when_it_is_a_plain_token() -> None:
    assert logs.accepted_request_id("abc-123_456.789:x") == "abc-123_456.789:x"
    for bad in (None, "", "short", "a b c d e f g h", "x" * 65, 'inject"}\n{"level":"ERROR'):
        made = logs.accepted_request_id(bad)
        assert made != bad and len(made) == 32


def test_lines_keep_a_urls_host_but_not_its_path() -> None:
    """httpx names the URL it called in its errors; a Teams conversation's URL names the person."""
    try:
        raise RuntimeError(
            "Server error '500' for url 'https://smba.example/v3/conversations/a:29-x/activities?q=1'"
        )
    except RuntimeError:
        record = _record("posting to https://smba.example/teams/v3/x failed")
        record.exc_info = sys.exc_info()
    for line in (logs.JsonFormatter().format(record), logs.TextFormatter().format(record)):
        assert "a:29-x" not in line and "/teams/v3/x" not in line
        assert "https://smba.example/" in line


def test_sql_errors_do_not_carry_what_was_typed_into_the_logs() -> None:
    engine = make_engine("sqlite://")
    with pytest.raises(SQLAlchemyError) as raised, engine.connect() as connection:
        connection.execute(text("INSERT INTO nowhere VALUES (:typed)"), {"typed": TYPED_GOAL})
    assert TYPED_GOAL not in str(raised.value)
    engine.dispose()


def _submit_goals(bot: RunningBot, view: dict[str, Any]) -> None:
    values: dict[str, dict[str, Any]] = {
        "what_1": {"type": "plain_text_input", "value": TYPED_GOAL},
        "first_step_1": {"type": "plain_text_input", "value": TYPED_STEP},
        "by_when_1": {"type": "datepicker", "selected_date": None},
    }
    body, kind = slack_requests.view_submission(
        user_id=USER, team_id=TEAM, view=view, values=values
    )
    assert bot.post(body, kind).status_code == 200


def test_a_journey_logs_no_typed_text_no_message_bodies_and_no_tokens(
    start_bot: BotFactory, captured: io.StringIO
) -> None:
    bot = start_bot()
    # The first post fails: the retry is logged by work that runs after the command's ack.
    bot.standin.fail_next("chat.postMessage", Failure(status=500, error="internal_error"))
    started = bot.command(USER)
    bot.standin.wait_for_calls("chat.postMessage", 1)
    bot.settle()
    bot.clock.move_to(bot.clock.now + timedelta(minutes=5))
    sweep = asyncio.run_coroutine_threadsafe(runner._sweep(bot.runtime.dispatcher), bot.loop)
    sweep.result(timeout=20)
    [first] = bot.dms(USER, 1)
    bot.click(USER, first, ids.STAGE_NEXT)
    bot.dms(USER, 2)
    bot.command(USER, TYPED_COMMAND)
    bot.command(USER, "goals")
    [opened] = bot.standin.wait_for_calls("views.open", 1)
    view = opened.args["view"]
    _submit_goals(bot, json.loads(view) if isinstance(view, str) else view)
    bot.settle()
    bot.sweep()
    bot.command(USER, "export")
    bot.standin.wait_for_calls("files.completeUploadExternal", 1)
    bot.settle()

    lines = captured.getvalue().splitlines()
    # Our own lines at least: the retry and the sweep (checked below); libraries are quiet.
    assert len(lines) >= 3, "the journey should have logged something"
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    everything = captured.getvalue()
    for secret in (TYPED_GOAL, TYPED_STEP, TYPED_COMMAND, "xox", USER):
        assert secret not in everything, [line for line in lines if secret in line]
    # Nor any text the bot sent: a stage's title and the export's comment.
    assert "Everything I keep about you" not in everything
    assert first.text not in everything
    # Lines logged while serving a request carry its id.
    # A line logged after the ack carries the id of the request it belongs to; a sweep's
    # lines carry the sweep's own.
    retry = [r for r in records if "retry at" in r["message"]]
    assert [r.get("request_id") for r in retry] == [started.headers["x-request-id"]]
    swept = [r for r in records if r["message"].startswith("dispatch sweep sent")]
    assert swept and swept[0]["request_id"].startswith("sweep-")


TEAMS_USER = "0a1b2c3d-0000-4000-8000-0000000be1ea"
TEAMS_NAME = "Quilla Vantreight"
TEAMS_TYPED = "something only Quilla typed 6e0b"
TEAMS_NOTE = "a private note about my manager 2d8f"


def test_a_teams_journey_logs_no_typed_text_notes_names_or_ids(
    start_teams: TeamsFactory, captured: io.StringIO
) -> None:
    teams = start_teams()

    def post(kind: str, **fields: Any) -> None:
        activity = teams.activity(TEAMS_USER, kind, **fields)
        activity["from"]["name"] = TEAMS_NAME
        assert teams.post(activity).status_code == 200
        teams.settle()

    post("conversationUpdate", membersAdded=[{"id": f"28:{CLIENT_ID}"}])
    post("message", text="notpromoted", textFormat="plain")
    teams.cards(TEAMS_USER, 3)
    # An answer that Teams refuses: the failure is logged, with what it may say.
    teams.cloud.fail_next(TeamsFailure(status=500))
    post("message", text=TEAMS_TYPED, textFormat="plain")
    post("message", text=f"help {TEAMS_TYPED}", textFormat="plain")
    saved = teams.submit(TEAMS_USER, {"action": ids.NOTES_FORM, "keep": TEAMS_NOTE})
    assert saved.status_code == 200
    # An activity the SDK cannot read: its error would quote what it could not read.
    odd = teams.activity(TEAMS_USER, "message", text=TEAMS_TYPED, attachments=TEAMS_NOTE)
    odd["from"] = {"id": 7, "name": TEAMS_NAME, "aadObjectId": TEAMS_USER}
    assert teams.post(odd).status_code == 400
    teams.settle()

    everything = captured.getvalue()
    assert "dispatch" in everything or "Teams" in everything, "nothing was captured"
    for secret in (TEAMS_USER, TEAMS_NAME, TEAMS_TYPED, TEAMS_NOTE, "Quilla", "be1ea"):
        assert secret not in everything, [
            line for line in everything.splitlines() if secret in line
        ]
    assert teams.cloud.tokens and not any(token in everything for token in teams.cloud.tokens)

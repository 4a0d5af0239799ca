"""`serve`, `worker` and the operator commands in a deployment that serves Teams alone, and
what they say when no platform is configured (issue 18). Real processes, as an operator runs
them, against the fake Teams cloud on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from bot.app.cli import main
from bot.core import ids
from bot.core.db import make_engine
from bot.core.models import Checkin, CheckinStatus
from tests.bot.app.test_cli import SLACK_VARIABLES, _free_port, clean_env
from tests.bot.teams.fakes import CLIENT_ID, CLIENT_SECRET, TENANT, TeamsCloud
from tests.bot.teams.harness import ALEX, TeamsFactory, activity, card_text, conversation

__all__ = ["clean_env"]  # the fixture, used here by name


def _teams_only_env(cloud: TeamsCloud, database: str) -> dict[str, str]:
    """The environment of a Teams-only company: no SLACK_* variable at all."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SLACK_VARIABLES and not k.startswith(("SLACK_", "TEAMS_", "NOTPROMOTED_"))
    }
    env.update(
        TEAMS_CLIENT_ID=CLIENT_ID,
        TEAMS_CLIENT_SECRET=CLIENT_SECRET,
        TEAMS_TENANT_ID=TENANT,
        TEAMS_SERVICE_URL=cloud.service_url,
        TEAMS_LOGIN_URL=cloud.login_url,
        TEAMS_OPENID_METADATA_URL=cloud.openid_url,
        TEAMS_SERVICE_URL_HOSTS=cloud.connector_host,
        # MSAL trusts the fake login service's certificate.
        REQUESTS_CA_BUNDLE=cloud.ca_file,
        NOTPROMOTED_SECRET_KEY="teams-only-secret-key",
        NOTPROMOTED_WORKING_HOURS="00:00-24:00",
        NOTPROMOTED_WORKING_DAYS="mon-sun",
        DATABASE_URL=database,
    )
    return env


@pytest.mark.parametrize("command", [["serve"], ["serve", "--no-dispatcher"], ["worker"]])
def test_with_neither_slack_nor_teams_serve_and_worker_stop_with_one_line(
    clean_env: Path, command: list[str]
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES}
    env = {k: v for k, v in env.items() if not k.startswith(("SLACK_", "TEAMS_", "NOTPROMOTED_"))}
    env["NOTPROMOTED_SECRET_KEY"] = "neither-secret-key"
    result = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *command],
        cwd=clean_env,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1 and "Traceback" not in error, error
    assert error.startswith("notpromoted: neither Slack nor Teams is configured")
    for name in ("SLACK_BOT_TOKEN", "TEAMS_CLIENT_ID", "TEAMS_CLIENT_SECRET", "TEAMS_TENANT_ID"):
        assert name in error
    assert result.stdout == ""


def test_half_a_slack_configuration_beside_teams_stops_serve_naming_the_missing_setting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEAMS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TEAMS_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("TEAMS_TENANT_ID", TENANT)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    assert main(["serve"]) == 2
    error = capsys.readouterr().err.strip()
    assert "SLACK_BOT_TOKEN is not set" in error and len(error.splitlines()) == 1


def _wait_until_healthy(base: str, process: subprocess.Popen[str]) -> None:
    for _ in range(400):
        assert process.poll() is None, "the server stopped"
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


def test_serve_with_teams_settings_alone_serves_teams_and_nothing_of_slack(
    clean_env: Path, cloud: TeamsCloud
) -> None:
    port = _free_port()
    env = _teams_only_env(cloud, f"sqlite:///{clean_env / 'teams.db'}")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=clean_env,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, process)
        assert httpx.get(f"{base}/readyz").json() == {"ready": True}
        for method, path in (
            ("POST", "/slack/events"),
            ("GET", "/slack/install"),
            ("GET", "/slack/oauth_redirect"),
        ):
            assert httpx.request(method, f"{base}{path}").status_code == 404
        signed = {"Authorization": f"Bearer {cloud.sign()}"}
        start = activity(cloud, ALEX, "message", "Europe/Berlin", text="start")
        assert httpx.post(f"{base}/api/messages", json=start, headers=signed).status_code == 200
        # The first step goes out from the sending process beside the web process.
        assert cloud.wait_for(lambda: len(cloud.to(conversation(ALEX))) >= 2, 20)
        cards = [card_text(sent.card) for sent in cloud.to(conversation(ALEX))]
        assert any("Step 1 of 10" in text for text in cards)
        unsigned = httpx.post(f"{base}/api/messages", json=start)
        assert unsigned.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output
    started = [json.loads(line) for line in output.splitlines() if '"serving ' in line]
    assert [line["message"].split(" on ")[0] for line in started] == ["serving Teams"]
    assert CLIENT_SECRET not in output


def test_a_worker_with_teams_settings_alone_sends_teams_check_ins(
    clean_env: Path, cloud: TeamsCloud, start_teams: TeamsFactory
) -> None:
    database = f"sqlite:///{clean_env / 'worker.db'}"
    teams = start_teams(engine=make_engine(database))  # the web side, to start a journey
    teams.say(ALEX, "start")
    teams.cards(ALEX, 2)
    with Session(teams.runtime.engine) as session:  # the nudge falls due now
        query = select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_FEEDBACK_NUDGE)
        nudge = session.exec(query).one()
        nudge.due_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(nudge)
        session.commit()
        nudge_id = nudge.id

    def nudge_sent() -> bool:
        with Session(teams.runtime.engine) as session:
            row = session.get(Checkin, nudge_id)
            return row is not None and row.status == CheckinStatus.SENT

    process = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "worker"],
        cwd=clean_env,
        env=_teams_only_env(cloud, database),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert cloud.wait_for(nudge_sent, 30), "the worker did not send the check-in"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    # Every check-in planned since (days ago on the real clock) went out; the nudge among them.
    cards = [card_text(sent.card) for sent in cloud.to(conversation(ALEX))[2:]]
    assert any("Have you asked for feedback yet?" in text for text in cards)


def test_operator_commands_mean_teams_in_a_teams_only_deployment(
    clean_env: Path,
    cloud: TeamsCloud,
    start_teams: TeamsFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = f"sqlite:///{clean_env / 'operator.db'}"
    teams = start_teams(engine=make_engine(database))
    teams.say(ALEX, "start")
    teams.cards(ALEX, 2)
    for name, value in _teams_only_env(cloud, database).items():
        if name.startswith(("TEAMS_", "NOTPROMOTED_", "DATABASE_URL")):
            monkeypatch.setenv(name, value)
    # Without --platform: the person is found among Teams' people.
    assert main(["export", "--user", ALEX, "--operator", "hr"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["journeys"]
    assert main(["workspace-hours", TENANT]) == 0
    assert capsys.readouterr().out.startswith(f"teams {TENANT}: ")
    assert main(["report", "--json"]) == 0
    assert main(["checkins", "list", "--user", ALEX]) == 0
    assert "pending" in capsys.readouterr().out.splitlines()[-1]
    assert main(["audit"]) == 0
    assert main(["content", "check"]) == 0
    assert main(["db", "upgrade"]) == 0
    package = clean_env / "teams.zip"
    url = "https://bot.example.com"
    assert main(["teams-package", "--url", url, "--out", str(package)]) == 0
    assert package.exists()
    assert main(["erase", "--user", ALEX, "--operator", "hr", "--yes"]) == 0
    assert "teams user" in capsys.readouterr().out

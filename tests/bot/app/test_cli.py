"""The `notpromoted` command as a person runs it: demo, serve, manifest, db, content, bad config."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.app.cli import main
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.models import Person
from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from messages.loader import PACKAGED_CONTENT, load_content
from tests.conftest import postgres_url
from tests.scheduler.seeding import seed_checkins

SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_REDIRECT_URI",
    "SLACK_AUTHORIZE_URL",
    "DATABASE_URL",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working folder and none of the bot's variables: a newcomer's shell."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if (
            name in SLACK_VARIABLES
            or name.startswith(("NOTPROMOTED_", "TEAMS_"))
            or name in ("PORT", "LOG_LEVEL")
        ):
            monkeypatch.delenv(name)
    return tmp_path


def test_manifest_prints_json_for_http_and_socket_mode(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["manifest", "--url", "https://bot.example.com"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert (
        manifest["features"]["slash_commands"][0]["url"] == "https://bot.example.com/slack/events"
    )
    assert main(["manifest"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["socket_mode_enabled"] is True


def test_teams_package_writes_the_zip_for_upload(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["teams-package", "--url", "https://bot.example.com"]) == 2
    assert "TEAMS_CLIENT_ID" in capsys.readouterr().err
    app_id = "11111111-2222-3333-4444-555555555555"
    monkeypatch.setenv("TEAMS_CLIENT_ID", app_id)
    monkeypatch.setenv("TEAMS_CLIENT_SECRET", "secret")
    monkeypatch.setenv("TEAMS_TENANT_ID", app_id)
    assert main(["teams-package", "--url", "http://bot.example.com"]) == 2
    out = clean_env / "app.zip"
    assert main(["teams-package", "--url", "https://bot.example.com", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as package:
        assert json.loads(package.read("manifest.json"))["bots"][0]["botId"] == app_id


def test_manifest_url_must_be_https(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--url", "http://bot.example.com"]) == 2
    assert "https://" in capsys.readouterr().err


def test_dotenv_is_read_and_the_environment_wins(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (clean_env / ".env").write_text("NOTPROMOTED_DISPLAY_NAME=Compass\nLOG_LEVEL=WARNING\n")
    assert main(["manifest"]) == 0
    assert json.loads(capsys.readouterr().out)["display_information"]["name"] == "Compass"
    monkeypatch.setenv("NOTPROMOTED_DISPLAY_NAME", "Harbour")
    assert main(["manifest"]) == 0
    assert json.loads(capsys.readouterr().out)["display_information"]["name"] == "Harbour"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_SIGNING_SECRET": "s",
                "NOTPROMOTED_WORKING_HOURS": "9 to 5",
            },
            "NOTPROMOTED_WORKING_HOURS",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": "mysql://x"},
            "DATABASE_URL",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "NOTPROMOTED_SECRET_KEY"),
        # Several workspaces (OAuth): the id and secret go together, and need the key.
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"},
            "NOTPROMOTED_ENCRYPTION_KEY",
        ),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "c",
                "SLACK_SIGNING_SECRET": "s",
                "NOTPROMOTED_ENCRYPTION_KEY": "not-a-fernet-key",
            },
            "NOTPROMOTED_ENCRYPTION_KEY",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "c",
                "SLACK_SIGNING_SECRET": "s",
            },
            "SLACK_CLIENT_ID",
        ),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "c",
                "SLACK_SIGNING_SECRET": "s",
                "SLACK_REDIRECT_URI": "https://bot.example.com/elsewhere",
            },
            "SLACK_REDIRECT_URI",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_SIGNING_SECRET": "s",
                "NOTPROMOTED_SECRET_KEY": "too-short",
            },
            "NOTPROMOTED_SECRET_KEY",
        ),
    ],
)
def test_serve_with_missing_or_bad_settings_stops_with_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    named: str,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("notpromoted: ") and named in error
    assert len(error.splitlines()) == 1 and "Traceback" not in error


def test_socket_needs_the_app_token(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["socket"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err


def test_db_upgrade_and_content_check(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{clean_env / 'bot.db'}")
    assert main(["db", "upgrade"]) == 0
    assert (clean_env / "bot.db").exists()
    assert main(["content", "check"]) == 0
    assert "10 stages" in capsys.readouterr().out
    broken = clean_env / "broken"
    (broken / "en" / "stages").mkdir(parents=True)
    (broken / "journey.toml").write_text('stages = ["pause"]\n')
    (broken / "en" / "ui.toml").write_text('notification = "x"\n')
    assert main(["content", "check", "--dir", str(broken)]) == 1
    error = capsys.readouterr().err
    assert "ui.toml" in error and "'" in error


def test_demo_plays_the_whole_journey_without_any_configuration(clean_env: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES}
    env["DATABASE_URL"] = f"sqlite:///{clean_env / 'must-not-be-used.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "demo"],
        cwd=clean_env,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step in range(1, 11):
        assert f"Step {step} of 10" in out
    assert "I'll bring this step back tomorrow at 09:00" in out
    assert "You've been through every step" in out
    assert "/notpromoted status" in out and "What I can do" in out
    # The manager flow: Sam is invited, prepares the meeting, Alex accepts, both follow up.
    assert "@Alex has invited you to prepare a feedback meeting" in out
    assert "@Sam has prepared a feedback meeting" in out
    assert "Your feedback meeting was accepted" in out
    assert out.count("After the feedback meeting") == 2
    # Messages due in the same minute print in the order they are due, on every run.
    follow_ups = [
        out.index("You planned to follow up with @Alex"),
        out.index("You and @Sam planned to follow up"),
        out.rindex("How are your goals going?"),
    ]
    assert follow_ups == sorted(follow_ups)
    assert "Traceback" not in out + result.stderr
    assert not (clean_env / "must-not-be-used.db").exists()
    assert list(clean_env.iterdir()) == []


def _demo_in_a_fresh_shell(
    folder: Path, *flags: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES}
    env = {k: v for k, v in env.items() if not k.startswith("TEAMS_")}
    env["DATABASE_URL"] = f"sqlite:///{folder / 'must-not-be-used.db'}"
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "demo", *flags],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _reached(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a socket of this process connects to, and every name it looks up, from
    now on (whatever library opens it)."""
    reached: list[str] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def recorded_connect(self: socket.socket, address: Any) -> None:
        reached.append(str(address[0]) if isinstance(address, tuple) else str(address))
        connect(self, address)

    def recorded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        reached.append(str(host))
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", recorded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", recorded_lookup)
    return reached


def test_teams_demo_plays_the_story_in_teams_words_on_loopback(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reached = _reached(monkeypatch)
    before = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE", "NO_PROXY")}
    assert main(["demo", "--teams"]) == 0
    out = capsys.readouterr().out
    monkeypatch.undo()
    # Nothing left this machine: every connection and look-up was for loopback.
    assert reached and set(reached) <= {"127.0.0.1", "localhost"}, set(reached)
    # The login service trusted, and proxies bypassed, only while it played.
    assert {name: os.environ.get(name) for name in before} == before

    for step in range(1, 11):
        assert f"Step {step} of 10" in out
    # Teams' words: a person writes to the bot; no slash command, no Home.
    for slack_only in ("/notpromoted", "App Home", "Home tab", "direct message"):
        assert slack_only not in out
    assert "Write one of these words to me here" in out
    # The story's steps, in order, through cards, their in-place answers and dialogs.
    steps = [
        "You add Next Step in Teams",
        "You write  start",
        "Step 1 of 10",
        "The message updates in place: ✓ I'll bring this step back tomorrow at 09:00.",
        "You write  status",
        "A quiet check-in about feedback",
        "A dialog opens: “Ask for feedback”",
        "Who made the decision? *",
        "A draft you can adapt and send yourself",
        "A dialog opens: “Your goals”",
        "A dialog opens: “Invite your manager”",
        "[ Send invitation ]",
        "The dialog closes and says: “Invitation saved.",
        "[ Withdraw ]",
        "Sam, your manager, gets a message in their chat",
        "Alex has invited you to prepare a feedback meeting",
        "Sam presses  [ Prepare the meeting ]",
        "Sam's dialog opens: “Feedback meeting”",
        "Sam has prepared a feedback meeting",
        "The message updates in place: ✓ Accepted.",
        "Your feedback meeting was accepted",
        "Step 10 of 10",
        "You've been through every step",
        "After the feedback meeting",
        "You planned to follow up with Alex",
        "You and Sam planned to follow up",
        "Looking back",
        "You write  help",
        "That was the whole journey.",
    ]
    where = [out.find(step) for step in steps]
    assert -1 not in where, [s for s, at in zip(steps, where, strict=True) if at == -1]
    assert where == sorted(where)
    assert out.count("After the feedback meeting") == 2
    assert "Traceback" not in out

    # Played again in a newcomer's shell, with no configuration: the same, byte for byte; a
    # proxy the shell names (here one nobody listens at) is not used for loopback.
    nobody = "http://127.0.0.1:9"
    again = _demo_in_a_fresh_shell(
        clean_env, "--teams", HTTP_PROXY=nobody, HTTPS_PROXY=nobody, ALL_PROXY=nobody
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == out
    assert again.stderr == ""
    assert list(clean_env.iterdir()) == []


def test_the_demo_plays_in_german_with_german_words_and_narration(clean_env: Path) -> None:
    result = _demo_in_a_fresh_shell(clean_env, "--locale", "de")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    german = load_content().for_locale("de", "slack")
    english = load_content().for_locale("en", "slack")
    for step in range(1, 11):
        assert german.text("step_note", number=step, total=10) in out
    for stage in german.stages.values():
        assert stage.title in out
    for stage in english.stages.values():
        assert stage.title not in out
    assert german.text("ack_started") in out  # even the answer to the very first command
    assert "Du tippst  /notpromoted" in out and "[Montag, " in out
    assert "/notpromoted hilfe" in out and german.text("help_title") in out
    assert "[Mittwoch, " in out and " Uhr" in out  # dates and times as German writes them
    assert "Traceback" not in out + result.stderr


def test_the_teams_demo_plays_in_french(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--teams", "--locale", "fr"]) == 0
    out = capsys.readouterr().out
    french = load_content().for_locale("fr", "teams")
    for step in range(1, 11):
        assert french.text("step_note", number=step, total=10) in out
    assert "Vous écrivez  commencer" in out and "Vous écrivez  aide" in out
    assert french.text("help_title") in out
    assert "Step 1 of 10" not in out
    # Teams' own words in an empty people picker, as the French client shows them.
    assert "[ Rechercher une personne ]" in out and "Search for a person" not in out


def test_the_demo_plays_the_content_the_deployment_edited(clean_env: Path) -> None:
    edited = clean_env / "our-messages"
    shutil.copytree(PACKAGED_CONTENT, edited, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    stage = edited / "es" / "stages" / "pause.toml"
    title = load_content().for_locale("es", "slack").stages["pause"].title
    stage.write_text(
        stage.read_text(encoding="utf-8").replace(title, "Respira antes de contestar"),
        encoding="utf-8",
    )
    result = _demo_in_a_fresh_shell(
        clean_env, "--locale", "es", NOTPROMOTED_CONTENT_DIR=str(edited)
    )
    assert result.returncode == 0, result.stderr
    assert "Respira antes de contestar" in result.stdout
    assert title not in result.stdout


def test_the_demo_names_the_languages_it_can_play(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--locale", "ja"]) == 2
    error = capsys.readouterr().err
    assert "'ja'" in error and "de, en, es, fr" in error
    assert main(["demo", "--locale", "not a tag at all"]) == 2
    assert "language tag" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_a_signed_command_and_stops_on_sigterm(
    clean_env: Path, standin: SlackStandIn
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES}
    env.update(
        SLACK_BOT_TOKEN="xoxb-serve-test",
        SLACK_SIGNING_SECRET="serve-secret",
        NOTPROMOTED_SECRET_KEY="serve-test-secret-key",
        SLACK_API_URL=standin.api_url,
        DATABASE_URL=f"sqlite:///{clean_env / 'serve.db'}",
    )
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
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        body, kind = slack_requests.slash_command(
            user_id="U0CLI", team_id="T0TEST", response_url=standin.response_url()
        )
        response = httpx.post(
            f"{base}/slack/events",
            content=body,
            headers=slack_requests.signed_headers("serve-secret", body, content_type=kind),
        )
        assert response.status_code == 200 and "direct message" in response.json()["text"]
        assert standin.wait_for(lambda: len(standin.dms_to("U0CLI")) == 1, 10)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    # uvicorn finishes its graceful shutdown, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert "xoxb-serve-test" not in output


def test_a_worker_serves_what_it_counts_for_prometheus(
    clean_env: Path, standin: SlackStandIn
) -> None:
    """Check-ins a worker sends show on its own /metrics (web replicas never see them)."""
    database = f"sqlite:///{clean_env / 'worker.db'}"
    engine = make_engine(database)
    upgrade(engine)
    now = datetime.now(UTC)
    seeded = seed_checkins(engine, 2, due_at=now - timedelta(minutes=1), now=now)
    engine.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES}
    env.update(
        SLACK_BOT_TOKEN="xoxb-worker-test",
        SLACK_SIGNING_SECRET="worker-secret",
        NOTPROMOTED_SECRET_KEY="worker-test-secret-key",
        SLACK_API_URL=standin.api_url,
        DATABASE_URL=database,
        NOTPROMOTED_WORKING_HOURS="00:00-24:00",
        NOTPROMOTED_WORKING_DAYS="mon-sun",
    )
    command = [sys.executable, "-m", "bot.app.cli", "worker", "--metrics-port", str(port)]
    process = subprocess.Popen(
        command, cwd=clean_env, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert standin.wait_for(lambda: all(standin.dms_to(row.user_id) for row in seeded), 20), (
            "the worker sent nothing"
        )
        page = ""
        for _ in range(100):
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if 'notpromoted_checkins_total{kind="stage",outcome="sent"} 2.0' in page:
                break
            time.sleep(0.1)
        assert 'notpromoted_checkins_total{kind="stage",outcome="sent"} 2.0' in page, page
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output


def test_operator_commands_work_on_a_database_never_used_before(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit"]) == 0
    assert "0 rows" in capsys.readouterr().out
    assert main(["checkins", "list"]) == 0
    assert "0 pending" in capsys.readouterr().out


@pytest.fixture
def server_url() -> str:
    """Read before clean_env empties the environment."""
    return postgres_url()


@pytest.mark.postgres
def test_operator_commands_on_an_unmigrated_postgres_say_what_to_run(
    server_url: str,
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = server_url
    engine = make_engine(url)
    schema = f"unmigrated_{os.getpid()}"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        monkeypatch.setenv("DATABASE_URL", f"{url}?options=-csearch_path%3D{schema}")
        assert main(["audit"]) == 2
        assert "notpromoted db upgrade" in capsys.readouterr().err
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def test_checkins_list_shows_each_persons_whole_time_zone(
    clean_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{clean_env / 'list.db'}"
    monkeypatch.setenv("DATABASE_URL", database)
    engine = make_engine(database)
    upgrade(engine)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    [far, near] = seed_checkins(engine, 2, due_at=now, now=now)
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.user_id == far.user_id)).one()
        person.time_zone = "America/Argentina/Buenos_Aires"
        session.add(person)
        session.commit()
    engine.dispose()

    assert main(["checkins", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    [argentina] = [line for line in lines if far.user_id in line]
    [utc] = [line for line in lines if near.user_id in line]
    assert "Mon 07 Dec 09:00 America/Argentina/Buenos_Aires" in argentina
    assert "Mon 07 Dec 12:00 UTC" in utc
    # The columns after the zone line up, whatever its length.
    assert argentina.index(far.user_id) == utc.index(near.user_id) == lines[0].index("user")
    assert lines[-1] == "2 pending"


def test_a_demo_that_stalls_stops_with_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.demo import teams_player
    from bot.demo.story import DemoStopped

    def stalled(out: Any, *_: Any) -> None:
        raise DemoStopped("the bot did not answer in the chat, Monday 07 December, 10:00")

    monkeypatch.setattr(teams_player, "run_teams_demo", stalled)
    assert main(["demo", "--teams"]) == 1
    error = capsys.readouterr().err
    assert error == (
        "notpromoted demo: it stopped: the bot did not answer in the chat, "
        "Monday 07 December, 10:00\n"
    )

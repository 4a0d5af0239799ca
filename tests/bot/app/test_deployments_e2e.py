"""A deployment serves Slack, Teams, or both (issue 18): each platform's paths answer only
where it is served, health and readiness answer in each, one sweep sends to both, and a row
for a platform the deployment no longer serves waits, unharmed, for one that does."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.core import ids
from bot.core.clock import ManualClock
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.models import Checkin, CheckinStatus
from bot.demo import slack_requests
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH
from tests.bot.teams.harness import ALEX, TeamsFactory, card_text
from tests.conftest import MONDAY, SECRET, TEAM, BotFactory
from tests.scheduler.seeding import seed_checkins

SLACK_USER = "U0SLACK"


def test_a_teams_only_deployment_has_nothing_of_slack(start_teams: TeamsFactory) -> None:
    teams = start_teams()  # no Slack setting at all
    assert teams.runtime.slack is None
    assert not teams.runtime.services.settings.slack_enabled
    http, url = teams.bot.http, teams.bot.url
    body, kind = slack_requests.slash_command(
        user_id=SLACK_USER, team_id=TEAM, response_url=f"{teams.cloud.service_url}hook"
    )
    signed = slack_requests.signed_headers(SECRET, body, content_type=kind)
    slack_events = http.post(f"{url}/slack/events", content=body, headers=signed)
    assert (slack_events.status_code, slack_events.text) == (404, "Not Found")
    for path in (INSTALL_PATH, REDIRECT_PATH + "?code=c&state=s"):
        assert http.get(f"{url}{path}").status_code == 404
    assert http.get(f"{url}/healthz").json() == {"database": "ok"}
    assert http.get(f"{url}/readyz").json() == {"ready": True}
    # And Teams is served: the journey starts.
    assert teams.say(ALEX, "start").status_code == 200
    assert "Step 1 of 10" in card_text(teams.cards(ALEX, 2)[-1].card)


def test_a_slack_only_deployment_has_nothing_of_teams(start_bot: BotFactory) -> None:
    bot = start_bot()
    assert bot.runtime.teams is None and bot.runtime.teams_listeners is None
    assert not bot.runtime.services.settings.teams_enabled
    response = bot.http.post(f"{bot.url}/api/messages", json={"type": "message"})
    assert (response.status_code, response.text) == (404, "Not Found")
    assert bot.http.get(f"{bot.url}/healthz").json() == {"database": "ok"}
    assert bot.http.get(f"{bot.url}/readyz").json() == {"ready": True}
    assert bot.command(SLACK_USER).status_code == 200
    assert len(bot.dms(SLACK_USER, 1)) == 1


def _nudges(engine: Engine) -> list[Checkin]:
    with Session(engine) as session:
        query = select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_FEEDBACK_NUDGE)
        return list(session.exec(query.order_by(Checkin.id)))  # type: ignore[arg-type]


def test_one_sweep_sends_to_slack_and_to_teams_in_a_deployment_that_serves_both(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams(slack=True)
    bot = teams.bot
    assert bot.command(SLACK_USER).status_code == 200
    bot.dms(SLACK_USER, 1)
    teams.say(ALEX, "start")
    teams.cards(ALEX, 2)
    nudges = _nudges(teams.runtime.engine)
    assert len(nudges) == 2
    bot.clock.move_to(max(row.due_at for row in nudges))
    assert teams.sweep() == 2
    assert "Have you asked for feedback yet?" in card_text(teams.cards(ALEX, 3)[-1].card)
    assert len(bot.dms(SLACK_USER, 2)) == 2
    assert all(row.status == CheckinStatus.SENT for row in _nudges(teams.runtime.engine))


def test_a_slack_row_waits_in_a_teams_only_deployment_and_goes_out_once_slack_is_back(
    start_teams: TeamsFactory, start_bot: BotFactory, tmp_path: Path
) -> None:
    """A company that served Slack and now serves Teams alone (or briefly runs a process
    without its Slack settings) loses no Slack message, and its sweep goes on for Teams."""
    engine = make_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    upgrade(engine)
    [slack_row] = seed_checkins(engine, 1, due_at=MONDAY - timedelta(minutes=5), now=MONDAY)
    teams = start_teams(engine=engine, migrate=False)
    teams.say(ALEX, "start")
    teams.cards(ALEX, 2)
    assert teams.sweep() == 0  # the Slack row is due, and is not sent from here
    with Session(engine) as session:
        row = session.get(Checkin, slack_row.checkin_id)
        assert row is not None
        assert row.status == CheckinStatus.PENDING and row.attempts == 0
        assert row.due_at == MONDAY + timedelta(hours=1)
        assert row.last_error == "waiting: slack is not served"
    # Teams' own rows still go out from the same sweeps.
    [nudge] = _nudges(teams.runtime.engine)
    teams.bot.clock.move_to(nudge.due_at)
    assert teams.sweep() == 1
    assert len(teams.cards(ALEX, 3)) == 3

    # Slack is served again (a process with its settings, on the same database).
    later = ManualClock(nudge.due_at + timedelta(hours=2))  # past the row's next look
    slack = start_bot(engine=engine, migrate=False, clock=later)
    assert slack.sweep() == 1
    [dm] = slack.dms(slack_row.user_id, 1)
    assert dm.channel == slack_row.channel
    with Session(engine) as session:
        sent = session.get(Checkin, slack_row.checkin_id)
        assert sent is not None and sent.status == CheckinStatus.SENT


def test_a_slack_only_process_never_loads_the_teams_sdk() -> None:
    """What the deployment guide says: a Slack-only deployment does not even import it."""
    program = (
        "import sys\n"
        "from bot.app.runtime import build_runtime\n"
        "from bot.app.web import build_web_app\n"
        "from bot.core.config import Settings\n"
        "settings = Settings(slack_bot_token='xoxb-1', slack_signing_secret='s', "
        "database_url='sqlite://')\n"
        "build_web_app(build_runtime(settings))\n"
        "print(sorted(name for name in sys.modules if name.startswith('microsoft_teams')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"

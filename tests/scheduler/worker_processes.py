"""`notpromoted worker` processes against the test's PostgreSQL schema and the Slack stand-in,
for the tests that kill, freeze and restart them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, make_url, text

from bot.core.config_loading import load_settings
from bot.core.db import make_engine
from bot.demo.slack_standin import SlackStandIn
from tests.conftest import postgres_url

DEVELOPER_VARIABLES = ("SLACK_", "NOTPROMOTED_", "DATABASE_URL", "LOG_LEVEL", "PORT")
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0


@dataclass
class Workers:
    """Starts `notpromoted worker` processes, one at a time, and keeps their output."""

    env: dict[str, str]
    cwd: Path
    started: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)
    outputs: list[IO[bytes]] = field(default_factory=list)

    def start(self) -> subprocess.Popen[bytes]:
        log = self.cwd / f"worker-{len(self.started):02d}.log"
        output = log.open("wb")
        self.outputs.append(output)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.app.cli", "worker"],
            cwd=self.cwd,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        self.started.append((process, log))
        return process

    def output(self) -> str:
        for output in self.outputs:
            output.flush()
        return "\n".join(
            f"--- {log.name} (exit {process.returncode})\n{log.read_text(errors='replace')}"
            for process, log in self.started
        )

    def close(self) -> None:
        for process, _ in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        for output in self.outputs:
            output.close()


def workers_on(
    postgres_engine: Engine, standin: SlackStandIn, folder: Path, **variables: str
) -> Workers:
    """Workers that reach the test's schema (the driver gets `options`), with `variables`
    over the defaults a deployment has."""
    with postgres_engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    assert str(schema).startswith("t_"), schema
    database_url = (
        make_url(postgres_url())
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(DEVELOPER_VARIABLES)}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test",
        NOTPROMOTED_SECRET_KEY="crash-test-secret-key",
        SLACK_API_URL=standin.api_url,
        DATABASE_URL=database_url,
        NOTPROMOTED_WORKING_HOURS="00:00-24:00",
        NOTPROMOTED_WORKING_DAYS="mon-sun",
        LOG_LEVEL="WARNING",
    )
    env.update(variables)
    settings = load_settings(env)
    probe = make_engine(settings.database_url)
    try:
        with probe.connect() as connection:
            assert connection.execute(text("SELECT current_schema()")).scalar_one() == schema
    finally:
        probe.dispose()
    return Workers(env=env, cwd=folder)

"""`notpromoted serve` as a real process for the fault tests, and signed commands to it."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from tests.conftest import SECRET, TEAM
from tests.faults.cluster import free_port

DEVELOPER_VARIABLES = ("SLACK_", "NOTPROMOTED_", "DATABASE_URL", "LOG_LEVEL", "PORT")
START_TIMEOUT_SECONDS = 30.0


@dataclass
class Served:
    """One `notpromoted serve` process, its output in a file, and an HTTP client for it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    output: IO[bytes]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, user: str, text: str = "") -> tuple[httpx.Response, float]:
        """A signed /notpromoted; the answer and how long it took."""
        body, kind = slack_requests.slash_command(
            user_id=user, team_id=TEAM, text=text, response_url=f"{self.url}/nowhere"
        )
        headers = slack_requests.signed_headers(SECRET, body, content_type=kind)
        started = time.monotonic()
        response = self.http.post(f"{self.url}/slack/events", content=body, headers=headers)
        return response, time.monotonic() - started

    def health(self) -> int:
        return self.http.get(f"{self.url}/healthz").status_code

    def text(self) -> str:
        if not self.output.closed:
            self.output.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as a platform stops a process; uvicorn exits 0 or re-raises the signal."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.http.close()
        self.output.close()
        return self.process.returncode


def serve(standin: SlackStandIn, database_url: str, folder: Path, **variables: str) -> Served:
    """Start serve on a free loopback port, working hours all week, and wait until it answers."""
    return serve_with_open_files(standin, database_url, folder, None, **variables)


def serve_with_open_files(
    standin: SlackStandIn,
    database_url: str,
    folder: Path,
    open_files: tuple[int, int] | None,
    **variables: str,
) -> Served:
    """`serve`, under that (soft, hard) RLIMIT_NOFILE, as systemd's LimitNOFILE sets it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(DEVELOPER_VARIABLES)}
    env.update(
        SLACK_BOT_TOKEN="xoxb-fault-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=standin.api_url,
        NOTPROMOTED_SECRET_KEY="fault-test-secret-key",
        DATABASE_URL=database_url,
        NOTPROMOTED_WORKING_HOURS="00:00-24:00",
        NOTPROMOTED_WORKING_DAYS="mon-sun",
        LOG_LEVEL="WARNING",
        **variables,
    )
    log = folder / f"serve-{port}.log"
    output = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        preexec_fn=None if open_files is None else _limit_open_files(open_files),
    )
    served = Served(process=process, port=port, log=log, output=output)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        assert process.poll() is None, served.text()
        try:
            if served.health() == 200:
                return served
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"serve did not start: {served.text()}"
        time.sleep(0.1)


def _limit_open_files(limits: tuple[int, int]) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, limits)

    return limit

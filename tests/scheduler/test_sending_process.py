"""`serve` answers in one process and sends from a child: the wire between them, and the two
processes as a person runs them (a real `notpromoted serve` against the Slack stand-in)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.core.metrics import Metrics
from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from scheduler.sending_process import (
    apply_count_line,
    count_line,
    read_wake_line,
    wake_line,
)
from tests.conftest import SECRET, TEAM
from tests.faults import running
from tests.faults.cluster import free_port

SENT = 'notpromoted_checkins_total{kind="stage",outcome="sent"}'

# -- the wire -------------------------------------------------------------------------------


def test_a_wake_up_carries_the_row_and_the_response_url() -> None:
    assert read_wake_line(wake_line(42, "http://127.0.0.1:9/respond/x")) == (
        42,
        "http://127.0.0.1:9/respond/x",
    )
    assert read_wake_line(wake_line(7, None)) == (7, None)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json\n",
        b"[1, 2]\n",
        b'{"send": "42"}\n',
        b'{"send": true}\n',
        b'{"send": 0}\n',
        b'{"send": -3}\n',
        b'{"send": 5, "reply_to": 17}\n',
        b'{"count": "checkins"}\n',
    ],
)
def test_anything_else_on_the_wire_is_not_a_wake_up(line: bytes) -> None:
    assert read_wake_line(line) is None


def test_a_count_from_the_child_adds_to_the_web_process_metrics() -> None:
    metrics = Metrics()
    line = count_line("checkins", {"kind": "stage", "outcome": "sent"}, 1)
    assert apply_count_line(metrics, line)
    assert apply_count_line(metrics, line)
    assert apply_count_line(metrics, count_line("purged", {}, 3))
    page = metrics.exposition().decode()
    assert f"{SENT} 2.0" in page
    assert "notpromoted_retention_purged_journeys_total 3.0" in page


@pytest.mark.parametrize(
    "line",
    [
        b"garbage\n",
        count_line("commands", {"subcommand": "help"}, 1),  # the web process's own counter
        count_line("checkins", {"colour": "blue"}, 1),  # labels it does not have
        count_line("checkins", {"kind": "stage", "outcome": "sent"}, -1),
        b'{"count": "checkins", "labels": {"kind": 1, "outcome": "sent"}, "by": 1}\n',
        b'{"count": "purged", "labels": {}, "by": "many"}\n',
    ],
)
def test_a_line_that_is_not_a_count_changes_nothing(line: bytes) -> None:
    metrics = Metrics()
    before = metrics.exposition()
    assert not apply_count_line(metrics, line)
    assert metrics.exposition() == before


# -- the two processes ----------------------------------------------------------------------


@dataclass
class Beside:
    """A real `serve` (tests/faults/running.py) and the sending process it starts."""

    served: running.Served
    standin: SlackStandIn
    metrics_port: int

    def children(self) -> list[int]:
        pid = self.served.process.pid
        with open(f"/proc/{pid}/task/{pid}/children") as found:
            return [int(child) for child in found.read().split()]

    def one_child(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = self.children()
            if len(children) == 1:
                return children[0]
            time.sleep(0.05)
        raise AssertionError(f"serve has children {self.children()}")

    def command(self, user: str) -> httpx.Response:
        """A signed /notpromoted whose response URL the stand-in records."""
        body, kind = slack_requests.slash_command(
            user_id=user, team_id=TEAM, response_url=self.standin.response_url(user)
        )
        headers = slack_requests.signed_headers(SECRET, body, content_type=kind)
        return self.served.http.post(
            f"{self.served.url}/slack/events", content=body, headers=headers
        )

    def http_metrics(self) -> str:
        """The page on serve's own metrics listener (NOTPROMOTED_METRICS_PORT)."""
        return self.served.http.get(f"http://127.0.0.1:{self.metrics_port}/metrics").text

    def sent_count(self) -> float:
        for line in self.http_metrics().splitlines():
            if line.startswith(SENT):
                return float(line.split()[-1])
        return 0.0


@pytest.fixture
def served(tmp_path: Path, standin: SlackStandIn) -> Iterator[Beside]:
    metrics_port = free_port()
    started = running.serve(
        standin,
        f"sqlite:///{tmp_path / 'serve.db'}",
        tmp_path,
        NOTPROMOTED_METRICS_PORT=str(metrics_port),
    )
    try:
        yield Beside(started, standin, metrics_port)
    finally:
        started.stop()


def test_serve_sends_from_a_child_at_idle_priority_and_shows_its_counts(served: Beside) -> None:
    child = served.one_child()
    if hasattr(os, "SCHED_IDLE"):  # set by the child as it starts
        deadline = time.monotonic() + 15
        while os.sched_getscheduler(child) != os.SCHED_IDLE and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.sched_getscheduler(child) == os.SCHED_IDLE
    assert os.sched_getscheduler(served.served.process.pid) == os.SCHED_OTHER  # answers first

    response = served.command("U0ONE")
    assert response.status_code == 200 and "direct message" in response.json()["text"]
    assert served.standin.wait_for(lambda: len(served.standin.dms_to("U0ONE")) == 1, 10)
    # Sent by the child, counted in the web process's /metrics.
    deadline = time.monotonic() + 10
    while served.sent_count() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served.sent_count() == 1.0
    # The outbox gauges are read at scrape time there too; none of it is on the public listener.
    page = served.http_metrics()
    assert "notpromoted_outbox_scrape_ok 1.0" in page and "notpromoted_checkins_pending" in page
    assert served.served.http.get(f"{served.served.url}/metrics").status_code == 404


def test_a_dm_the_child_cannot_send_is_explained_to_the_person(served: Beside) -> None:
    served.standin.add_user("U0GONE", deleted=True)
    assert served.command("U0GONE").status_code == 200
    assert served.standin.wait_for(lambda: len(served.standin.responses) == 1, 10)
    assert "couldn't send you a direct message" in served.standin.responses[0]["text"]
    assert served.standin.dms_to("U0GONE") == []


def test_a_child_that_dies_is_replaced_and_nothing_is_lost(served: Beside) -> None:
    first = served.one_child()
    os.kill(first, signal.SIGKILL)
    # Written while no child runs: the row waits in the outbox for the next child's sweep.
    assert served.command("U0WHILE").status_code == 200
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and served.children() in ([], [first]):
        time.sleep(0.05)
    second = served.one_child()
    assert second != first
    assert served.standin.wait_for(lambda: len(served.standin.dms_to("U0WHILE")) == 1, 15)
    assert served.command("U0AFTER").status_code == 200
    assert served.standin.wait_for(lambda: len(served.standin.dms_to("U0AFTER")) == 1, 10)
    assert len(served.standin.dms_to("U0WHILE")) == 1


def test_sigterm_stops_both_processes_cleanly(served: Beside) -> None:
    child = served.one_child()
    assert served.command("U0LAST").status_code == 200
    assert served.standin.wait_for(lambda: len(served.standin.dms_to("U0LAST")) == 1, 10)
    code = served.served.stop()
    output = served.served.text()
    assert code in (0, -signal.SIGTERM), output
    assert _is_zombie_or_gone(child)
    assert "Traceback" not in output
    assert "sending process exited" not in output  # it was stopped, not lost


def _is_zombie_or_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True

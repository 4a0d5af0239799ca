"""`serve`'s sending process SIGKILLed in the middle of a burst of first DMs (issue 17).

Each person was told "I've sent you a direct message"; the rows the dead process held must
go out within seconds (before: after the five-minute lease), each once. The web process sees
its child die and frees what it held at once; the next child's first sweep sends it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Payload
from tests.faults.running import Served, serve

pytestmark = pytest.mark.slow

PEOPLE = 100
POST_SECONDS = 0.15  # Slack answers each post this late: the burst is still going at the kill
KILL_AFTER_DMS = 25
DEADLINE_SECONDS = 60.0  # generous for CI; docs/reliability.md carries the measured figure


def _sending_child(served: Served) -> int:
    """The pid of serve's sending process (its child running `worker --beside-web`)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == served.process.pid and b"--beside-web" in command:
            return int(entry.name)
    raise AssertionError("serve has no sending process")


def _first_dms(standin: SlackStandIn, people: list[str]) -> dict[str, int]:
    return {user: len(standin.dms_to(user)) for user in people}


def test_a_killed_sending_process_costs_seconds_not_a_lease(
    standin: SlackStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = standin.handle

    def slow(method: str, args: Payload, token: str | None) -> tuple[int, Payload, dict[str, str]]:
        if method == "chat.postMessage":
            time.sleep(POST_SECONDS)
        return original(method, args, token)

    monkeypatch.setattr(standin, "handle", slow)
    # The defaults a new user has, but for a lease no crash could wait out in this test.
    served = serve(
        standin, f"sqlite:///{tmp_path / 'bot.db'}", tmp_path, NOTPROMOTED_LEASE_SECONDS="3600"
    )
    people = [f"U9K{number:05d}" for number in range(PEOPLE)]
    try:
        child = _sending_child(served)
        answers: list[int] = []

        def type_commands() -> None:
            for user in people:
                response, _ = served.command(user)
                answers.append(response.status_code)

        typing = threading.Thread(target=type_commands, daemon=True)
        typing.start()
        deadline = time.monotonic() + 30
        while sum(1 for n in _first_dms(standin, people).values() if n) < KILL_AFTER_DMS:
            assert time.monotonic() < deadline, served.text()[-2000:]
            time.sleep(0.02)
        os.kill(child, signal.SIGKILL)
        killed_at = time.monotonic()
        delivered_before = sum(1 for n in _first_dms(standin, people).values() if n)
        typing.join(timeout=60)
        # Every person was answered, those who typed while no sending process ran too.
        assert answers == [200] * PEOPLE

        last_at = killed_at
        while True:
            counts = _first_dms(standin, people)
            waiting = [user for user, n in counts.items() if n == 0]
            if not waiting:
                break
            assert time.monotonic() - killed_at < DEADLINE_SECONDS, (
                f"{len(waiting)} people still waiting: {served.text()[-3000:]}"
            )
            last_at = time.monotonic()
            time.sleep(0.05)
        assert served.health() == 200
        assert _sending_child(served) != child  # a new one took over
    finally:
        served.stop()
    twice = {user: n for user, n in _first_dms(standin, people).items() if n > 1}
    assert not twice, twice
    print(
        f"\nsending process killed with {delivered_before}/{PEOPLE} first DMs out; the last of "
        f"the other {PEOPLE - delivered_before} arrived {last_at - killed_at:.1f} s later, "
        f"none twice"
    )

"""`notpromoted export`, `erase` and `report` as an HR operator runs them."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlmodel import Session, select

from bot.app.cli import main
from bot.core import audit
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.models import AuditEntry, Journey, Person
from bot.core.person_ref import PersonRef

KEY = "cli-test-secret-key-0123456789"
WHEN = datetime(2026, 1, 12, 9, tzinfo=UTC)


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A migrated SQLite file with two people (one of them in two workspaces)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("NOTPROMOTED_", "SLACK_")) or name in ("DATABASE_URL", "LOG_LEVEL"):
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'hr.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("NOTPROMOTED_SECRET_KEY", KEY)
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        for workspace, user in (("T1", "U0ANNA"), ("T1", "U0BEN"), ("T2", "U0BEN")):
            person = Person(platform="slack", workspace_id=workspace, user_id=user, created_at=WHEN)
            session.add(person)
            session.flush()
            assert person.id is not None
            session.add(
                Journey(
                    person_id=person.id, stage_id="acknowledge", started_at=WHEN, updated_at=WHEN
                )
            )
        audit.record(
            session,
            at=WHEN,
            actor=PersonRef("slack", "T1", "U0ANNA"),
            action=audit.GRANT,
            outcome=audit.DONE,
            subject="U0ANNA",
            other="U0BOSS",
        )
        session.commit()
    engine.dispose()
    return url


def _rows(url: str) -> tuple[list[Person], list[AuditEntry]]:
    engine = make_engine(url)
    with Session(engine) as session:
        people = list(session.exec(select(Person)).all())
        trail = list(session.exec(select(AuditEntry)).all())
    engine.dispose()
    return people, trail


def test_export_prints_the_persons_data_and_leaves_an_audit_row(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--user", "U0ANNA", "--operator", "dpo@example.com"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["person"]["user"] == "U0ANNA" and len(data["journeys"]) == 1
    _, trail = _rows(database)
    row = trail[-1]
    assert (row.actor, row.action, row.subject, row.outcome) == (
        "operator:dpo@example.com",
        audit.EXPORT,
        "U0ANNA",
        audit.DONE,
    )


def test_unknown_and_ambiguous_users_get_a_clear_message_and_exit_1(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--user", "U0NOBODY", "--operator", "hr"]) == 1
    assert "nothing is kept about slack user U0NOBODY" in capsys.readouterr().err
    assert main(["erase", "--user", "U0BEN", "--operator", "hr", "--yes"]) == 1
    assert "several workspaces (T1, T2): say which with --workspace" in capsys.readouterr().err
    assert main(["export", "--user", "U0BEN", "--platform", "teams", "--operator", "hr"]) == 1
    assert len(_rows(database)[0]) == 3
    assert main(["export", "--user", "U0ANNA", "--operator", "not a name"]) == 2
    assert "--operator must be a login" in capsys.readouterr().err


def test_erase_needs_yes_then_erases_and_audits_without_the_id(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["erase", "--user", "U0BEN", "--workspace", "T2", "--operator", "hr"]) == 1
    assert "nothing was erased. Run it again with --yes" in capsys.readouterr().err
    assert len(_rows(database)[0]) == 3

    assert main(["erase", "--user", "U0ANNA", "--operator", "hr", "--yes"]) == 0
    assert "erased 1 journey(s)" in capsys.readouterr().out
    people, trail = _rows(database)
    assert sorted((p.workspace_id, p.user_id) for p in people) == [
        ("T1", "U0BEN"),
        ("T2", "U0BEN"),
    ]
    erase = trail[-1]
    assert (erase.actor, erase.action, erase.subject) == (
        "operator:hr",
        audit.ERASE,
        audit.hashed("U0ANNA", KEY),
    )
    assert all("U0ANNA" not in (r.actor, r.subject, r.other) for r in trail)
    # Found again by the id, through its hash, as `audit --user` does.
    assert main(["audit", "--user", "U0ANNA", "--json"]) == 0
    actions = [json.loads(line)["action"] for line in capsys.readouterr().out.splitlines()]
    assert actions == [audit.GRANT, audit.ERASE]


def test_erase_without_a_secret_key_is_refused(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NOTPROMOTED_SECRET_KEY")
    assert main(["erase", "--user", "U0ANNA", "--operator", "hr", "--yes"]) == 2
    assert "NOTPROMOTED_SECRET_KEY is not set" in capsys.readouterr().err
    assert len(_rows(database)[0]) == 3


@time_machine.travel(datetime(2026, 3, 2, 8, tzinfo=UTC), tick=False)
def test_report_prints_a_table_or_json_and_refuses_bad_ranges(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--from", "2026-01", "--to", "2026-01", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["min_cell"] == 5
    assert report["months"] == [
        {
            "month": "2026-01",
            "journeys_started": None,  # three people: hidden
            "feedback_requested": None,
            "goals_set": None,
            "meetings_held": None,
            "journeys_completed": None,
        }
    ]
    assert main(["report", "--from", "2026-01", "--to", "2026-02"]) == 0
    out = capsys.readouterr().out
    assert "2026-01" in out and "<5" in out and "U0ANNA" not in out
    assert main(["report", "--to", "2026-03"]) == 1
    assert "complete months only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--from", "January"])
    monkeypatch.setenv("NOTPROMOTED_REPORT_MIN_CELL", "2")
    assert main(["report"]) == 2
    assert "can't be below 3" in capsys.readouterr().err
    monkeypatch.setenv("NOTPROMOTED_REPORT_MIN_CELL", "3")
    assert main(["report", "--from", "2026-01", "--to", "2026-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["months"][0]["journeys_started"] == 3

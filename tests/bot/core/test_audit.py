"""The audit trail: rows, filters, and ids replaced by their keyed hash on erasure."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from bot.app.operator_commands import print_audit
from bot.core import audit
from bot.core.config import Settings
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.person_ref import PersonRef

KEY = "audit-test-key-0123456789"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _ref(user: str) -> PersonRef:
    return PersonRef(platform="slack", workspace_id="T0A", user_id=user)


def _seed(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        audit.record(
            session,
            at=T0,
            actor=_ref("U0ANA"),
            subject="U0ANA",
            other="U0BOSS",
            action=audit.GRANT,
            outcome=audit.DONE,
        )
        audit.record(
            session,
            at=T0 + timedelta(days=1),
            actor=_ref("U0EVE"),
            subject="U0ANA",
            action=audit.PREPARE,
            outcome=audit.REFUSED,
            reason="not_invited",
        )
        audit.record(
            session,
            at=T0 + timedelta(days=2),
            actor=_ref("U0BOSS"),
            subject="U0BEN",
            action=audit.PREPARE,
            outcome=audit.ALLOWED,
            reason="group",
        )
        session.commit()
    engine.dispose()
    return Settings(database_url=url, secret_key=KEY)


def _json_lines(settings: Settings, **filters: object) -> list[dict[str, object]]:
    out = io.StringIO()
    print_audit(settings, as_json=True, out=out, **filters)  # type: ignore[arg-type]
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_filters_by_time_and_by_user_in_any_role(tmp_path: Path) -> None:
    settings = _seed(tmp_path)
    assert len(_json_lines(settings, since=None, user=None)) == 3
    later = _json_lines(settings, since=T0 + timedelta(hours=12), user=None)
    assert [row["action"] for row in later] == ["prepare", "prepare"]
    # U0BOSS is the manager named by a grant and the actor of a preparation.
    boss = _json_lines(settings, since=None, user="U0BOSS")
    assert [(row["action"], row["outcome"]) for row in boss] == [
        ("grant", "done"),
        ("prepare", "allowed"),
    ]
    text = io.StringIO()
    assert print_audit(settings, since=None, user="U0ANA", as_json=False, out=text) == 2
    assert "refused (not_invited)" in text.getvalue() and "2 rows" in text.getvalue()


def test_an_erased_person_is_a_keyed_hash_and_still_found_by_their_id(tmp_path: Path) -> None:
    settings = _seed(tmp_path)
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        audit.forget_user(session, _ref("U0ANA"), key=KEY)
        session.commit()
    engine.dispose()
    rows = _json_lines(settings, since=None, user=None)
    assert "U0ANA" not in json.dumps(rows)
    hashed = audit.hashed("U0ANA", KEY)
    assert [rows[0]["actor"], rows[0]["subject"], rows[1]["subject"]] == [hashed] * 3
    assert rows[0]["other"] == "U0BOSS" and rows[1]["actor"] == "U0EVE"
    assert len(_json_lines(settings, since=None, user="U0ANA")) == 2
    # The hash is keyed: without the key, the id can't be checked against it.
    assert audit.hashed("U0ANA", "another-key-0123456789") != hashed

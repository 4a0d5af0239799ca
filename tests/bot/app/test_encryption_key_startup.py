"""A wrong NOTPROMOTED_ENCRYPTION_KEY stops `serve` and `worker` at start-up with one line,
instead of a 500 for every request from an installed workspace later."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation

from bot.app.serve import prepared_runtime
from bot.core.config import ConfigError
from bot.core.config_loading import load_settings
from bot.core.db import make_engine
from bot.core.encryption import TokenCipher
from bot.core.migrate import upgrade
from bot.slack.installations import SealedInstallationStore
from tests.bot.app.test_cli import _free_port, clean_env

__all__ = ["clean_env"]

SEALED_WITH = Fernet.generate_key().decode()
CLIENT = "111.222"


def _installed_workspace(database: str) -> None:
    engine = make_engine(database)
    upgrade(engine)
    store = SealedInstallationStore(
        client_id=CLIENT, engine=engine, cipher=TokenCipher([SEALED_WITH])
    )
    store.save(
        Installation(
            app_id="A1",
            team_id="T0ONE",
            user_id="U0ADMIN",
            bot_token="xoxb-installed-token",
            bot_id="B1",
            bot_user_id="U0BOT",
        )
    )
    engine.dispose()


def _environment(monkeypatch: pytest.MonkeyPatch, folder: Path, **keys: str) -> str:
    database = f"sqlite:///{folder / 'bot.db'}"
    variables = {
        "SLACK_CLIENT_ID": CLIENT,
        "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "NOTPROMOTED_SECRET_KEY": "startup-test-secret-key",
        "DATABASE_URL": database,
        **keys,
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return database


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_key_that_opens_no_stored_token_stops_start_up(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    database = _environment(
        monkeypatch, clean_env, NOTPROMOTED_ENCRYPTION_KEY=Fernet.generate_key().decode()
    )
    _installed_workspace(database)
    arguments = ["--host", "127.0.0.1", "--port", str(_free_port())] if command == "serve" else []
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "bot.app.cli", command, *arguments],
            cwd=clean_env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command} started with a key that opens none of the stored tokens")
    assert finished.returncode == 2
    error = finished.stderr.strip()
    assert error.startswith("notpromoted: ") and "NOTPROMOTED_ENCRYPTION_KEY" in error
    assert len(error.splitlines()) == 1 and "Traceback" not in error


def test_the_right_key_or_the_previous_one_starts(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = Fernet.generate_key().decode()
    database = _environment(
        monkeypatch,
        clean_env,
        NOTPROMOTED_ENCRYPTION_KEY=fresh,
        NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS=SEALED_WITH,
    )
    _installed_workspace(database)
    runtime = prepared_runtime(load_settings(dict(os.environ)))
    runtime.engine.dispose()
    monkeypatch.delenv("NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS")
    with pytest.raises(ConfigError, match="NOTPROMOTED_ENCRYPTION_KEY"):
        prepared_runtime(load_settings(dict(os.environ)))

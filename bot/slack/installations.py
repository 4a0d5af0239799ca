"""Slack installations and OAuth states on our database, with every token sealed.

slack-sdk's SQLAlchemy stores read and write its own table shapes (created by our migrations,
see bot/core/models.py) but keep tokens as plain text, so the store here wraps theirs: it seals the
secret fields with Fernet before they are saved and opens them after they are found. Both stores
are synchronous; Bolt's OAuth flow gets thin async wrappers that run them on a thread.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from logging import Logger
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, delete, select, update

from bot.core.encryption import TokenCipher, UnreadableSecret
from bot.core.models import (
    SLACK_SECRET_COLUMNS,
    slack_bots,
    slack_installations,
    slack_oauth_states,
)

logger = logging.getLogger(__name__)

# How long a browser has from /slack/install to coming back with Slack's answer.
STATE_SECONDS = 600

INSTALLATION_SECRETS = SLACK_SECRET_COLUMNS
BOT_SECRETS = ("bot_token", "bot_refresh_token")

Record = TypeVar("Record", Installation, Bot)


class SealedInstallationStore(InstallationStore):
    """slack-sdk's SQLAlchemy installation store, with the secret fields sealed at rest."""

    def __init__(self, *, client_id: str, engine: Engine, cipher: TokenCipher) -> None:
        self.plain = SQLAlchemyInstallationStore(
            client_id=client_id,
            engine=engine,
            bots_table_name=slack_bots.name,
            installations_table_name=slack_installations.name,
            logger=logger,
        )
        self.cipher = cipher

    @property
    def logger(self) -> Logger:
        return logger

    def save(self, installation: Installation) -> None:
        self.plain.save(self._sealed(Installation, installation, INSTALLATION_SECRETS))

    def save_bot(self, bot: Bot) -> None:
        self.plain.save_bot(self._sealed(Bot, bot, BOT_SECRETS))

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        bot = self.plain.find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if bot is None else self._opened(bot, BOT_SECRETS)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        installation = self.plain.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if installation is None else self._opened(installation, INSTALLATION_SECRETS)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.plain.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.plain.delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    def forget_user_tokens(
        self, *, enterprise_id: str | None, team_id: str | None, user_ids: list[str]
    ) -> None:
        """Drop revoked user tokens; the rows stay, they carry the workspace's bot token too."""
        columns = slack_installations.c
        with self.plain.engine.begin() as connection:
            connection.execute(
                update(slack_installations)
                .where(
                    columns.client_id == self.plain.client_id,
                    columns.enterprise_id == enterprise_id,
                    columns.team_id == team_id,
                    columns.user_id.in_(user_ids),
                )
                .values(user_token=None, user_refresh_token=None, user_token_expires_at=None)
            )

    def _sealed(self, kind: type[Record], record: Record, fields: tuple[str, ...]) -> Record:
        copy = kind(**record.to_dict_for_copying())
        for name in fields:
            value = getattr(record, name)
            setattr(copy, name, None if value is None else self.cipher.seal(value))
        return copy

    def _opened(self, record: Record, fields: tuple[str, ...]) -> Record:
        for name in fields:
            value = getattr(record, name)
            if value is not None:
                setattr(record, name, self.cipher.open(value))
        return record


class AsyncInstallations(AsyncInstallationStore):
    """The sealed store for Bolt's async OAuth flow: each call on a thread, off the loop."""

    def __init__(self, store: SealedInstallationStore) -> None:
        self.store = store

    @property
    def logger(self) -> Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.store.save_bot, bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return await asyncio.to_thread(
            lambda: self.store.find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            lambda: self.store.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(
            lambda: self.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            lambda: self.store.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        )


class AsyncOAuthStates(AsyncOAuthStateStore):
    """slack-sdk's SQLAlchemy OAuth state store, on a thread."""

    def __init__(self, engine: Engine, *, expiration_seconds: int = STATE_SECONDS) -> None:
        self.store = SQLAlchemyOAuthStateStore(
            expiration_seconds=expiration_seconds,
            engine=engine,
            logger=logger,
            table_name=slack_oauth_states.name,
        )

    @property
    def logger(self) -> Logger:
        return logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self._issue)

    def _issue(self) -> str:
        # slack-sdk deletes a state when it is used; those never used would stay for good.
        with self.store.engine.begin() as connection:
            connection.execute(
                delete(slack_oauth_states).where(
                    slack_oauth_states.c.expire_at < datetime.now(UTC).replace(tzinfo=None)
                )
            )
        return self.store.issue()

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.store.consume, state)


def stored_tokens_open(engine: Engine, cipher: TokenCipher) -> bool:
    """Do the configured keys open the newest stored bot token (True when none is stored)?

    Checked at start-up: with a wrong key every request from an installed workspace would fail
    later, one by one; one row read now says so before the first request.
    """
    with engine.connect() as connection:
        sealed = connection.execute(
            select(slack_bots.c.bot_token)
            .where(slack_bots.c.bot_token.is_not(None))
            .order_by(slack_bots.c.id.desc())
            .limit(1)
        ).scalar()
    if sealed is None:
        return True
    try:
        cipher.open(sealed)
    except UnreadableSecret:
        return False
    return True


@dataclass(frozen=True)
class ResealReport:
    resealed: int  # values sealed anew with the current key
    current: int  # values the current key had sealed already
    unreadable: int  # values no configured key opens: left as they were


def reseal_tokens(engine: Engine, cipher: TokenCipher) -> ResealReport:
    """Seal every stored secret with the current key (after a key rotation), in one transaction."""
    resealed = current = unreadable = 0
    with engine.begin() as connection:
        for table in (slack_installations, slack_bots):
            secrets = [name for name in INSTALLATION_SECRETS if name in table.c]
            query = select(table.c.id, *(table.c[name] for name in secrets))
            if engine.dialect.name == "postgresql":  # a refresh in a worker waits for this
                query = query.with_for_update()
            rows = connection.execute(query).all()
            for row in rows:
                changes: dict[str, str] = {}
                for name in secrets:
                    value = getattr(row, name)
                    if value is None:
                        continue
                    try:
                        fresh = cipher.reseal(value)
                    except UnreadableSecret:
                        unreadable += 1
                        logger.warning(
                            "%s row %s: %s opens with no configured key", table.name, row.id, name
                        )
                        continue
                    if fresh is None:
                        current += 1
                    else:
                        changes[name] = fresh
                if changes:
                    resealed += len(changes)
                    connection.execute(update(table).where(table.c.id == row.id).values(changes))
    return ResealReport(resealed=resealed, current=current, unreadable=unreadable)

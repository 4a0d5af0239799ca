"""Logging set-up: one line per record, no message bodies or tokens (we never log them)."""

from __future__ import annotations

import logging


class _WithoutBoltTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused whenever a client is passed, as we always do."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


BOLT_LOGGER = "notpromoted.bolt"


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # slack_sdk logs request bodies at DEBUG; keep them out whatever LOG_LEVEL says.
    logging.getLogger("slack_sdk").setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger(BOLT_LOGGER).addFilter(_WithoutBoltTokenNotice())

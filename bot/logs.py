"""Logging set-up: one line per record, JSON or text, with the id of the request or sweep.

Nothing here filters message bodies, typed text or tokens out: the code never logs them, and
tests/bot/test_logs.py runs a journey and looks for them in every line.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

# The request (or dispatcher sweep) a record belongs to. Set per HTTP request by
# bot.web.RequestIdMiddleware; asyncio tasks and asyncio.to_thread carry it along.
request_id: ContextVar[str | None] = ContextVar("notpromoted_request_id", default=None)

# An incoming X-Request-Id is kept only if it looks like an id: it goes into every log line.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def new_request_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex


def accepted_request_id(incoming: str | None) -> str:
    """The caller's id when it is a plain token of sensible length, else a fresh one."""
    if incoming is not None and _SANE_ID.fullmatch(incoming):
        return incoming
    return new_request_id()


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message, and request_id and exception when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        current = request_id.get()
        if current is None:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [{current}]{newline}{rest}"


class _WithoutBoltTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused whenever a client is passed, as we always do."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


BOLT_LOGGER = "notpromoted.bolt"


def configure_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    quiet_chatty_loggers()


def quiet_chatty_loggers() -> None:
    """Libraries that would log request and response bodies at DEBUG stay at INFO or above."""
    floor = max(logging.INFO, logging.getLogger().level)
    # slack_sdk logs request and response bodies (typed text, tokens in OAuth answers) at DEBUG.
    logging.getLogger("slack_sdk").setLevel(floor)
    # Bolt logs the parsed request body at DEBUG.
    logging.getLogger("slack_bolt").setLevel(floor)
    logging.getLogger(BOLT_LOGGER).setLevel(floor)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger(BOLT_LOGGER).addFilter(_WithoutBoltTokenNotice())

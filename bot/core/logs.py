"""Logging set-up: one line per record, JSON or text, with the id of the request or sweep.

Nothing here filters message bodies, typed text or tokens out of our own lines: the code never
logs them. Libraries do, at DEBUG (and httpx at INFO): `quiet_chatty_loggers` keeps each of
them above the level where it would, whatever LOG_LEVEL says. tests/bot/test_logs.py runs a
Slack and a Teams journey at DEBUG and looks for what must not be there in every line.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

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


# Errors from HTTP clients name the URL they called (httpx: "Server error '500 ...' for url
# 'https://host/v3/conversations/<id>/activities'"), and a Teams conversation's URL names the
# person. Lines keep the host and lose the path and query.
_URL_PATH = re.compile(r"(https?://[^/\s'\"?#]+)[/?#][^\s'\"]*")


def without_url_paths(text: str) -> str:
    return _URL_PATH.sub(r"\1/…", text)


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message, and request_id and exception when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": without_url_paths(record.getMessage()),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        if record.exc_info:
            entry["exception"] = without_url_paths(self.formatException(record.exc_info))
        elif record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = without_url_paths(super().format(record))
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
    logging.basicConfig(level=level, handlers=[log_handler(log_format)], force=True)
    quiet_chatty_loggers()


def log_handler(log_format: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """Where `serve` writes its lines (stderr unless a stream is given), in its format and
    with the libraries' floors."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(LibraryFloors())
    handler.addFilter(WithoutTeamsErrorDetails())
    return handler


# Libraries whose lines would carry what people typed, their names or their ids, and the level
# below which each one stays silent whatever LOG_LEVEL says. Set on the library's top logger,
# so its children (e.g. microsoft_teams.apps.app_process) inherit it.
LIBRARY_FLOORS: dict[str, int] = {
    # Request and response bodies (typed text; tokens in OAuth answers) at DEBUG.
    "slack_sdk": logging.INFO,
    # The parsed request body at DEBUG.
    "slack_bolt": logging.INFO,
    BOLT_LOGGER: logging.INFO,
    # Whole activities (typed text, private notes, names) at DEBUG: "Received activity: ...".
    "microsoft_teams": logging.INFO,
    # Every request's URL at INFO: a Teams post's names the conversation, which can hold the
    # person's Entra object id.
    "httpx": logging.WARNING,
    # Request and response headers and bodies at DEBUG (httpx's and MSAL's transports).
    "httpcore": logging.WARNING,
    "urllib3": logging.WARNING,
    "msal": logging.WARNING,
    # slack_sdk's async client: URLs and, at DEBUG, payloads.
    "aiohttp": logging.WARNING,
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
}


class LibraryFloors(logging.Filter):
    """Drops a library's records below its floor at the handler, whatever level the library's
    logger has: microsoft-teams-common 2.1.1 sets the `httpx` logger's level to its own
    (NOTSET) each time it builds an HTTP client (microsoft_teams/common/http/client.py,
    `Client.__init__`), which undoes `quiet_chatty_loggers` for httpx at every Teams send."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        for library, floor in LIBRARY_FLOORS.items():
            if name == library or name.startswith(library + "."):
                return record.levelno >= floor
        return True


class WithoutTeamsErrorDetails(logging.Filter):
    """The Teams SDK logs an activity it cannot read with `logger.exception(str(error))`
    (microsoft-teams-apps 2.1.1, `HttpServer.handle_request`), and pydantic's message quotes
    the fields it could not read: typed text, names. Its errors keep their level, logger, type
    and place; the message and traceback are left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("microsoft_teams") or not record.exc_info:
            return True
        error = record.exc_info[1]
        trace = error.__traceback__ if error is not None else None
        while trace is not None and trace.tb_next is not None:
            trace = trace.tb_next
        place = (
            f" at {trace.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{trace.tb_lineno}"
            if trace is not None
            else ""
        )
        record.msg = (
            "the Teams SDK failed: %s%s (its message is left out: it can quote the activity)"
        )
        record.args = (type(error).__name__, place)
        record.exc_info = None
        record.exc_text = None
        return True


def quiet_chatty_loggers() -> None:
    """Each library in LIBRARY_FLOORS logs only at its floor or above (or above the root's
    level, when that is higher)."""
    root = logging.getLogger().level
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, root))
    logging.getLogger(BOLT_LOGGER).addFilter(_WithoutBoltTokenNotice())

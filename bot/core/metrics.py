"""Prometheus metrics: one registry per runtime, passed in, so tests can build several apps.

Counters are bumped where things happen (a counter increment is all the request path pays);
the two numbers that live in the database, check-ins waiting and the dispatcher's lag, are read
at scrape time by `read_outbox`, with a time limit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Slack wants an answer within 3 s: the buckets are finest below that.
ACK_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0)
# The scrape-time queries give up after this long; the gauges then read NaN.
OUTBOX_QUERY_TIMEOUT_SECONDS = 2.0
# The counters a sending process passes up to the web process beside it (see `count`).
FORWARDED_COUNTERS = frozenset({"checkins", "slack_api_errors", "purged"})
# Where a count goes besides this registry: name, labels, amount.
Forward = Callable[[str, dict[str, str], float], None]


class Metrics:
    def __init__(
        self, registry: CollectorRegistry | None = None, *, forward: Forward | None = None
    ) -> None:
        self.registry = registry or CollectorRegistry()
        # A sending process beside `serve` passes what it counts up to the web process.
        self.forward = forward
        r = self.registry
        self.commands = Counter(
            "notpromoted_commands",
            "Slash commands received, by subcommand (unknown words count as 'unknown').",
            ["subcommand"],
            registry=r,
        )
        self.clicks = Counter(
            "notpromoted_button_clicks",
            "Button clicks received, by action id.",
            ["action"],
            registry=r,
        )
        self.checkins = Counter(
            "notpromoted_checkins",
            "Check-in sends by kind and outcome: sent, failed (given up), deferred (retry or "
            "outside working hours).",
            ["kind", "outcome"],
            registry=r,
        )
        self.ack_latency = Histogram(
            "notpromoted_ack_latency_seconds",
            "From a slash command's arrival to Bolt's acknowledgement.",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.slack_api_errors = Counter(
            "notpromoted_slack_api_errors",
            "Slack Web API calls that failed, by method and error.",
            ["method", "error"],
            registry=r,
        )
        self.purged = Counter(
            "notpromoted_retention_purged_journeys",
            "Journeys erased by the retention job.",
            registry=r,
        )
        self.teams_refused_tokens = Counter(
            "notpromoted_teams_refused_tokens",
            "Requests to /api/messages refused for their token, by reason (entra, issuer, "
            "malformed, signature, expired, audience, ...): forged tokens show up here, and the "
            "log only summarises them.",
            ["reason"],
            registry=r,
        )
        self.pending = Gauge(
            "notpromoted_checkins_pending",
            "Check-ins waiting to be sent (read from the database at scrape time; the same on "
            "every replica).",
            registry=r,
        )
        self.lag = Gauge(
            "notpromoted_dispatch_lag_seconds",
            "Age of the oldest due check-in still waiting to be sent (0 when none is late).",
            registry=r,
        )
        self.outbox_readable = Gauge(
            "notpromoted_outbox_scrape_ok",
            "1 when the last scrape could read the outbox from the database, else 0.",
            registry=r,
        )

    def count(self, name: str, by: float = 1, **labels: str) -> None:
        """Add to one of the forwarded counters (by attribute name), here and upstream."""
        if name not in FORWARDED_COUNTERS:
            raise ValueError(f"not a forwarded counter: {name}")
        counter: Counter = getattr(self, name)
        (counter.labels(**labels) if labels else counter).inc(by)
        if self.forward is not None:
            self.forward(name, labels, by)

    def checkin_outcome(self, kind: str, outcome: str) -> None:
        self.count("checkins", kind=kind, outcome=outcome)

    def set_outbox(self, reading: OutboxReading | None) -> None:
        if reading is None:
            self.pending.set(math.nan)
            self.lag.set(math.nan)
            self.outbox_readable.set(0)
            return
        self.pending.set(reading.pending)
        self.lag.set(reading.lag_seconds)
        self.outbox_readable.set(1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _ReadAtScrape:
    """The runtime's metrics as a collector that reads the outbox gauges first: for a listener
    of its own, which calls it on the listener's thread (off the event loop)."""

    def __init__(self, metrics: Metrics, read: Callable[[], OutboxReading]) -> None:
        self.metrics = metrics
        self.read = read

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        try:
            reading: OutboxReading | None = self.read()
        except Exception:
            logger.warning("metrics: the outbox could not be read", exc_info=True)
            reading = None
        self.metrics.set_outbox(reading)
        yield from self.metrics.registry.collect()


def start_metrics_listener(
    metrics: Metrics, read: Callable[[], OutboxReading], *, host: str, port: int
) -> WSGIServer:
    """Serve /metrics at host:port on a thread of its own (prometheus_client's server), apart
    from the public listener; the caller shuts it down."""
    registry = CollectorRegistry()
    registry.register(_ReadAtScrape(metrics, read))
    server, _thread = start_http_server(port, host, registry=registry)
    return server


@dataclass(frozen=True)
class OutboxReading:
    pending: int
    lag_seconds: float


def read_outbox(session: Session, *, now: datetime) -> OutboxReading:
    """Two index-backed queries on the (status, due_at, id) index, each under a time limit.

    The lag counts only rows a sweep would take: those of a paused journey wait on purpose.
    """
    if session.get_bind().dialect.name == "postgresql":
        timeout_ms = int(OUTBOX_QUERY_TIMEOUT_SECONDS * 1000)
        session.connection().exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
    pending = session.exec(
        select(func.count()).select_from(Checkin).where(Checkin.status == CheckinStatus.PENDING)
    ).one()
    oldest = session.exec(
        select(Checkin.due_at)
        .outerjoin(Journey, col(Journey.id) == col(Checkin.journey_id))
        .where(
            col(Checkin.status) == CheckinStatus.PENDING,
            col(Checkin.due_at) <= now,
            or_(col(Checkin.journey_id).is_(None), col(Journey.status) != JourneyStatus.PAUSED),
        )
        .order_by(col(Checkin.due_at), col(Checkin.id))
        .limit(1)
    ).first()
    lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxReading(pending=int(pending), lag_seconds=lag)

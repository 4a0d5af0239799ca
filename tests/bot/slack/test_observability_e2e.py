"""Metrics, readiness and request ids, through the real HTTP app."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, func, select

from bot.app.runtime import build_runtime
from bot.app.web import build_web_app
from bot.core import ids
from bot.core.db import make_engine
from bot.core.metrics import Metrics
from bot.core.migrate import upgrade
from bot.core.models import Checkin, CheckinStatus
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Failure
from tests.conftest import BotFactory, RunningBot, make_settings

USER = "U0OBS"
# /metrics is on the public listener only for a scraper bearing this token.
METRICS_TOKEN = "metrics-test-token-0123456789"


def _samples(bot: RunningBot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = bot.http.get(
        f"{bot.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_commands_clicks_sends_and_time_the_ack(start_bot: BotFactory) -> None:
    bot = start_bot(metrics_token=METRICS_TOKEN)
    bot.command(USER)
    [first] = bot.dms(USER, 1)
    bot.command(USER, "status")
    bot.command(USER, "something I typed")
    bot.click(USER, first, ids.STAGE_NEXT)
    bot.dms(USER, 2)
    found = _samples(bot)
    assert found[("notpromoted_commands_total", (("subcommand", "start"),))] == 1
    assert found[("notpromoted_commands_total", (("subcommand", "status"),))] == 1
    # Typed text never becomes a label.
    assert found[("notpromoted_commands_total", (("subcommand", "unknown"),))] == 1
    assert found[("notpromoted_button_clicks_total", (("action", ids.STAGE_NEXT),))] == 1
    assert found[("notpromoted_checkins_total", (("kind", "stage"), ("outcome", "sent")))] == 2
    assert found[("notpromoted_ack_latency_seconds_count", ())] == 3
    assert 0 < found[("notpromoted_ack_latency_seconds_sum", ())] < 30
    assert not any("typed" in str(key) for key in found)


def test_pending_and_lag_are_read_from_the_database_at_scrape_time(start_bot: BotFactory) -> None:
    bot = start_bot(metrics_token=METRICS_TOKEN)
    bot.command(USER)
    bot.dms(USER, 1)
    found = _samples(bot)
    waiting = found[("notpromoted_checkins_pending", ())]
    assert waiting >= 1  # the check-ins planned for later days
    assert found[("notpromoted_dispatch_lag_seconds", ())] == 0
    assert found[("notpromoted_outbox_scrape_ok", ())] == 1
    # Ten days on, without a sweep: the oldest due row has waited since it fell due.
    with Session(bot.runtime.engine) as session:
        oldest = session.exec(
            select(func.min(Checkin.due_at)).where(Checkin.status == CheckinStatus.PENDING)
        ).one()
    assert oldest is not None
    bot.clock.move_to(bot.clock.now + timedelta(days=10))
    lag = _samples(bot)[("notpromoted_dispatch_lag_seconds", ())]
    assert lag == pytest.approx((bot.clock.now - oldest).total_seconds())
    assert lag > 86400


def test_slack_api_errors_are_counted_by_method(start_bot: BotFactory) -> None:
    bot = start_bot(metrics_token=METRICS_TOKEN)
    bot.standin.fail_next("chat.postMessage", Failure(status=500, error="internal_error"))
    bot.command(USER)
    bot.standin.wait_for_calls("chat.postMessage", 1)
    bot.settle()
    found = _samples(bot)
    key = (
        "notpromoted_slack_api_errors_total",
        (("error", "internal_error"), ("method", "chat.postMessage")),
    )
    assert found[key] >= 1
    deferred = ("notpromoted_checkins_total", (("kind", "stage"), ("outcome", "deferred")))
    assert found[deferred] == 1


def test_the_public_listener_keeps_metrics_to_a_scraper_with_the_token(
    start_bot: BotFactory,
) -> None:
    closed = start_bot()
    assert closed.http.get(f"{closed.url}/metrics").status_code == 404
    bot = start_bot(metrics_token=METRICS_TOKEN)
    assert bot.http.get(f"{bot.url}/metrics").status_code == 401
    wrong = {"Authorization": "Bearer metrics-test-token-0123456780"}
    refused = bot.http.get(f"{bot.url}/metrics", headers=wrong)
    assert refused.status_code == 401 and "notpromoted_" not in refused.text
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert ("notpromoted_outbox_scrape_ok", ()) in _samples(bot)


def test_request_ids_are_kept_when_sane_and_made_otherwise(start_bot: BotFactory) -> None:
    bot = start_bot()
    kept = bot.http.get(f"{bot.url}/healthz", headers={"X-Request-Id": "lb-0123456789abcdef"})
    assert kept.headers["x-request-id"] == "lb-0123456789abcdef"
    for bad in ("short", "has spaces in it", "x" * 65, 'quote"inside-0123'):
        made = bot.http.get(f"{bot.url}/healthz", headers={"X-Request-Id": bad})
        assert made.headers["x-request-id"] != bad and len(made.headers["x-request-id"]) == 32
    one, two = (bot.http.get(f"{bot.url}/healthz").headers["x-request-id"] for _ in range(2))
    assert one != two


def test_readyz_checks_the_database_and_its_migrations(
    start_bot: BotFactory, tmp_path: Path
) -> None:
    bot = start_bot()
    assert bot.http.get(f"{bot.url}/readyz").json() == {"ready": True}
    assert bot.http.get(f"{bot.url}/healthz").status_code == 200

    behind = make_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    upgrade(behind, "0004")
    lagging = start_bot(engine=behind, migrate=False)
    response = lagging.http.get(f"{lagging.url}/readyz")
    assert response.status_code == 503
    assert "notpromoted db upgrade" in response.json()["reason"]
    # /healthz only asks whether the database answers.
    assert lagging.http.get(f"{lagging.url}/healthz").status_code == 200


def test_readyz_says_503_when_the_database_is_gone(standin: SlackStandIn, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    runtime = build_runtime(make_settings(standin), engine=engine)
    app = build_web_app(runtime, run_dispatcher=False)
    transport = httpx.ASGITransport(app=app)

    async def ask() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1"
        ) as client:  # in process
            return await client.get("/readyz")

    response = asyncio.run(ask())
    assert response.status_code == 503
    assert response.json() == {"ready": False, "reason": "the database does not answer"}


def test_each_runtime_has_its_own_registry(standin: SlackStandIn) -> None:
    first = build_runtime(make_settings(standin), engine=make_engine("sqlite://"))
    second = build_runtime(make_settings(standin), engine=make_engine("sqlite://"))
    first.metrics.commands.labels(subcommand="start").inc()
    assert first.metrics.registry is not second.metrics.registry
    assert b'subcommand="start"} 1.0' in first.metrics.exposition()
    assert b'subcommand="start"' not in second.metrics.exposition()
    shared = Metrics()
    assert build_runtime(make_settings(standin), metrics=shared).metrics is shared

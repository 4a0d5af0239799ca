"""Long-running modes: HTTP (`serve`) and Socket Mode (`socket`)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.app.connection_limits import connection_limits, raise_open_file_limit
from bot.app.guarded_server import guarded_server
from bot.app.runtime import Runtime, build_runtime
from bot.app.web import build_web_app, outbox_now
from bot.core.config import ConfigError, Settings
from bot.core.encryption import TokenCipher
from bot.core.metrics import Metrics, start_metrics_listener
from bot.core.migrate import ready_engine
from bot.core.models import Platform
from bot.slack.installations import stored_tokens_open
from handlers.locale_lookup import checkin_locale
from scheduler.row_leases import SendOutcome
from scheduler.runner import start_dispatching, stop_dispatching
from scheduler.sending_process import count_line, lower_own_priority, read_wake_ups

logger = logging.getLogger(__name__)


# How long a stopping sending process waits for the sends it was woken for.
WOKEN_SENDS_WAIT_SECONDS = 10.0
FIRST_SWEEP_BESIDE_WEB_SECONDS = 2.0


def prepared_runtime(
    settings: Settings,
    metrics: Metrics | None = None,
    *,
    checkpoints: bool = True,
    owner: str | None = None,
) -> Runtime:
    engine = ready_engine(settings.database_url, checkpoints=checkpoints)
    if (
        settings.slack_enabled
        and settings.encryption_keys
        and not stored_tokens_open(engine, TokenCipher(settings.encryption_keys))
    ):
        engine.dispose()
        raise ConfigError(
            "NOTPROMOTED_ENCRYPTION_KEY does not open the Slack tokens stored in the database: "
            "set the key they were sealed with (after a rotation, the old one in "
            "NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS)"
        )
    return build_runtime(settings, engine=engine, metrics=metrics, owner=owner)


def serve(settings: Settings, *, host: str, port: int, dispatcher: bool) -> None:
    """Answer Slack, Teams or both here (as configured); with `dispatcher`, send from a
    process beside this one, which also does SQLite's checkpoints (see `make_engine`)."""
    limits = connection_limits(
        raise_open_file_limit(),
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        max_connections=settings.max_connections,
    )
    runtime = prepared_runtime(settings, checkpoints=not dispatcher)
    app = build_web_app(runtime, run_dispatcher=dispatcher, sending_process=dispatcher)
    try:
        server = guarded_server(
            app,
            limits,
            keep_alive_seconds=settings.keep_alive_seconds,
            host=host,
            port=port,
            log_config=None,
            timeout_graceful_shutdown=10,
            lifespan="on",
        )
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    logger.info(
        "serving %s on %s:%s (dispatcher %s; at most %s connections)",
        served_platforms(settings),
        host,
        port,
        "on" if dispatcher else "off",
        limits.max_connections,
    )
    metrics_listener = _metrics_listener(runtime)
    # What start-up made lives as long as the process: out of the collector's way, so that a
    # full collection under traffic walks only the objects requests make.
    gc.collect()
    gc.freeze()
    try:
        server.run()
    finally:
        if metrics_listener is not None:
            metrics_listener.shutdown()


def served_platforms(settings: Settings) -> str:
    """ "Slack", "Teams" or "Slack and Teams", for the log."""
    names = [
        name
        for name, on in (("Slack", settings.slack_enabled), ("Teams", settings.teams_enabled))
        if on
    ]
    return " and ".join(names)


def _metrics_listener(runtime: Runtime) -> WSGIServer | None:
    """/metrics on a listener of its own (NOTPROMOTED_METRICS_PORT), never the public one."""
    settings = runtime.services.settings
    if settings.metrics_port is None:
        return None
    try:
        listener = start_metrics_listener(
            runtime.metrics,
            lambda: outbox_now(runtime),
            host=settings.metrics_host,
            port=settings.metrics_port,
        )
    except OSError as error:
        raise ConfigError(
            f"NOTPROMOTED_METRICS_PORT: can't listen on "
            f"{settings.metrics_host}:{settings.metrics_port} ({error.strerror})"
        ) from None
    # Log lines lose URL paths (bot.core.logs), so the address is written without one.
    logger.info("metrics on %s:%s, path /metrics", settings.metrics_host, settings.metrics_port)
    return listener


async def run_socket_mode(settings: Settings) -> None:
    runtime = prepared_runtime(settings)
    await runtime.open()
    scheduler = start_dispatching(
        runtime.dispatcher, interval_seconds=settings.dispatch_interval_seconds
    )
    assert runtime.slack is not None  # require_socket: Slack is configured
    handler = AsyncSocketModeHandler(runtime.slack.bolt, settings.slack_app_token)
    try:
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await stop_dispatching(scheduler, runtime.dispatcher)
        await handler.close_async()  # type: ignore[no-untyped-call]
        await runtime.close()


async def run_worker(
    settings: Settings,
    *,
    metrics_at: tuple[str, int] | None = None,
    beside_web: bool = False,
    owner: str | None = None,
) -> None:
    """The dispatcher alone, until SIGTERM or SIGINT: for scaling sends apart from the web.

    `metrics_at` (host, port) serves what this worker counts (check-ins sent, failed and
    deferred; Slack API errors) for Prometheus; the outbox gauges come from the web replicas.

    `beside_web`: this is `serve`'s own sending process. It runs at the lowest CPU priority,
    sends the rows the web process names on stdin at once, passes its counts up on stdout,
    and stops when stdin ends (the web process decides when: signals are left to it). Its
    `owner` name comes from the web process, which frees the rows it held if it dies.
    """
    priority = lower_own_priority() if beside_web else None
    runtime = prepared_runtime(
        settings, Metrics(forward=_upward()) if beside_web else None, owner=owner
    )
    exporter = (
        start_http_server(metrics_at[1], metrics_at[0], registry=runtime.metrics.registry)
        if metrics_at
        else None
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        if beside_web:  # a Ctrl-C reaches the whole group: the web process stops this one
            signal.signal(signum, signal.SIG_IGN)
        else:
            loop.add_signal_handler(signum, stop.set)
    await runtime.open()
    scheduler = start_dispatching(
        runtime.dispatcher,
        interval_seconds=settings.dispatch_interval_seconds,
        # Beside the web process, the rows it hands over while this one starts go first: a
        # sweep would send them too, but without the command's response URL for a failure.
        first_sweep_in=FIRST_SWEEP_BESIDE_WEB_SECONDS if beside_web else 0,
    )
    woken: set[asyncio.Task[None]] = set()
    reading: asyncio.Task[None] | None = None
    if beside_web:

        def wake(checkin_id: int, reply_to: str | None) -> None:
            task = loop.create_task(_send_woken(runtime, checkin_id, reply_to))
            woken.add(task)
            task.add_done_callback(woken.discard)

        reading = loop.create_task(read_wake_ups(wake))
        reading.add_done_callback(lambda _: stop.set())
    logger.info(
        "worker %s sweeping every %ss%s",
        runtime.dispatcher.owner,
        settings.dispatch_interval_seconds,
        f", beside the web process ({priority})" if beside_web else "",
    )
    try:
        await stop.wait()
    finally:
        await stop_dispatching(scheduler, runtime.dispatcher)
        if woken:  # each finishes its send, or finds the dispatcher stopping and leaves it
            await asyncio.wait(woken, timeout=WOKEN_SENDS_WAIT_SECONDS)
        if reading is not None:
            reading.cancel()
        await runtime.close()
        runtime.engine.dispose()
        if exporter is not None:
            exporter[0].shutdown()
        logger.info("worker %s stopped", runtime.dispatcher.owner)


def _upward() -> Callable[[str, dict[str, str], float], None]:
    """Counts written up to the web process on stdout (from the loop and from threads)."""
    lock = threading.Lock()
    out = sys.stdout.buffer

    def forward(name: str, labels: dict[str, str], by: float) -> None:
        with lock:
            try:
                out.write(count_line(name, labels, by))
                out.flush()
            except (BrokenPipeError, ValueError):  # the web process has gone: we stop soon
                pass

    return forward


async def _send_woken(runtime: Runtime, checkin_id: int, reply_to: str | None) -> None:
    """A row the web process just wrote; if its DM cannot be sent, say so to the person
    through the command's response URL, as the web process would have."""
    try:
        outcome = await runtime.dispatcher.send_now(checkin_id)
        if outcome is not SendOutcome.FAILED or reply_to is None:
            return
        locale = await asyncio.to_thread(
            checkin_locale, runtime.services, checkin_id, Platform.SLACK
        )
        text = locale.text("ack_dm_failed", app_name=runtime.services.settings.display_name)
        await AsyncWebhookClient(reply_to).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    except Exception:  # the row is in the outbox: a sweep sends it
        logger.exception("sending check-in %s failed", checkin_id)

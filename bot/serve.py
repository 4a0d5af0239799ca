"""Long-running modes: HTTP (`serve`) and Socket Mode (`socket`)."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvicorn
from prometheus_client import start_http_server
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.config import Settings
from bot.migrate import ready_engine
from bot.runtime import Runtime, build_runtime
from bot.web import build_web_app
from scheduler.runner import start_dispatching, stop_dispatching

logger = logging.getLogger(__name__)


def prepared_runtime(settings: Settings) -> Runtime:
    return build_runtime(settings, engine=ready_engine(settings.database_url))


def serve(settings: Settings, *, host: str, port: int, dispatcher: bool) -> None:
    runtime = prepared_runtime(settings)
    app = build_web_app(runtime, run_dispatcher=dispatcher)
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, timeout_graceful_shutdown=10, lifespan="on"
    )
    logger.info("serving Slack on %s:%s (dispatcher %s)", host, port, "on" if dispatcher else "off")
    uvicorn.Server(config).run()


async def run_socket_mode(settings: Settings) -> None:
    runtime = prepared_runtime(settings)
    await runtime.open()
    scheduler = start_dispatching(
        runtime.dispatcher, interval_seconds=settings.dispatch_interval_seconds
    )
    handler = AsyncSocketModeHandler(runtime.bolt, settings.slack_app_token)
    try:
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await stop_dispatching(scheduler, runtime.dispatcher)
        await handler.close_async()  # type: ignore[no-untyped-call]
        await runtime.close()


async def run_worker(settings: Settings, *, metrics_at: tuple[str, int] | None = None) -> None:
    """The dispatcher alone, until SIGTERM or SIGINT: for scaling sends apart from the web.

    `metrics_at` (host, port) serves what this worker counts (check-ins sent, failed and
    deferred; Slack API errors) for Prometheus; the outbox gauges come from the web replicas.
    """
    runtime = prepared_runtime(settings)
    exporter = (
        start_http_server(metrics_at[1], metrics_at[0], registry=runtime.metrics.registry)
        if metrics_at
        else None
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await runtime.open()
    scheduler = start_dispatching(
        runtime.dispatcher, interval_seconds=settings.dispatch_interval_seconds
    )
    logger.info(
        "worker %s sweeping every %ss", runtime.dispatcher.owner, settings.dispatch_interval_seconds
    )
    try:
        await stop.wait()
    finally:
        await stop_dispatching(scheduler, runtime.dispatcher)
        await runtime.close()
        runtime.engine.dispose()
        if exporter is not None:
            exporter[0].shutdown()
        logger.info("worker %s stopped", runtime.dispatcher.owner)

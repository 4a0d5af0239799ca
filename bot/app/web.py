"""The ASGI app: health, readiness and metrics, and the endpoints of each platform served:
Slack's behind its guard (and, installed in several workspaces, its install page and its
redirect back), Teams' /api/messages."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncBoltRequest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.app.runtime import Runtime, SlackSide
from bot.core import logs
from bot.core.metrics import CONTENT_TYPE, OUTBOX_QUERY_TIMEOUT_SECONDS, OutboxReading, read_outbox
from bot.core.migrate import schema_state
from bot.core.storage import heartbeats
from bot.slack.bolt_request import EdgeParsedRequest
from bot.slack.guard import (
    BodyTooLarge,
    first_values,
    foreign_reply_url,
    is_signed,
    malformed_reason,
    read_limited_body,
    repeated_header,
    reply_origins,
    slack_body,
)
from bot.slack.install_pages import SECURITY_HEADERS
from bot.slack.listeners import ARRIVED
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.slack.observe import count_request
from bot.teams.admission import Refused, check_admission, check_shape
from bot.teams.endpoint import MESSAGES_PATH
from bot.teams.tokens import TokenRefused
from scheduler.runner import start_dispatching, stop_dispatching
from scheduler.sending_process import SendingProcess

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 2.0


def build_web_app(
    runtime: Runtime, *, run_dispatcher: bool = True, sending_process: bool = False
) -> Starlette:
    """`run_dispatcher`: check-ins are swept and sent from this app's lifespan; in this process,
    or with `sending_process` in a child process (scheduler/sending_process.py) that this
    process wakes for each row it writes. Without it, rows written here are still sent at once
    from here and a `worker` elsewhere sweeps."""
    metrics = runtime.metrics

    async def teams_messages(request: Request) -> Response:
        """Teams' activities. Before the SDK sees one: its shape (400), its token (401, see
        bot.teams.tokens: no blocking I/O, Entra tokens refused) and its tenant and service URL
        (403, bot.teams.admission); then the SDK checks the token again and routes."""
        handler = runtime.teams_endpoint.handlers.get(MESSAGES_PATH)
        if handler is None:  # the SDK mounts it when the app starts (Runtime.open)
            return PlainTextResponse("not ready", status_code=503)
        try:
            activity = json.loads(await read_limited_body(request))
        except BodyTooLarge:
            return PlainTextResponse("request body too large", status_code=413)
        except (ValueError, RecursionError):  # deep nesting overflows json's recursion
            return PlainTextResponse("bad request: not JSON", status_code=400)
        if not isinstance(activity, dict):
            return PlainTextResponse("bad request: not an activity", status_code=400)
        tokens = runtime.teams_endpoint.tokens
        try:
            check_shape(activity)
            if tokens is not None:
                await tokens.check(request.headers.get("authorization", ""), activity)
            check_admission(activity, runtime.services.settings)
        except TokenRefused as refused:
            return JSONResponse({"error": "Unauthorized"}, status_code=refused.status)
        except Refused as refused:
            return PlainTextResponse(refused.reason, status_code=refused.status)
        answer = await handler({"body": activity, "headers": dict(request.headers)})
        if answer["status"] >= 500:
            # The SDK has logged why: an activity that passed its token check but that it
            # could not read (our own handlers never raise into it).
            return PlainTextResponse("bad request: the activity could not be read", 400)
        if answer["body"] is None:
            return Response(status_code=answer["status"])
        return JSONResponse(answer["body"], status_code=answer["status"])

    async def healthz(_request: Request) -> Response:
        ok = await database_answers(runtime)
        return JSONResponse(
            {"database": "ok" if ok else "unavailable"}, status_code=200 if ok else 503
        )

    async def readyz(_request: Request) -> Response:
        reason = await not_ready_reason(runtime)
        if reason is None:
            return JSONResponse({"ready": True})
        return JSONResponse({"ready": False, "reason": reason}, status_code=503)

    async def metrics_page(request: Request) -> Response:
        """Only for a scraper bearing NOTPROMOTED_METRICS_TOKEN: this is the public listener
        (without a token set, /metrics lives on `serve`'s own metrics listener, if any)."""
        token = runtime.services.settings.metrics_token
        if token is None:
            return PlainTextResponse("not found", 404)
        if not bearer_matches(request, token):
            return PlainTextResponse(
                "unauthorized", 401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
            )
        await refresh_outbox_gauges(runtime)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.open()
        scheduler = sender = None
        if run_dispatcher and sending_process:
            sender = SendingProcess(metrics, release=lambda owner: freed_rows(runtime, owner))
            await sender.start()
            runtime.dispatcher.handoff = sender.wake
        elif run_dispatcher:
            scheduler = start_dispatching(
                runtime.dispatcher,
                interval_seconds=runtime.services.settings.dispatch_interval_seconds,
            )
        try:
            yield
        finally:
            if scheduler is not None:
                await stop_dispatching(scheduler, runtime.dispatcher)
            if sender is not None:  # after the last request: it sends what they handed over
                await sender.stop()
            await runtime.close()

    # Each platform's paths only where it is served: elsewhere they are a plain 404.
    routes = slack_routes(runtime, runtime.slack) if runtime.slack is not None else []
    if runtime.teams is not None:
        routes.append(Route(MESSAGES_PATH, teams_messages, methods=["POST"]))
        routes += home_tab_routes(runtime)
    routes += [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(RequestIdMiddleware)], lifespan=lifespan)


def slack_routes(runtime: Runtime, slack: SlackSide) -> list[Route]:
    """Slack's endpoint behind its guard, and (installed in several workspaces) its install
    page and the redirect back."""
    metrics = runtime.metrics
    secret = runtime.services.settings.slack_signing_secret or ""
    replies_to = reply_origins(runtime.services.settings.slack_api_url)

    async def slack_events(request: Request) -> Response:
        arrived = time.perf_counter()
        # On Bolt's own clock: it times its wait for an acknowledgement with time.time(), and
        # the catch-all listeners compare against that wait (listeners.arrived_in_time).
        arrived_wall = time.time()
        try:
            body = await read_limited_body(request)
        except BodyTooLarge:
            return PlainTextResponse("request body too large", status_code=413)
        if not is_signed(secret, body, request.headers):
            return PlainTextResponse("invalid signature", status_code=401)
        repeated = repeated_header(request.headers)
        if repeated is not None:
            logger.info("refused a signed Slack request with two %s headers", repeated)
            return PlainTextResponse(f"bad request: more than one {repeated}", status_code=400)
        content_type = request.headers.get("content-type", "")
        reason = malformed_reason(body, content_type)
        if reason is not None:
            logger.info("refused a signed but malformed Slack request: %s", reason)
            return PlainTextResponse("bad request", status_code=400)
        try:
            parsed = slack_body(body, content_type)
        except ValueError:
            return PlainTextResponse("bad request", status_code=400)
        if foreign_reply_url(parsed, replies_to):
            logger.info("refused a signed Slack request whose response URL is not Slack's")
            return PlainTextResponse("bad request: response URL", status_code=400)
        try:
            bolt_request = EdgeParsedRequest(
                raw_body=body.decode("utf-8"),
                body=parsed,
                query=dict(request.query_params),
                headers=first_values(request.headers),
                context={ARRIVED: arrived_wall},
            )
        except Exception:
            logger.exception("Bolt could not read a signed request")
            return PlainTextResponse("bad request", status_code=400)
        is_command = count_request(metrics, bolt_request.body)
        try:
            # Someone is waiting for this answer: the dispatcher's sending steps aside.
            with runtime.dispatcher.answering():
                bolt_response = await slack.bolt.async_dispatch(bolt_request)
        except Exception:
            logger.exception("Bolt could not handle a signed request")
            return PlainTextResponse("bad request", status_code=400)
        if is_command:  # async_dispatch returns once the listener has acknowledged
            metrics.ack_latency.observe(time.perf_counter() - arrived)
        if (
            bolt_response.status == 404
        ):  # nothing listens for it: acknowledge, don't make Slack retry
            return Response(status_code=200)
        return to_starlette_response(bolt_response)

    async def slack_install(request: Request) -> Response:
        """The install page and Slack's way back (several-workspace installs only)."""
        assert slack.installs is not None  # mounted only then
        flow = slack.installs.flow
        bolt_request = AsyncBoltRequest(
            body="",
            query=request.url.query,
            headers={key: value for key, value in request.headers.items()},
        )
        if request.url.path == INSTALL_PATH:
            answer = to_starlette_response(await flow.handle_installation(bolt_request))
        else:
            answer = to_starlette_response(await flow.handle_callback(bolt_request))
        answer.headers.update(SECURITY_HEADERS)
        return answer

    routes = [Route("/slack/events", slack_events, methods=["POST"])]
    if slack.installs is not None:
        routes += [
            Route(INSTALL_PATH, slack_install, methods=["GET"]),
            Route(REDIRECT_PATH, slack_install, methods=["GET"]),
        ]
    return routes


def home_tab_routes(runtime: Runtime) -> list[Route]:
    """The Teams Home tab (bot.teams.tab_page), where TEAMS_TAB_DOMAIN names its host."""
    from bot.teams.tab_auth import tab_tokens
    from bot.teams.tab_page import tab_routes

    settings = runtime.services.settings
    tokens = tab_tokens(settings, runtime.metrics)
    if tokens is None or runtime.teams_listeners is None:
        logger.info("Teams is served without its Home tab: TEAMS_TAB_DOMAIN is not set")
        return []
    return tab_routes(runtime.teams_listeners, tokens, settings)


async def freed_rows(runtime: Runtime, owner: str) -> int:
    """The rows a dead sending process held, handed back at once (bot.core.storage.heartbeats)."""

    def free() -> int:
        with runtime.services.sessions.begin() as session:
            return heartbeats.release_rows_of(session, owner=owner)

    return await asyncio.to_thread(free)


class RequestIdMiddleware:
    """Gives each HTTP request an id for its log lines (the caller's X-Request-Id when sane),
    and sends it back in the response's X-Request-Id header.

    Plain ASGI rather than BaseHTTPMiddleware: nothing is buffered, and the context variable is
    set in the task Bolt's listeners are started from, so their later log lines carry it too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (
                value.decode("latin-1")
                for name, value in scope.get("headers", [])
                if name == b"x-request-id"
            ),
            None,
        )
        current = logs.accepted_request_id(incoming)
        token = logs.request_id.set(current)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", current.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


def bearer_matches(request: Request, token: str) -> bool:
    """Does the request carry `Authorization: Bearer <token>`? Compared in constant time."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


async def database_answers(runtime: Runtime) -> bool:
    def ping() -> None:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        # A probe waits for its answer like a person does: it goes before queued sending.
        probe = asyncio.wrap_future(runtime.services.blocking.submit_first(ping))
        await asyncio.wait_for(probe, HEALTH_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("health check: the database does not answer", exc_info=True)
        return False
    return True


async def not_ready_reason(runtime: Runtime) -> str | None:
    """None when the database answers and its schema is at the migrations' head, or ahead of
    it (a newer release migrated it during a rolling upgrade: this one serves until replaced)."""
    try:
        state = await asyncio.wait_for(
            asyncio.to_thread(schema_state, runtime.engine), HEALTH_TIMEOUT_SECONDS
        )
    except Exception:
        logger.warning("readiness check: the database does not answer", exc_info=True)
        return "the database does not answer"
    if state == "behind":
        return "the database schema is not at the latest migration: run `notpromoted db upgrade`"
    return None


def outbox_now(runtime: Runtime) -> OutboxReading:
    """The waiting check-ins and the dispatcher's lag, read now (blocking: off the loop)."""
    with runtime.services.sessions.begin() as session:
        return read_outbox(session, now=runtime.services.clock())


async def refresh_outbox_gauges(runtime: Runtime) -> None:
    """Read the waiting check-ins and the dispatcher's lag for this scrape, within a limit."""
    try:
        reading = await asyncio.wait_for(
            asyncio.to_thread(outbox_now, runtime), OUTBOX_QUERY_TIMEOUT_SECONDS
        )
    except Exception:
        logger.warning("metrics: the outbox could not be read", exc_info=True)
        runtime.metrics.set_outbox(None)
        return
    runtime.metrics.set_outbox(reading)

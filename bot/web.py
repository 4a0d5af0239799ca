"""The ASGI app: Slack's endpoint behind its guard, Teams' endpoint, and the health check."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncBoltRequest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime
from bot.slack.guard import BodyTooLarge, is_signed, malformed_reason, read_limited_body
from bot.teams.endpoint import MESSAGES_PATH
from scheduler.runner import start_dispatching, stop_dispatching

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 2.0


def build_web_app(runtime: Runtime, *, run_dispatcher: bool = True) -> Starlette:
    secret = runtime.services.settings.slack_signing_secret or ""

    async def slack_events(request: Request) -> Response:
        try:
            body = await read_limited_body(request)
        except BodyTooLarge:
            return PlainTextResponse("request body too large", status_code=413)
        if not is_signed(secret, body, request.headers):
            return PlainTextResponse("invalid signature", status_code=401)
        reason = malformed_reason(body, request.headers.get("content-type", ""))
        if reason is not None:
            logger.info("refused a signed but malformed Slack request: %s", reason)
            return PlainTextResponse("bad request", status_code=400)
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8"),
            query=dict(request.query_params),
            headers={key: value for key, value in request.headers.items()},
        )
        try:
            bolt_response = await runtime.bolt.async_dispatch(bolt_request)
        except Exception:
            logger.exception("Bolt could not handle a signed request")
            return PlainTextResponse("bad request", status_code=400)
        if (
            bolt_response.status == 404
        ):  # nothing listens for it: acknowledge, don't make Slack retry
            return Response(status_code=200)
        return to_starlette_response(bolt_response)

    async def teams_messages(request: Request) -> Response:
        """Teams' activities: the SDK checks the token and routes; we guard what it cannot."""
        handler = runtime.teams_endpoint.handlers.get(MESSAGES_PATH)
        if handler is None:
            return JSONResponse(
                {
                    "error": "Teams is not configured on this server: set TEAMS_CLIENT_ID, "
                    "TEAMS_CLIENT_SECRET and TEAMS_TENANT_ID"
                },
                status_code=401,
            )
        try:
            activity = json.loads(await read_limited_body(request))
        except BodyTooLarge:
            return PlainTextResponse("request body too large", status_code=413)
        except ValueError:
            return PlainTextResponse("bad request: not JSON", status_code=400)
        if not isinstance(activity, dict):
            return PlainTextResponse("bad request: not an activity", status_code=400)
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

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.open()
        scheduler = (
            start_dispatching(
                runtime.dispatcher,
                interval_seconds=runtime.services.settings.dispatch_interval_seconds,
            )
            if run_dispatcher
            else None
        )
        try:
            yield
        finally:
            if scheduler is not None:
                await stop_dispatching(scheduler, runtime.dispatcher)
            await runtime.close()

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route(MESSAGES_PATH, teams_messages, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


async def database_answers(runtime: Runtime) -> bool:
    def ping() -> None:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), HEALTH_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("health check: the database does not answer", exc_info=True)
        return False
    return True

"""The baseline for bench/ack_latency.py: a Bolt app whose /notpromoted only acknowledges.

The same server stack as `notpromoted serve`: Bolt's AsyncApp behind Starlette, under one
uvicorn process, checking signatures with the same secret. It does nothing else.

    python bench/bare_bolt.py --port 3100 --api-url http://127.0.0.1:PORT/api/
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build(api_url: str, secret: str, token: str) -> Starlette:
    bolt = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url),
        signing_secret=secret,
        name="bare",
    )

    @bolt.command("/notpromoted")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    app = build(args.api_url, os.environ["SLACK_SIGNING_SECRET"], os.environ["SLACK_BOT_TOKEN"])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", log_config=None)


if __name__ == "__main__":
    main()

"""Socket Mode: the stand-in hands out a ws://127.0.0.1 URL; a slash command arrives over it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve

from bot.app.serve import run_socket_mode
from bot.demo.slack_standin import SlackStandIn
from tests.conftest import make_settings, text_of

ENVELOPE = "8f4b7e6a-socket-envelope"


class SocketStandIn:
    """Sends `hello`, then one slash-command envelope, and keeps what the bot answers."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.acked = threading.Event()

    async def session(self, connection: ServerConnection) -> None:
        await connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}))
        command = {
            "token": "unused",
            "team_id": "T0TEST",
            "team_domain": "standin",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": "U0SOCK",
            "user_name": "sock",
            "command": "/notpromoted",
            "text": "",
            "api_app_id": "A0NEXTSTEP",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "1.2.3",
        }
        await connection.send(
            json.dumps(
                {
                    "envelope_id": ENVELOPE,
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": command,
                }
            )
        )
        try:
            async for raw in connection:
                message = json.loads(raw)
                if message.get("envelope_id") == ENVELOPE:
                    self.acks.append(message)
                    self.acked.set()
        except websockets.ConnectionClosed:
            return


def test_a_slash_command_over_socket_mode_is_acknowledged_and_answered(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    socket_side = SocketStandIn()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    ports: list[int] = []

    async def run_websocket() -> None:
        async with serve(socket_side.session, "127.0.0.1", 0) as server:
            ports.append(server.sockets[0].getsockname()[1])
            ready.set()
            await stop.wait()

    ws_thread = threading.Thread(
        target=loop.run_until_complete, args=(run_websocket(),), daemon=True
    )
    ws_thread.start()
    assert ready.wait(5)
    standin.socket_url = f"ws://127.0.0.1:{ports[0]}/link"

    settings = make_settings(
        standin,
        slack_app_token="xapp-test-token",
        slack_signing_secret=None,
        database_url=f"sqlite:///{tmp_path / 'socket.db'}",
    )

    async def run_until_cancelled() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await run_socket_mode(settings)

    bot_loop = asyncio.new_event_loop()
    task = bot_loop.create_task(run_until_cancelled())
    bot_thread = threading.Thread(target=bot_loop.run_until_complete, args=(task,), daemon=True)
    bot_thread.start()
    try:
        assert socket_side.acked.wait(10), "the bot never acknowledged the envelope"
        [ack] = socket_side.acks
        assert ack["envelope_id"] == ENVELOPE
        assert "direct message" in json.dumps(ack["payload"])
        assert standin.wait_for(lambda: len(standin.dms_to("U0SOCK")) == 1, 10)
        assert "Step 1 of 10" in text_of(standin.dms_to("U0SOCK")[0].blocks)
        [opened] = standin.calls_to("apps.connections.open")
        assert opened.token == "xapp-test-token"
    finally:
        bot_loop.call_soon_threadsafe(task.cancel)
        bot_thread.join(10)
        loop.call_soon_threadsafe(stop.set)
        ws_thread.join(10)

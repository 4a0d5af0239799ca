"""The `notpromoted` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dotenv import dotenv_values

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging

logger = logging.getLogger("notpromoted")


def read_environment(env_file: Path = Path(".env")) -> dict[str, str]:
    """`.env` first, the real environment over it: read once, at start."""
    values = (
        {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        if env_file.exists()
        else {}
    )
    values.update(os.environ)
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notpromoted", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("demo", help="play a journey against a local stand-in for Slack (no setup)")

    serve = commands.add_parser("serve", help="serve Slack's HTTP endpoint and send check-ins")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 (a server)
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument(
        "--no-dispatcher", action="store_true", help="web only; run `worker` elsewhere"
    )

    commands.add_parser("socket", help="connect with Socket Mode (no public URL needed)")

    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument(
        "--url", help="public base URL, e.g. https://bot.example.com (without: Socket Mode)"
    )

    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_commands.add_parser("upgrade", help="apply the migrations")

    content = commands.add_parser("content", help="guidance content tasks")
    content_commands = content.add_subparsers(dest="content_command", required=True, metavar="TASK")
    check = content_commands.add_parser("check", help="load and validate the content files")
    check.add_argument("--dir", type=Path, help="a content folder (default: the configured one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(read_environment())
        configure_logging(settings.log_level)
        return _run(args, settings)
    except ConfigError as error:
        print(f"notpromoted: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        run_demo(sys.stdout)
        return 0
    if args.command == "manifest":
        from bot.slack.manifest import manifest_json

        if args.url is not None and not args.url.startswith("https://"):
            raise ConfigError("manifest --url must be the app's public https:// address")
        print(manifest_json(settings.display_name, base_url=args.url))
        return 0
    if args.command == "content":
        from messages.loader import ContentError, load_content

        try:
            content = load_content(args.dir or settings.content_dir)
        except ContentError as error:
            print(f"notpromoted: {error}", file=sys.stderr)
            return 1
        print(f"ok: {len(content.stage_order)} stages in {', '.join(sorted(content.locales))}")
        return 0
    if args.command == "db":
        from bot.db import make_engine
        from bot.migrate import upgrade

        upgrade(make_engine(settings.database_url))
        print("database is up to date")
        return 0
    if args.command == "serve":
        from bot.serve import serve

        settings.require_http()
        serve(
            settings,
            host=args.host,
            port=args.port or settings.port,
            dispatcher=not args.no_dispatcher,
        )
        return 0
    if args.command == "socket":
        from bot.serve import run_socket_mode

        settings.require_socket()
        asyncio.run(run_socket_mode(settings))
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())

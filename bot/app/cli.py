"""The `notpromoted` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dotenv import dotenv_values

from bot.core.config import ConfigError, Settings
from bot.core.config_loading import load_settings
from bot.core.logs import configure_logging
from bot.core.report import Month, ReportRangeError
from messages.content import language_tag
from messages.loader import ContentError, load_content

if TYPE_CHECKING:
    from bot.demo.script import Script
    from bot.demo.story import ContentChoice

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


PLATFORM_HELP = "default: teams where only Teams is configured, else slack"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notpromoted", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="play a journey against a local stand-in for Slack or Teams (no setup)"
    )
    demo.add_argument(
        "--teams",
        action="store_true",
        help="through Teams' endpoint, against a stand-in for Microsoft Teams",
    )
    demo.add_argument(
        "--locale",
        metavar="LANG",
        help="play it in this language (de, en, es, fr; default: NOTPROMOTED_DEFAULT_LOCALE)",
    )

    serve = commands.add_parser(
        "serve", help="serve Slack's and/or Teams' HTTP endpoint and send check-ins"
    )
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 (a server)
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument(
        "--no-dispatcher", action="store_true", help="web only; run `worker` elsewhere"
    )

    commands.add_parser("socket", help="connect with Socket Mode (no public URL needed)")
    worker = commands.add_parser(
        "worker", help="send due check-ins only (no HTTP endpoint); run any number"
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve this worker's Prometheus metrics at http://HOST:PORT/metrics",
    )
    worker.add_argument("--metrics-host", default="127.0.0.1")
    # How `serve` starts its own sending process (scheduler/sending_process.py).
    worker.add_argument("--beside-web", action="store_true", help=argparse.SUPPRESS)
    worker.add_argument("--owner", help=argparse.SUPPRESS)

    checkins = commands.add_parser("checkins", help="what is scheduled")
    checkins_commands = checkins.add_subparsers(
        dest="checkins_command", required=True, metavar="TASK"
    )
    listing = checkins_commands.add_parser("list", help="pending check-ins, soonest first")
    listing.add_argument("--user", help="only this person's (their Slack user id)")
    listing.add_argument(
        "--due-before", type=_moment, help="only those due before this ISO time (UTC if no offset)"
    )

    hours = commands.add_parser("workspace-hours", help="show or set a workspace's working time")
    hours.add_argument("workspace", help="the Slack team id (T...) or Teams tenant id")
    hours.add_argument("hours", nargs="?", help="e.g. 08:00-16:00")
    hours.add_argument("days", nargs="?", help="e.g. mon-fri or sun-thu")
    hours.add_argument("--platform", choices=("slack", "teams"), help=PLATFORM_HELP)

    trail = commands.add_parser(
        "audit", help="the manager flow's audit trail: grants, meetings, refusals, answers"
    )
    trail.add_argument("--since", type=_moment, help="from this ISO time (UTC if no offset)")
    trail.add_argument(
        "--user", help="only rows naming this user id (found too after they erased their data)"
    )
    trail.add_argument("--json", action="store_true", help="one JSON object per line")

    for name, what in (
        ("export", "print everything kept about one person, as JSON (an HR or DPO request)"),
        ("erase", "erase everything kept about one person (an HR or DPO request)"),
    ):
        request = commands.add_parser(name, help=what)
        request.add_argument(
            "--user", required=True, help="their user id: Slack U0123ABCD, Teams an Entra object id"
        )
        request.add_argument(
            "--workspace", help="the Slack team id (T...) or Teams tenant, if known in several"
        )
        request.add_argument("--platform", choices=("slack", "teams"), help=PLATFORM_HELP)
        request.add_argument(
            "--operator", help="who is running this, for the audit trail (default: your login)"
        )
        if name == "erase":
            request.add_argument(
                "--yes", action="store_true", help="really erase (without it: say what would go)"
            )

    report = commands.add_parser(
        "report", help="the HR report: people per month at each step, small counts hidden"
    )
    report.add_argument("--from", dest="first", type=_month, help="first month, e.g. 2026-01")
    report.add_argument(
        "--to", dest="last", type=_month, help="last month (default: the last complete one)"
    )
    report.add_argument("--workspace", help="one workspace only (default: all)")
    report.add_argument("--platform", choices=("slack", "teams"), help=PLATFORM_HELP)
    report.add_argument("--json", action="store_true", help="as JSON; hidden counts are null")

    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument(
        "--url", help="public base URL, e.g. https://bot.example.com (without: Socket Mode)"
    )
    manifest.add_argument(
        "--token-rotation",
        action="store_true",
        help="Slack's expiring tokens, for installing in several workspaces (can't be undone)",
    )

    commands.add_parser(
        "rotate-key",
        help="encrypt every stored Slack token with NOTPROMOTED_ENCRYPTION_KEY "
        "(after moving the old key to NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS)",
    )

    package = commands.add_parser(
        "teams-package", help="build the Teams app package (manifest.json and icons, zipped)"
    )
    package.add_argument(
        "--url", required=True, help="public base URL, e.g. https://bot.example.com"
    )
    package.add_argument("--out", type=Path, default=Path("notpromoted-teams.zip"))
    package.add_argument("--developer", default="notpromoted", help="publisher name shown in Teams")
    package.add_argument("--privacy-url", help="your privacy statement (default: --url)")
    package.add_argument("--terms-url", help="your terms of use (default: --url)")
    package.add_argument("--version", default="1.0.0", help="raise it for each new upload")

    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_commands.add_parser("upgrade", help="apply the migrations")

    content = commands.add_parser("content", help="guidance content tasks")
    content_commands = content.add_subparsers(dest="content_command", required=True, metavar="TASK")
    check = content_commands.add_parser("check", help="load and validate the content files")
    check.add_argument("--dir", type=Path, help="a content folder (default: the configured one)")
    return parser


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ReportRangeError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# The long-running modes log for a collector by default; the rest for a person at a terminal.
JSON_LOG_COMMANDS = frozenset({"serve", "socket", "worker"})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(read_environment())
        default_format = "json" if args.command in JSON_LOG_COMMANDS else "text"
        configure_logging(settings.log_level, settings.log_format or default_format)
        return _run(args, settings)
    except (ConfigError, ContentError) as error:
        print(f"notpromoted: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "platform", "") is None:
        args.platform = settings.default_platform
    if args.command == "demo":
        from bot.demo.story import DemoStopped

        script, chosen = _demo_language(args.locale or settings.default_locale, settings)
        try:
            if args.teams:
                from bot.demo.teams_player import run_teams_demo

                run_teams_demo(sys.stdout, script, chosen)
            else:
                from bot.demo.player import run_demo

                run_demo(sys.stdout, script, chosen)
        except DemoStopped as stopped:
            print(f"notpromoted demo: it stopped: {stopped}", file=sys.stderr)
            return 1
        return 0
    if args.command == "manifest":
        from bot.slack.manifest import manifest_json

        if args.url is not None and not args.url.startswith("https://"):
            raise ConfigError("manifest --url must be the app's public https:// address")
        if args.token_rotation and args.url is None:
            raise ConfigError("manifest --token-rotation is for installing with --url (OAuth)")
        print(
            manifest_json(
                settings.display_name, base_url=args.url, token_rotation=args.token_rotation
            )
        )
        return 0
    if args.command == "teams-package":
        from bot.teams.package import build_manifest, build_package

        if not settings.teams_client_id:
            raise ConfigError("TEAMS_CLIENT_ID is not set: the package names the bot by its id")
        urls = [args.url, args.privacy_url or args.url, args.terms_url or args.url]
        if not all(url.startswith("https://") for url in urls):
            raise ConfigError("teams-package URLs must be https:// addresses")
        content = load_content(settings.content_dir, default_locale=settings.default_locale)
        manifest = build_manifest(
            content=content,
            app_id=settings.teams_client_id,
            display_name=settings.display_name,
            base_url=args.url,
            developer=args.developer,
            privacy_url=urls[1],
            terms_url=urls[2],
            version=args.version,
        )
        args.out.write_bytes(build_package(manifest, content))
        print(f"wrote {args.out}: upload it in Teams (Apps > Manage your apps > Upload an app)")
        return 0
    if args.command == "content":
        from messages.content_check import check_content

        try:
            content = load_content(
                args.dir or settings.content_dir, default_locale=settings.default_locale
            )
        except ContentError as error:
            print(f"notpromoted: {error}", file=sys.stderr)
            return 1
        problems = check_content(content)
        for problem in problems:
            print(f"notpromoted: {problem}", file=sys.stderr)
        if problems:
            print(f"notpromoted: {len(problems)} problem(s) in the content", file=sys.stderr)
            return 1
        print(f"ok: {len(content.stage_order)} stages in {', '.join(sorted(content.locales))}")
        return 0
    if args.command == "db":
        from bot.core.db import make_engine
        from bot.core.migrate import upgrade

        upgrade(make_engine(settings.database_url))
        print("database is up to date")
        return 0
    if args.command == "serve":
        from bot.app.serve import serve

        settings.require_http()
        settings.require_secret_key()
        serve(
            settings,
            host=args.host,
            port=args.port or settings.port,
            dispatcher=not args.no_dispatcher,
        )
        return 0
    if args.command == "worker":
        from bot.app.serve import run_worker

        settings.require_sending()
        settings.require_secret_key()
        metrics_at = (args.metrics_host, args.metrics_port) if args.metrics_port else None
        asyncio.run(
            run_worker(
                settings, metrics_at=metrics_at, beside_web=args.beside_web, owner=args.owner
            )
        )
        return 0
    if args.command == "checkins":
        from bot.app.operator_commands import print_checkins

        print_checkins(settings, user=args.user, due_before=args.due_before, out=sys.stdout)
        return 0
    if args.command == "audit":
        from bot.app.operator_commands import print_audit

        print_audit(settings, since=args.since, user=args.user, as_json=args.json, out=sys.stdout)
        return 0
    if args.command in ("export", "erase"):
        from bot.app import data_requests

        request = data_requests.Request(
            platform=args.platform,
            user_id=args.user.strip(),
            workspace_id=args.workspace.strip() if args.workspace else None,
            operator=data_requests.operator_name(args.operator),
        )
        if args.command == "export":
            return data_requests.export_person(settings, request, out=sys.stdout, err=sys.stderr)
        return data_requests.erase_person_data(
            settings, request, confirmed=args.yes, out=sys.stdout, err=sys.stderr
        )
    if args.command == "report":
        from bot.app.operator_commands import print_report

        return print_report(
            settings,
            first=args.first,
            last=args.last,
            platform=args.platform,
            workspace=args.workspace,
            as_json=args.json,
            out=sys.stdout,
            err=sys.stderr,
        )
    if args.command == "workspace-hours":
        from bot.app.operator_commands import workspace_hours

        print(workspace_hours(settings, args.platform, args.workspace, args.hours, args.days))
        return 0
    if args.command == "socket":
        from bot.app.serve import run_socket_mode

        settings.require_socket()
        settings.require_secret_key()
        asyncio.run(run_socket_mode(settings))
        return 0
    if args.command == "rotate-key":
        from bot.app.operator_commands import rotate_key

        return rotate_key(settings, out=sys.stdout)
    raise AssertionError(args.command)


def _demo_language(wanted: str, settings: Settings) -> tuple[Script, ContentChoice]:
    """The demo's narration and the content it plays, in the language asked for: the content
    must have it (the deployment's folder when NOTPROMOTED_CONTENT_DIR is set); a language the
    demo's narrator does not speak is narrated in English."""
    from bot.demo.script import UnknownScript, load_script
    from bot.demo.story import ContentChoice

    if language_tag(wanted) is None:
        raise ConfigError(f"demo --locale must be a language tag like de or fr-FR, got {wanted!r}")
    loaded = load_content(settings.content_dir, default_locale=settings.default_locale)
    folder = loaded.folder_for(wanted)
    if folder is None:
        raise ConfigError(
            f"the content has no {wanted!r}; it has {', '.join(sorted(loaded.locales))}"
        )
    try:
        script = load_script(folder)
    except UnknownScript:
        script = replace(load_script(), locale=wanted)
    return script, ContentChoice(settings.content_dir, settings.default_locale)


if __name__ == "__main__":
    raise SystemExit(main())

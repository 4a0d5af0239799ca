"""Operator commands: what is scheduled, a workspace's working time, the audit trail, the
HR report, and re-encrypting the stored tokens after a key change."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.core import audit
from bot.core.checkin_planning import find_workspace, working_time
from bot.core.config import ConfigError, Settings
from bot.core.db import make_sessions
from bot.core.encryption import TokenCipher
from bot.core.migrate import ready_engine
from bot.core.models import Platform, Workspace
from bot.core.report import Month, ReportRangeError, Scope, build_report, count_people, report_range
from bot.core.storage.checkins import list_checkins
from bot.core.working_calendar import parse_hours, parse_weekdays, person_zone
from bot.slack.installations import reseal_tokens


def print_checkins(
    settings: Settings, *, user: str | None, due_before: datetime | None, out: TextIO
) -> int:
    """One line per pending check-in: when (UTC and the person's time), who, what, tries."""
    engine = ready_engine(settings.database_url)
    try:
        with make_sessions(engine).begin() as session:
            rows = list_checkins(session, user_id=user, due_before=due_before)
            zones = [person_zone(p.zone_name, settings.default_time_zone) for _, p in rows]
            # "Mon 07 Dec 09:00 " and the zone's whole name, however long.
            width = 17 + max((len(zone.key) for zone in zones), default=5)
            header = ("id", "due (UTC)", "their time", "user", "what", "status", "tries")
            print(
                f"{{:>7}}  {{:16}}  {{:{width}}}  {{:12}}  {{:22}}  {{:8}}  {{}}".format(*header),
                file=out,
            )
            for (checkin, person), zone in zip(rows, zones, strict=True):
                local = checkin.due_at.astimezone(zone)
                what = (checkin.stage_id and f"{checkin.kind}:{checkin.stage_id}") or checkin.kind
                when = f"{local:%a %d %b %H:%M} {zone.key}"
                print(
                    f"{checkin.id:>7}  {checkin.due_at:%Y-%m-%d %H:%M}  {when:{width}}  "
                    f"{person.user_id:12}  {what:22}  {checkin.status:8}  {checkin.attempts}",
                    file=out,
                )
            print(f"{len(rows)} pending", file=out)
            return len(rows)
    finally:
        engine.dispose()


def print_audit(
    settings: Settings,
    *,
    since: datetime | None,
    user: str | None,
    as_json: bool,
    out: TextIO,
) -> int:
    """The audit trail, oldest first; `user` matches their id, or its hash once erased."""
    if user is not None and settings.secret_key is None:
        print(
            "notpromoted: NOTPROMOTED_SECRET_KEY is not set: rows of erased people can't be found",
            file=sys.stderr,
        )
    engine = ready_engine(settings.database_url)
    try:
        with make_sessions(engine).begin() as session:
            rows = audit.entries(session, since=since, user_id=user, key=settings.secret_key)
            if not as_json:
                header = ("when (UTC)", "workspace", "who", "for whom", "other", "what", "outcome")
                print("{:19}  {:11}  {:12}  {:12}  {:12}  {:9}  {}".format(*header), file=out)
            for row in rows:
                if as_json:
                    record = row.model_dump(exclude={"id"})
                    record["at"] = row.at.isoformat()
                    print(json.dumps(record, sort_keys=True), file=out)
                    continue
                outcome = f"{row.outcome} ({row.reason})" if row.reason else row.outcome
                print(
                    f"{row.at:%Y-%m-%d %H:%M:%S}  {row.workspace_id:11}  {_short(row.actor):12}  "
                    f"{_short(row.subject):12}  {_short(row.other):12}  {row.action:9}  {outcome}",
                    file=out,
                )
            if not as_json:
                print(f"{len(rows)} rows", file=out)
            return len(rows)
    finally:
        engine.dispose()


def _short(user: str | None) -> str:
    """An id as it is; a hash (an erased person) shortened to stay readable."""
    if user is None:
        return "-"
    return user[:12] + "…" if user.startswith(audit.HASH_PREFIX) else user


def workspace_hours(
    settings: Settings, platform: str, workspace_id: str, hours: str | None, days: str | None
) -> str:
    if hours is not None and parse_hours(hours) is None:
        raise ConfigError(f"working hours must look like 08:00-16:00, got {hours!r}")
    if days is not None and parse_weekdays(days) is None:
        raise ConfigError(f"working days must look like mon-fri or sun-thu, got {days!r}")
    engine = ready_engine(settings.database_url)
    try:
        with make_sessions(engine).begin() as session:
            workspace = find_workspace(session, platform=platform, workspace_id=workspace_id)
            if hours is not None:
                if workspace is None:
                    workspace = Workspace(platform=platform, workspace_id=workspace_id)
                workspace.work_hours = hours
                workspace.work_days = days.lower() if days else workspace.work_days
                session.add(workspace)
            working = working_time(settings.working_time, workspace=workspace)
            end = (
                "24:00"
                if working.end.hour == 23 and working.end.minute == 59
                else f"{working.end:%H:%M}"
            )
            names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            return (
                f"{platform} {workspace_id}: {working.start:%H:%M}-{end}, "
                f"{','.join(names[d] for d in sorted(working.days))}"
            )
    finally:
        engine.dispose()


def print_report(
    settings: Settings,
    *,
    first: Month | None,
    last: Month | None,
    platform: str,
    workspace: str | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """The HR report (bot/report.py), as a table or JSON; 1 for a range it can't cover."""
    from handlers.admin_report import report_table
    from messages.loader import load_content

    try:
        months = report_range(datetime.now(UTC), first, last)
    except ReportRangeError as error:
        print(f"notpromoted: {error}", file=err)
        return 1
    scope = Scope(platform, workspace) if workspace else None
    engine = ready_engine(settings.database_url)
    try:
        with make_sessions(engine).begin() as session:
            counts = count_people(session, months=months, scope=scope)
    finally:
        engine.dispose()
    report = build_report(counts, months, min_cell=settings.report_min_cell)
    if as_json:
        print(json.dumps(report.as_json(), indent=2), file=out)
        return 0
    content = load_content(settings.content_dir, default_locale=settings.default_locale)
    locale = content.for_locale(None, Platform.SLACK)
    print(locale.text("report_intro", min_cell=report.min_cell), file=out)
    print(file=out)
    print(report_table(report, locale), file=out)
    print(file=out)
    print(locale.text("report_legend"), file=out)
    return 0


def rotate_key(settings: Settings, *, out: TextIO) -> int:
    """Seal every stored Slack token with the current key; 1 if some no key opens."""
    cipher = TokenCipher(settings.require_encryption_keys())
    engine = ready_engine(settings.database_url)
    try:
        report = reseal_tokens(engine, cipher)
    finally:
        engine.dispose()
    print(
        f"re-encrypted {report.resealed} stored secrets with the current key "
        f"({report.current} already were)",
        file=out,
    )
    if report.unreadable:
        print(
            f"notpromoted: {report.unreadable} stored secrets open with none of the configured "
            "keys and were left as they are: add the key they were encrypted with to "
            "NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS and run this again",
            file=sys.stderr,
        )
        return 1
    return 0

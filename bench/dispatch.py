"""Check-in dispatch: our outbox sweep against one APScheduler job per check-in.

    python bench/dispatch.py --rows 10000 100000 [--database sqlite|postgres] [--baseline-rows N]

Every measurement runs in a fresh child process (the database is filled by another child
first), so a peak RSS is that run's alone. The Slack stand-in runs in the measured process,
on a thread of its own, as in the tests; it counts posts and forgets them, so its own memory
stays flat. The parent prints a table and the ratios.

Ours: N persons, journeys and stage check-ins, all due an hour ago, profiles fresh, then one
`Dispatcher.run_once()` (it claims rows as its slots free until nothing is due), its heartbeat
beating as a worker's does. The baseline is what a user would
otherwise write: one `DateTrigger` job per check-in in an `SQLAlchemyJobStore`, added by one
process and run by the next (a restart with a backlog), each job posting the same message
with the same `chat.postMessage` call; once with `misfire_grace_time=None` and once with
APScheduler's default grace of 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine, func, insert, select, text
from sqlmodel import SQLModel, col

from bot.core.config import Settings
from bot.core.db import make_engine, make_sessions
from bot.core.dependencies import Services
from bot.core.ids import MESSAGE_METADATA_TYPE
from bot.core.migrate import upgrade
from bot.core.models import Checkin, CheckinStatus, JourneyStatus, Platform
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_http import _make_handler, _QuietServer
from bot.demo.slack_standin_records import Payload
from bot.slack.blocks import build_message_blocks
from bot.slack.client import close_shared_session, make_web_client, open_shared_session
from bot.slack.sender import SlackSender
from handlers.neutral_messages import stage_message
from handlers.outbox import OutboxComposer
from messages.content import Content
from messages.loader import load_content
from scheduler.dispatcher import Dispatcher

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOKEN = "xoxb-bench-token"  # noqa: S105 - the stand-in only checks the prefix
WORKSPACE = "T0"
STAGE = "pause"
CHUNK = 5_000
NO_PROGRESS_SECONDS = 30.0
MIB = 1024 * 1024


# -- measuring -----------------------------------------------------------------------------


def current_rss() -> int:
    """Resident set size now, in bytes (VmRSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def peak_rss() -> int:
    """The process's peak resident set size so far, in bytes (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Sampler:
    """Samples VmRSS and the thread count every 0.1 s while the run lasts.

    `trace()` gives RSS at fractions of the run, to tell memory that levels off from memory
    that keeps growing with the rows sent; the threads show the stand-in's connections.
    """

    FRACTIONS = (0.1, 0.25, 0.5, 0.75, 1.0)

    def __init__(self) -> None:
        self.max_threads = threading.active_count()
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter() - self._started, current_rss()))

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.max_threads = max(self.max_threads, threading.active_count())
            self.samples.append((time.perf_counter() - self._started, current_rss()))

    def trace(self) -> list[float]:
        """RSS in MB at the first sample past each of FRACTIONS of the run."""
        end = self.samples[-1][0]
        return [
            round(next(rss for t, rss in self.samples if t >= fraction * end) / MIB, 1)
            for fraction in self.FRACTIONS
        ]


class _WideServer(_QuietServer):
    # socketserver listens with a queue of 5: a flood of connections (the baseline starts
    # every due job at once) would then wait on SYN retries, which real Slack does not make.
    request_queue_size = 4096


@dataclass
class CountingStandIn(SlackStandIn):
    """The stand-in, answering as in the tests, but counting posts instead of keeping them.

    Each post's check-in id (from the message metadata) is ticked off in a bytearray, so a
    message posted twice is caught without holding on to the messages. Its listen queue is
    4096 instead of 5; it is otherwise the tests' stand-in.
    """

    expected: int = 0
    posts: int = 0
    duplicates: int = 0
    unknown: int = 0
    errors: int = 0
    first_post: float = 0.0
    last_post: float = 0.0
    seen: bytearray = field(default_factory=bytearray)
    # How long each post takes to answer, as real Slack over a network would (--slack-latency-ms).
    latency: ClassVar[float] = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.seen = bytearray(self.expected + 1)

    def start(self) -> CountingStandIn:
        self._server = _WideServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def handle(
        self, method: str, args: Payload, token: str | None
    ) -> tuple[int, Payload, dict[str, str]]:
        if self.latency and method == "chat.postMessage":
            time.sleep(self.latency)  # on the stand-in's own request thread
        status, body, headers = super().handle(method, args, token)
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            if method == "chat.postMessage":
                if body.get("ok"):
                    self._tick(args)
                else:
                    self.errors += 1
            self._lock.notify_all()
        return status, body, headers

    def _tick(self, args: Payload) -> None:
        now = time.perf_counter()
        self.first_post = self.first_post or now
        self.last_post = now
        self.posts += 1
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        checkin_id = int(((metadata or {}).get("event_payload") or {}).get("checkin_id", 0))
        if not 0 < checkin_id < len(self.seen):
            self.unknown += 1
        elif self.seen[checkin_id]:
            self.duplicates += 1
        else:
            self.seen[checkin_id] = 1

    def progress(self) -> tuple[int, int]:
        with self._lock:
            return self.posts, self.errors


COUNTS = ("posts", "duplicates", "unknown", "errors")
MOMENTS = ("first_post", "last_post")


class StandInElsewhere:
    """The counting stand-in in a process of its own (`--standin process`), on a CPU of its
    own when the machine has more than one, as Slack is in production: the measured process
    then spends its CPU on its own work only. It answers through an asyncio server (aiohttp),
    which takes thousands of open connections as Slack does (the tests' thread-per-connection
    server, alone on a CPU, falls over under the baseline's every-job-at-once burst). The Web
    API behind it is the tests' stand-in's. Its counts come back through shared memory, so it
    reads like a CountingStandIn (posts, duplicates, …, progress(), stop())."""

    def __init__(self, expected: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._counts = {name: context.Value("q", 0) for name in COUNTS}
        self._moments = {name: context.Value("d", 0.0) for name in MOMENTS}
        ours, theirs = context.Pipe()
        self._stop = context.Event()
        self._process = context.Process(
            target=_serve_elsewhere,
            args=(
                expected,
                CountingStandIn.latency,
                self._counts,
                self._moments,
                theirs,
                self._stop,
            ),
            daemon=True,
        )
        self._process.start()
        self.api_url: str = ours.recv()

    def __getattr__(self, name: str) -> Any:
        if name in COUNTS:
            return self._counts[name].value
        if name in MOMENTS:
            return self._moments[name].value
        raise AttributeError(name)

    def progress(self) -> tuple[int, int]:
        return self._counts["posts"].value, self._counts["errors"].value

    def stop(self) -> None:
        self._stop.set()
        self._process.join(10)


def _serve_elsewhere(
    expected: int,
    latency: float,
    counts: dict[str, Any],
    moments: dict[str, Any],
    reply: Any,
    stop: Any,
) -> None:
    """The stand-in's process: on the last CPU (the measured one is pinned to the first)."""
    everywhere = os.cpu_count() or 1
    if everywhere > 1:
        os.sched_setaffinity(0, {everywhere - 1})
    standin = CountingStandIn(team_id=WORKSPACE, expected=expected)
    tick = standin._tick

    def counted(args: Payload) -> None:
        tick(args)
        for name in COUNTS:
            counts[name].value = getattr(standin, name)
        for name in MOMENTS:
            moments[name].value = getattr(standin, name)

    standin._tick = counted  # type: ignore[method-assign]
    asyncio.run(_answer_elsewhere(standin, latency, reply, stop))
    with standin._lock:  # errors are counted outside _tick
        counts["errors"].value = standin.errors


async def _answer_elsewhere(
    standin: CountingStandIn, latency: float, reply: Any, stop: Any
) -> None:
    """The Web API on loopback, each call read as the tests' server reads it (query, JSON or
    form body, a Bearer token) and answered by the stand-in."""
    from aiohttp import web

    async def api(request: web.Request) -> web.Response:
        args: Payload = dict(request.query)
        raw = await request.read()
        if raw and "json" in request.content_type:
            loaded = json.loads(raw)
            args.update(loaded if isinstance(loaded, dict) else {})
        elif raw:
            args.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        method = request.match_info["method"]
        if latency and method == "chat.postMessage":
            await asyncio.sleep(latency)
        status, body, headers = standin.handle(method, args, token or args.pop("token", None))
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    port = runner.addresses[0][1]
    reply.send(f"http://127.0.0.1:{port}/api/")
    await asyncio.to_thread(stop.wait)
    await runner.cleanup()


def make_standin(expected: int) -> CountingStandIn | StandInElsewhere:
    if STANDIN_PLACE[0] == "process":
        return StandInElsewhere(expected)
    return CountingStandIn(team_id=WORKSPACE, expected=expected).start()


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


# -- the databases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where one measurement keeps its rows: a SQLite file, or a schema on the server."""

    database: str
    sqlite_path: str = ""
    postgres_url: str = ""
    schema: str = ""

    @property
    def url(self) -> str:
        if self.database == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return self.postgres_url

    def engine(self) -> Engine:
        """The bot's engine, as `serve` makes it."""
        if self.database == "sqlite":
            return make_engine(self.url)
        return make_engine(self.url, connect_args={"options": f"-csearch_path={self.schema}"})

    def job_store(self) -> SQLAlchemyJobStore:
        """The job store a user would configure: the URL and nothing else."""
        if self.database == "sqlite":
            return SQLAlchemyJobStore(url=self.url)
        return SQLAlchemyJobStore(url=self.url, tableschema=self.schema)

    def as_dict(self) -> dict[str, str]:
        return {
            "database": self.database,
            "sqlite_path": self.sqlite_path,
            "postgres_url": self.postgres_url,
            "schema": self.schema,
        }


def seed(target: Target, rows: int) -> dict[str, Any]:
    """N people, each with an active journey whose stage message is due an hour ago."""
    engine = target.engine()
    upgrade(engine)
    now = datetime.now(UTC)
    due = now - timedelta(hours=1)
    tables = SQLModel.metadata.tables
    started = time.perf_counter()
    with engine.begin() as connection:
        for first in range(1, rows + 1, CHUNK):
            ids = range(first, min(rows, first + CHUNK - 1) + 1)
            connection.execute(
                insert(tables["person"]),
                [
                    {
                        "id": i,
                        "platform": Platform.SLACK,
                        "workspace_id": WORKSPACE,
                        "user_id": f"U{i:07d}",
                        "dm_channel_id": f"DU{i:07d}",
                        "time_zone": "UTC",
                        "locale": "en",
                        "profile_checked_at": now,
                        "work_hours": None,
                        "work_days": None,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            connection.execute(
                insert(tables["journey"]),
                [
                    {
                        "id": i,
                        "person_id": i,
                        "status": JourneyStatus.ACTIVE,
                        "stage_id": STAGE,
                        "current_checkin_id": i,
                        "deliveries": 1,
                        "started_at": now,
                        "updated_at": now,
                        "ended_at": None,
                    }
                    for i in ids
                ],
            )
            connection.execute(
                insert(tables["checkin"]),
                [
                    {
                        "id": i,
                        "journey_id": i,
                        "kind": "stage",
                        "key": f"stage:{STAGE}:1",
                        "stage_id": STAGE,
                        "status": CheckinStatus.PENDING,
                        "due_at": due,
                        "within_hours": False,
                        "attempts": 0,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
        if engine.dialect.name == "postgresql":
            for table in ("person", "journey", "checkin"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :n)"),
                    {"n": rows},
                )
            connection.execute(text("ANALYZE"))
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seed_s": round(seconds, 2)}


# -- ours ----------------------------------------------------------------------------------


def settings_for(standin: SlackStandIn | StandInElsewhere, target: Target) -> Settings:
    return Settings(slack_bot_token=TOKEN, slack_api_url=standin.api_url, database_url=target.url)


async def run_ours(target: Target, rows: int, concurrency: int) -> dict[str, Any]:
    standin = make_standin(rows)
    engine = target.engine()
    settings = settings_for(standin, target)
    services = Services(settings=settings, sessions=make_sessions(engine), content=load_content())
    client = make_web_client(settings)
    await open_shared_session(client)  # as serve and worker do
    dispatcher = Dispatcher(
        services, {Platform.SLACK: SlackSender(client)}, OutboxComposer(), concurrency=concurrency
    )
    # As a worker runs it (scheduler.runner): its heartbeat beats from a thread of its own.
    await asyncio.to_thread(dispatcher.heartbeat.start)
    rss_before = current_rss()
    with Sampler() as sampler:
        started, cpu_started = time.perf_counter(), time.process_time()
        sent = await dispatcher.run_once()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await asyncio.to_thread(dispatcher.heartbeat.stop)
    rss_after = current_rss()
    peak = peak_rss()
    await close_shared_session(client)
    with engine.connect() as connection:
        marked = connection.execute(
            select(func.count()).where(col(Checkin.status) == CheckinStatus.SENT)
        ).scalar_one()
    standin.stop()
    engine.dispose()
    problems = []
    if sent != rows:
        problems.append(f"run_once() reported {sent} sent, not {rows}")
    if standin.posts != rows:
        problems.append(f"the stand-in counted {standin.posts} posts, not {rows}")
    if standin.duplicates or standin.unknown or standin.errors:
        problems.append(
            f"{standin.duplicates} duplicate, {standin.unknown} unknown and "
            f"{standin.errors} failed posts"
        )
    if marked != rows:
        problems.append(f"{marked} rows marked sent, not {rows}")
    return {
        "run": f"ours, {concurrency} at a time",
        "concurrency": concurrency,
        "rows": rows,
        "delivered": standin.posts,
        "duplicates": standin.duplicates,
        "wall_s": round(seconds, 2),
        "rows_per_s": round(standin.posts / seconds, 1),
        "cpu_ms_per_row": round(cpu * 1000 / max(standin.posts, 1), 2),
        "rss_before_mb": round(rss_before / MIB, 1),
        "rss_after_mb": round(rss_after / MIB, 1),
        "peak_rss_mb": round(peak / MIB, 1),
        "growth_mb": round((peak - rss_before) / MIB, 1),
        "max_threads": sampler.max_threads,
        "rss_trace_mb": sampler.trace(),
        "problems": problems,
    }


# -- the baseline: one APScheduler job per check-in ---------------------------------------


@dataclass
class _JobContext:
    client: AsyncWebClient
    content: Content
    settings: Settings


_JOB_CONTEXT: _JobContext | None = None


async def post_checkin(checkin_id: int, channel: str) -> None:
    """The job a user would schedule: compose the stage message and post it, as ours does."""
    context = _JOB_CONTEXT
    assert context is not None
    message = stage_message(
        content=context.content,
        locale=context.content.for_locale("en", "slack"),
        settings=context.settings,
        stage_id=STAGE,
        checkin_id=checkin_id,
    )
    await context.client.chat_postMessage(
        channel=channel,
        text=message.notification,
        blocks=build_message_blocks(message),
        metadata={"event_type": MESSAGE_METADATA_TYPE, "event_payload": {"checkin_id": checkin_id}},
        unfurl_links=False,
        unfurl_media=False,
    )


async def add_baseline_jobs(target: Target, rows: int, *, grace_none: bool) -> dict[str, Any]:
    """The process that scheduled the check-ins: one job per check-in, each due an hour ago."""
    due = datetime.now(UTC) - timedelta(hours=1)
    scheduler = AsyncIOScheduler(timezone=UTC, jobstores={"default": target.job_store()})
    scheduler.start(paused=True)  # jobs go to the store at once; none runs in this process
    grace: dict[str, Any] = {"misfire_grace_time": None} if grace_none else {}
    started = time.perf_counter()
    for i in range(1, rows + 1):
        scheduler.add_job(
            post_checkin,
            DateTrigger(run_date=due, timezone=UTC),
            args=[i, f"DU{i:07d}"],
            id=f"checkin-{i}",
            **grace,
        )
    seconds = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    return {"add_s": round(seconds, 2)}


async def run_baseline(target: Target, rows: int, *, grace_none: bool) -> dict[str, Any]:
    """The process after the restart: start the scheduler on the store and let it run."""
    global _JOB_CONTEXT
    import logging

    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)  # one line per missed job
    standin = make_standin(rows)
    settings = settings_for(standin, target)
    # What a user would write: the client's defaults (30 s timeout, one retry on a dropped
    # connection), not our bounded retries.
    _JOB_CONTEXT = _JobContext(
        client=AsyncWebClient(token=TOKEN, base_url=standin.api_url),
        content=load_content(),
        settings=settings,
    )
    outcomes: Counter[str] = Counter()
    failures: Counter[str] = Counter()

    def count(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_EXECUTED:
            outcomes["executed"] += 1
        elif event.code == EVENT_JOB_MISSED:
            outcomes["missed"] += 1
        else:
            outcomes["failed"] += 1
            failures[type(event.exception).__name__] += 1

    scheduler = AsyncIOScheduler(timezone=UTC, jobstores={"default": target.job_store()})
    scheduler.add_listener(count, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    rss_before = current_rss()
    stalled = False
    with Sampler() as sampler:
        started, cpu_started = time.perf_counter(), time.process_time()
        scheduler.start()
        last, last_change = (-1, -1, -1), time.perf_counter()
        while sum(outcomes.values()) < rows:
            await asyncio.sleep(0.1)
            now = (*standin.progress(), sum(outcomes.values()))
            if now != last:
                last, last_change = now, time.perf_counter()
            elif time.perf_counter() - last_change > NO_PROGRESS_SECONDS:
                stalled = True
                break
        finished, cpu = time.perf_counter(), time.process_time() - cpu_started
    rss_after = current_rss()
    peak = peak_rss()
    scheduler.shutdown(wait=False)
    standin.stop()
    delivered = standin.posts
    # The rate runs to the last post: a run that delivers nothing has no rate.
    seconds = (standin.last_post - started) if delivered else finished - started
    return {
        "run": "baseline" if grace_none else "baseline-grace-1s",
        "rows": rows,
        "delivered": delivered,
        "duplicates": standin.duplicates,
        "executed": outcomes["executed"],
        "missed": outcomes["missed"],
        "failed": outcomes["failed"],
        "failures": dict(failures),
        "stalled": stalled,
        "wall_s": round(seconds, 2),
        "first_post_s": round(standin.first_post - started, 2) if delivered else None,
        "all_accounted_s": round(finished - started, 2),
        "rows_per_s": round(delivered / seconds, 1) if delivered else 0.0,
        # Everything the process did until every job was accounted for, per post.
        "cpu_ms_per_row": round(cpu * 1000 / delivered, 2) if delivered else None,
        "rss_before_mb": round(rss_before / MIB, 1),
        "rss_after_mb": round(rss_after / MIB, 1),
        "peak_rss_mb": round(peak / MIB, 1),
        "growth_mb": round((peak - rss_before) / MIB, 1),
        "max_threads": sampler.max_threads,
        "rss_trace_mb": sampler.trace(),
        "problems": [],
    }


# -- the child processes -------------------------------------------------------------------


def child(spec: dict[str, Any]) -> None:
    target = Target(**spec["target"])
    rows = int(spec["rows"])
    role = spec["role"]
    CountingStandIn.latency = float(spec.get("latency_ms", 0)) / 1000
    STANDIN_PLACE[0] = spec.get("standin", "thread")
    if role == "seed":
        emit(seed(target, rows))
    elif role == "ours":
        emit(asyncio.run(run_ours(target, rows, int(spec["concurrency"]))))
    elif role == "baseline-add":
        emit(asyncio.run(add_baseline_jobs(target, rows, grace_none=spec["grace_none"])))
    elif role == "baseline-run":
        emit(asyncio.run(run_baseline(target, rows, grace_none=spec["grace_none"])))
    else:
        raise SystemExit(f"unknown role {role}")


def in_child(role: str, target: Target, rows: int, **extra: Any) -> dict[str, Any]:
    spec = json.dumps(
        {
            "role": role,
            "target": target.as_dict(),
            "rows": rows,
            "latency_ms": SLACK_LATENCY_MS[0],
            "standin": STANDIN_PLACE[0],
            **extra,
        }
    )
    done = subprocess.run(
        [sys.executable, __file__, "--child", spec], stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the {role} child for {rows} rows failed (exit {done.returncode})")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"the {role} child for {rows} rows printed no result")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# -- the parent ----------------------------------------------------------------------------

SLACK_LATENCY_MS = [0.0]  # set from --slack-latency-ms, handed to every child
STANDIN_PLACE = ["thread"]  # set from --standin, handed to every child


class Targets:
    """A fresh SQLite file or PostgreSQL schema per measurement, all removed at the end."""

    def __init__(self, database: str, postgres_url: str) -> None:
        self.database = database
        self.postgres_url = postgres_url
        self.folder = Path(tempfile.mkdtemp(prefix="notpromoted-bench-"))
        self.schemas: list[str] = []

    def fresh(self, name: str) -> Target:
        if self.database == "sqlite":
            # A file of its own each time (`--rounds` measures the same name again).
            return Target(
                "sqlite", sqlite_path=str(self.folder / f"{name}-{uuid.uuid4().hex[:8]}.db")
            )
        schema = f"bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        admin = make_engine(self.postgres_url)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        self.schemas.append(schema)
        return Target("postgresql", postgres_url=self.postgres_url, schema=schema)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.schemas:
            admin = make_engine(self.postgres_url)
            with admin.begin() as connection:
                for schema in self.schemas:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def measure_ours(targets: Targets, rows: int, concurrency: int) -> dict[str, Any]:
    target = targets.fresh(f"ours-{rows}-{concurrency}")
    seeded = in_child("seed", target, rows)
    log(f"ours, {rows} rows, {concurrency} at a time: seeded in {seeded['seed_s']} s; dispatching")
    result = in_child("ours", target, rows, concurrency=concurrency)
    result.update(seeded)
    if result["problems"]:
        raise SystemExit(f"ours, {rows} rows: " + "; ".join(result["problems"]))
    return result


def measure_baseline(targets: Targets, rows: int, *, grace_none: bool) -> dict[str, Any]:
    name = f"baseline-{rows}" if grace_none else f"baseline-grace-{rows}"
    target = targets.fresh(name)
    added = in_child("baseline-add", target, rows, grace_none=grace_none)
    log(f"{name}: {rows} jobs added in {added['add_s']} s; running")
    result = in_child("baseline-run", target, rows, grace_none=grace_none)
    result.update(added)
    return result


def machine() -> str:
    memory = ""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / MIB:.0f} GiB"
    return (
        f"{os.cpu_count()} cores, {memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def ratio(values: list[float]) -> str:
    """One ratio as it is; several as their median, and each round's beside it."""
    if len(values) == 1:
        return f"{values[0]:.1f}x"
    each = ", ".join(f"{value:.1f}x" for value in values)
    return f"{statistics.median(values):.1f}x (the median of {len(values)} rounds: {each})"


def table(results: list[dict[str, Any]]) -> str:
    """Markdown, so that it goes into docs/performance.md as it is."""
    header = (
        "| run | rows | posted | add s | dispatch s | rows/s | CPU ms/row | RSS before MB "
        "| peak RSS MB | growth MB | most threads |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    rounds_shown = any(r.get("round", 1) > 1 for r in results)
    for r in results:
        add = f"{r['add_s']:.1f}" if "add_s" in r else "-"
        cpu = "-" if r.get("cpu_ms_per_row") is None else f"{r['cpu_ms_per_row']:.2f}"
        run = f"{r['run']} (round {r['round']})" if rounds_shown and "round" in r else r["run"]
        lines.append(
            f"| {run} | {r['rows']} | {r['delivered']} | {add} | {r['wall_s']:.1f} "
            f"| {r['rows_per_s']:.1f} | {cpu} | {r['rss_before_mb']:.1f} | {r['peak_rss_mb']:.1f} "
            f"| {r['growth_mb']:.1f} | {r['max_threads']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=10_000,
        help="largest baseline run, and the size of the default-grace run (default 10000)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[8],
        help="people sent to at once by our dispatcher; each value is a run (default 8)",
    )
    parser.add_argument(
        "--slack-latency-ms",
        type=float,
        default=0.0,
        help="delay each post's answer at the stand-in, as a real network would (default 0)",
    )
    parser.add_argument(
        "--standin",
        choices=("thread", "process"),
        default="thread",
        help="the Slack stand-in on a thread of the measured process (default), or in a "
        "process of its own on the machine's last CPU, as Slack is elsewhere in production",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure ours and the baseline this many times, in turn (the baseline first in "
        "every other round), and give each ratio as the median of the rounds' (default 1)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every result to FILE")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    rows = sorted(set(args.rows))
    concurrencies = sorted(set(args.concurrency))
    SLACK_LATENCY_MS[0] = args.slack_latency_ms
    STANDIN_PLACE[0] = args.standin
    baseline_sizes = sorted({min(n, args.baseline_rows) for n in rows})
    capped = [n for n in rows if n > args.baseline_rows]
    log(f"machine: {machine()}; database: {args.database}")
    # A SIGTERM still removes the databases made so far (and kills the running child).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    targets = Targets(args.database, args.postgres_url)
    results: list[dict[str, Any]] = []
    try:
        for round_ in range(1, max(args.rounds, 1) + 1):
            # On a machine whose speed drifts, the order is turned round every other round.
            parts = [
                lambda: [measure_ours(targets, n, c) for n in rows for c in concurrencies],
                lambda: [measure_baseline(targets, n, grace_none=True) for n in baseline_sizes],
            ]
            for part in parts if round_ % 2 else reversed(parts):
                results.extend({**result, "round": round_} for result in part())
        results.append(measure_baseline(targets, args.baseline_rows, grace_none=False))
    finally:
        targets.remove()

    print(f"machine: {machine()}")
    where = (
        "in the measured process (a thread of its own)"
        if args.standin == "thread"
        else "in a process of its own, on the machine's last CPU"
    )
    print(
        f"database: {args.database}; the Slack stand-in runs {where}, with no rate limit; "
        f"each post answered after {args.slack_latency_ms:g} ms"
    )
    print()
    print(table(results))
    print()
    # The figures beside the baseline's are those of our largest concurrency.
    widest = max(args.concurrency)
    ours = {(r["rows"], r["round"]): r for r in results if r.get("concurrency") == widest}
    base = {(r["rows"], r["round"]): r for r in results if r["run"] == "baseline"}
    for r in results:
        if r["run"].startswith("baseline"):
            failures = ", ".join(f"{k} {v}" for k, v in r["failures"].items()) or "none"
            print(
                f"{r['run']}, {r['rows']} jobs: posted {r['delivered']} "
                f"(duplicates {r['duplicates']}); jobs that ran and returned {r['executed']}, "
                f"failed {r['failed']} ({failures}), missed (skipped) {r['missed']}; "
                f"first post {r['first_post_s']} s after start, every job accounted for "
                f"after {r['all_accounted_s']} s{'; STALLED' if r['stalled'] else ''}"
            )
    rounds = sorted({r["round"] for r in results if "round" in r})
    for n in rows:
        pairs = [
            (ours[n, k], base[min(n, args.baseline_rows), k])
            for k in rounds
            if (min(n, args.baseline_rows), k) in base
        ]
        if not pairs:
            continue
        ran, baseline_rows = pairs[0][0]["run"], pairs[0][1]["rows"]
        # CPU a row is steadier than the rates on a machine whose speed moves between runs.
        cpu = [b["cpu_ms_per_row"] / o["cpu_ms_per_row"] for o, b in pairs if b["cpu_ms_per_row"]]
        rates = [o["rows_per_s"] / b["rows_per_s"] for o, b in pairs if b["rows_per_s"]]
        if cpu:
            print(f"CPU ms a row, baseline at {baseline_rows} / {ran} at {n}: {ratio(cpu)}")
        if rates:
            print(f"rows/s, {ran} at {n} / baseline at {baseline_rows}: {ratio(rates)}")
    fractions = "/".join(f"{f:.0%}" for f in Sampler.FRACTIONS)
    for r in results:
        trace = ", ".join(f"{mb:.1f}" for mb in r["rss_trace_mb"])
        run = f"{r['run']} (round {r['round']})" if len(rounds) > 1 and "round" in r else r["run"]
        print(f"{run}, {r['rows']}: RSS (MB) at {fractions} of the run: {trace}")
    if capped:
        print(
            f"baseline capped at {args.baseline_rows} jobs (--baseline-rows); "
            f"not run at {', '.join(map(str, capped))}"
        )
    if len(rows) > 1:
        small, large = ours[rows[0], rounds[0]], ours[rows[-1], rounds[0]]
        print(
            f"{large['run']}, peak RSS at {large['rows']} / at {small['rows']} rows: "
            f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x "
            f"({small['peak_rss_mb']} MB -> {large['peak_rss_mb']} MB; growth during the "
            f"run {small['growth_mb']} MB -> {large['growth_mb']} MB)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Ack latency of `notpromoted serve` under load, against a bare Bolt app in the same run.

    python bench/ack_latency.py [--database sqlite|postgres] [--rate 100] [--seconds 60]

Three kinds of process, pinned so the load does not starve the server: the server under test
(`notpromoted serve`, then bench/bare_bolt.py) alone on CPU 1, with any process it starts
(`serve` sends from a child process; its CPU time and memory are counted with the server's);
the load generator and a Slack stand-in (a process of its own, at the lowest CPU priority:
real Slack would not share the generator's CPU) on CPU 0. The generator sends signed
/notpromoted commands from distinct people on an open loop: each request has a scheduled time,
and its latency runs from that time to the answer, so a server that falls behind is charged
for the wait.

For each server it measures: RSS after 1,000 and after 20,000 commands (from a fresh start),
then `--rate` commands a second for `--seconds` (p50, p95, p99, max, achieved rate, errors, and
the server's CPU time per command, the DM that follows included), then a ramp of rates for
`--ramp-seconds` each, to the highest with p99 under 1 s and no errors. Between phases it
waits until the server has sent the first DMs of the commands so far, so that one phase's
backlog is not charged to the next.
It prints a Markdown table and the ratios, and checks that every command of ours produced
exactly one direct message at the stand-in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
from sqlalchemy import text

from bot.core.db import make_engine
from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Payload

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"  # noqa: S105 - signs loopback requests only
TOKEN = "xoxb-bench-token"  # noqa: S105 - the stand-in only checks the prefix
TEAM = "T0BENCH"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MEMORY_MARKS = (1_000, 20_000)
# The memory phase runs as fast as the server answers, this many requests in flight at once.
MEMORY_IN_FLIGHT = 16
MEMORY_BATCH = 5_000  # signed just before they are sent
P99_LIMIT_SECONDS = 1.0
SIGNATURE_LIFETIME_SECONDS = 240  # Slack's is 300; sign each phase just before it


# -- the stand-in, in a process of its own --------------------------------------------------


@dataclass
class LeanStandIn(SlackStandIn):
    """Answers as the tests' stand-in does, keeps counts instead of messages; of each post it
    keeps only what `conversations.history` answers with, as Slack would (a post retried
    after a timeout is first looked for there)."""

    posts: int = 0
    failed_posts: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    history: dict[str, list[tuple[str, Payload | None]]] = field(default_factory=dict)
    STATS_METHOD: ClassVar[str] = "bench.stats"

    def handle(
        self, method: str, args: Payload, token: str | None
    ) -> tuple[int, Payload, dict[str, str]]:
        if method == self.STATS_METHOD:
            with self._lock:
                twice = sum(1 for count in self.channels.values() if count > 1)
                stats = {"posts": self.posts, "failed": self.failed_posts, "twice": twice}
            return 200, {"ok": True, **stats}, {}
        status, body, headers = super().handle(method, args, token)
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            if method == "chat.postMessage":
                if body.get("ok"):
                    self.posts += 1
                    channel = str(args.get("channel"))
                    self.channels[channel] = self.channels.get(channel, 0) + 1
                    kept = self.history.setdefault(channel, [])
                    kept.append((str(body["ts"]), _metadata(args.get("metadata"))))
                else:
                    self.failed_posts += 1
        return status, body, headers

    def _conversations_history(self, args: Payload) -> Payload:
        oldest = float(args.get("oldest") or 0)
        found = [
            {"type": "message", "ts": ts, "bot_id": "B0BOT", **({"metadata": m} if m else {})}
            for ts, m in reversed(self.history.get(str(args.get("channel")), []))
            if float(ts) >= oldest
        ]
        return {"ok": True, "messages": found, "has_more": False}


def _metadata(value: object) -> Payload | None:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else None
    return value if isinstance(value, dict) else None


def run_standin() -> None:
    # Slack is not on this machine: its stand-in takes the load generator's CPU only when the
    # generator leaves it idle, so that answering DMs does not delay the generator's clock.
    if hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    standin = LeanStandIn(team_id=TEAM).start()
    print(standin.api_url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    standin.stop()


# -- servers ----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def pids(self) -> list[int]:
        """The server and the processes it started (`serve` sends from a child of its own)."""
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as children:
                    queue.extend(int(child) for child in children.read().split())
            except OSError:
                pass
        return found

    def rss_mb(self) -> list[float]:
        """Each process's resident memory: the server's first, then its children's."""
        sizes = []
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            sizes.append(round(int(line.split()[1]) / 1024, 1))
            except OSError:
                pass
        return sizes

    def cpu_seconds(self) -> float:
        """User and system CPU time the server and its children have used so far."""
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinned(command: list[str], cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if cpu is not None else command


async def wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the server exited while starting"
            try:
                async with http.post(f"http://127.0.0.1:{port}/slack/events", data=b"") as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port}")


async def start_ours(api_url: str, database_url: str, folder: Path, cpu: int | None) -> Server:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NOTPROMOTED_"))},
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "NOTPROMOTED_SECRET_KEY": "bench-secret-key-0123456789",
        "DATABASE_URL": database_url,
        "NOTPROMOTED_WORKING_HOURS": "00:00-24:00",
        "NOTPROMOTED_WORKING_DAYS": "mon-sun",
        "LOG_LEVEL": "WARNING",
    }
    if database_url.startswith("postgres"):
        subprocess.run(
            [sys.executable, "-m", "bot.app.cli", "db", "upgrade"], env=env, check=True, cwd=folder
        )
    command = [sys.executable, "-m", "bot.app.cli", "serve", "--host", "127.0.0.1", "--port"]
    process = subprocess.Popen(pinned([*command, str(port)], cpu), env=env, cwd=folder)
    await wait_until_up(port, process)
    return Server("notpromoted serve", process, port)


async def start_bare(api_url: str, cpu: int | None) -> Server:
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET}
    command = [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), "--port", str(port)]
    process = subprocess.Popen(pinned([*command, "--api-url", api_url], cpu), env=env)
    await wait_until_up(port, process)
    return Server("bare Bolt, ack only", process, port)


# -- load -------------------------------------------------------------------------------------


@dataclass
class Phase:
    rate: float
    sent: int
    seconds: float
    latencies: list[float]
    errors: int

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def row(self) -> dict[str, float]:
        return {
            "rate": self.rate,
            "sent": self.sent,
            "achieved_per_s": round(len(self.latencies) / self.seconds, 1),
            "p50_ms": round(self.percentile(50) * 1000, 1),
            "p95_ms": round(self.percentile(95) * 1000, 1),
            "p99_ms": round(self.percentile(99) * 1000, 1),
            "max_ms": round(max(self.latencies, default=float("nan")) * 1000, 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1)
            if self.latencies
            else float("nan"),
            "errors": self.errors,
        }


class Load:
    """Signed commands from people never seen before, numbered across the whole run."""

    def __init__(self, response_url: str) -> None:
        self.next_user = 0
        self.response_url = response_url
        self.run_id = uuid.uuid4().hex[:6].upper()

    def bodies(self, count: int) -> list[tuple[bytes, dict[str, str]]]:
        signed = []
        for _ in range(count):
            self.next_user += 1
            body, kind = slack_requests.slash_command(
                user_id=f"U{self.run_id}{self.next_user:07d}",
                team_id=TEAM,
                response_url=self.response_url,
            )
            signed.append((body, slack_requests.signed_headers(SECRET, body, content_type=kind)))
        return signed

    async def run(self, url: str, rate: float, count: int) -> Phase:
        """Send `count` commands at `rate` a second on an open loop."""
        signed = self.bodies(count)
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=30)
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        errors = 0
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            start = loop.time() + 0.1

            async def one(i: int, body: bytes, headers: dict[str, str]) -> None:
                nonlocal errors
                scheduled = start + i / rate
                await asyncio.sleep(max(0.0, scheduled - loop.time()))
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        ok = response.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    latencies.append(loop.time() - scheduled)
                else:
                    errors += 1

            await asyncio.gather(*(one(i, b, h) for i, (b, h) in enumerate(signed)))
            seconds = loop.time() - start
        return Phase(rate=rate, sent=count, seconds=seconds, latencies=latencies, errors=errors)

    async def closed_loop(self, url: str, count: int, in_flight: int) -> int:
        """Send `count` commands, `in_flight` at a time, as fast as answers come; the errors."""
        signed = self.bodies(count)
        errors = 0
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:

            async def worker(share: list[tuple[bytes, dict[str, str]]]) -> None:
                nonlocal errors
                for body, headers in share:
                    try:
                        async with http.post(url, data=body, headers=headers) as response:
                            await response.read()
                            errors += response.status != 200
                    except (aiohttp.ClientError, TimeoutError):
                        errors += 1

            await asyncio.gather(*(worker(signed[i::in_flight]) for i in range(in_flight)))
        return errors

    async def at_rate_for(self, url: str, rate: float, seconds: float) -> Phase:
        count = round(rate * seconds)
        chunk = round(rate * SIGNATURE_LIFETIME_SECONDS)
        phases = []
        while count > 0:
            phases.append(await self.run(url, rate, min(count, chunk)))
            count -= chunk
        return Phase(
            rate=rate,
            sent=sum(p.sent for p in phases),
            seconds=sum(p.seconds for p in phases),
            latencies=[latency for p in phases for latency in p.latencies],
            errors=sum(p.errors for p in phases),
        )


async def measure(
    server: Server,
    load: Load,
    args: argparse.Namespace,
    settle: Callable[[int], Awaitable[float]],
) -> dict[str, Any]:
    """`settle(commands)` waits until the server has done the work that follows that many
    commands (their first DMs), so one phase's backlog is not charged to the next."""
    print(f"== {server.name}", file=sys.stderr, flush=True)
    result: dict[str, Any] = {"server": server.name}
    await load.run(server.url, 50, 50)  # warm up: imports, connections, caches
    done = 50
    memory: dict[int, list[float]] = {}
    for mark in args.memory_marks:
        while done < mark:
            count = min(mark - done, MEMORY_BATCH)
            await load.closed_loop(server.url, count, MEMORY_IN_FLIGHT)
            done += count
        await settle(done)
        memory[mark] = server.rss_mb()
        print(f"   RSS after {mark} commands: {memory[mark]} MB", file=sys.stderr, flush=True)
    result["rss_mb"] = memory
    await settle(done)
    cpu_before = server.cpu_seconds()
    main = await load.at_rate_for(server.url, args.rate, args.seconds)
    done += main.sent
    result["settle_after_main_s"] = await settle(done)
    result["main"] = main.row()
    # CPU for everything a command causes: the answer, and the DM sent after it.
    result["main"]["cpu_ms_per_command"] = round(
        (server.cpu_seconds() - cpu_before) / main.sent * 1000, 2
    )
    print(f"   {args.rate}/s for {args.seconds} s: {result['main']}", file=sys.stderr, flush=True)
    ramp = []
    for rate in args.ramp:
        phase = await load.at_rate_for(server.url, rate, args.ramp_seconds)
        done += phase.sent
        ramp.append(phase.row())
        print(f"   ramp {rate}/s: {ramp[-1]}", file=sys.stderr, flush=True)
        if phase.errors or phase.percentile(99) > P99_LIMIT_SECONDS:
            break
        await settle(done)
    result["ramp"] = ramp
    passing = [r["rate"] for r in ramp if not r["errors"] and r["p99_ms"] <= 1000]
    result["highest_rate_p99_under_1s"] = max(passing, default=None)
    result["commands"] = done
    return result


# -- the run ----------------------------------------------------------------------------------


def fresh_postgres(url: str) -> tuple[str, str]:
    schema = f"bench_ack_{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", schema


def drop_schema(url: str, schema: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def stats(api_url: str) -> dict[str, int]:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - the loopback stand-in
        api_url + LeanStandIn.STATS_METHOD, data=b"", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        loaded: dict[str, int] = json.loads(response.read())
    return loaded


async def drained(api_url: str, expected_posts: int) -> float:
    """Seconds until every first DM has gone out: an overloaded server acknowledges first and
    sends afterwards. Gives up after a minute without progress."""
    started = time.monotonic()
    last, still = -1, 0.0
    while True:
        posts = stats(api_url)["posts"]
        if posts >= expected_posts:
            return round(time.monotonic() - started, 1)
        if posts == last:
            still += 1
            if still >= 60:
                return float("nan")
        else:
            last, still = posts, 0.0
        await asyncio.sleep(1)


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    two_cpus = (os.cpu_count() or 1) >= 2
    server_cpu, load_cpu = (1, 0) if two_cpus else (None, None)
    if load_cpu is not None:
        os.sched_setaffinity(0, {load_cpu})
    standin = subprocess.Popen(
        pinned([sys.executable, __file__, "--standin"], load_cpu),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert standin.stdout is not None
    api_url = standin.stdout.readline().decode().strip()
    folder = Path(tempfile.mkdtemp(prefix="notpromoted-ack-"))
    schema = None
    if args.database == "postgres":
        database_url, schema = fresh_postgres(args.postgres_url)
    else:
        database_url = f"sqlite:///{folder / 'bench.db'}"
    load = Load(response_url=api_url.replace("/api/", "/respond/bench"))
    results = []
    try:
        for which in ("ours", "bare"):
            if which == "ours":
                server = await start_ours(api_url, database_url, folder, server_cpu)
            else:
                server = await start_bare(api_url, server_cpu)
            before = stats(api_url)["posts"]

            async def settle(commands: int, which: str = which, before: int = before) -> float:
                if which == "bare":  # it sends nothing
                    await asyncio.sleep(1)
                    return 0.0
                return await drained(api_url, before + commands)

            try:
                result = await measure(server, load, args, settle)
                result["drain_s"] = await settle(result["commands"])
            finally:
                server.stop()
            after = stats(api_url)
            result["dms"] = after["posts"] - before
            result["dms_twice"] = after["twice"]
            results.append(result)
    finally:
        if standin.stdin:
            standin.stdin.close()
        standin.wait(timeout=10)
        if schema:
            drop_schema(args.postgres_url, schema)
    ours = results[0]
    if ours["dms"] != ours["commands"] or ours["dms_twice"]:
        raise SystemExit(
            f"ours: {ours['commands']} commands but {ours['dms']} first DMs "
            f"({ours['dms_twice']} people got more than one)"
        )
    return results


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    ours, bare = results
    print(f"database: {args.database}; machine: {os.cpu_count()} cores; Python {sys.version[:6]}")
    print()
    print(
        "| server | rate/s | achieved/s | p50 ms | p95 ms | p99 ms | max ms | errors "
        "| CPU ms/command |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        m = result["main"]
        print(
            f"| {result['server']} | {m['rate']:g} | {m['achieved_per_s']} | {m['p50_ms']} "
            f"| {m['p95_ms']} | {m['p99_ms']} | {m['max_ms']} | {m['errors']} "
            f"| {m['cpu_ms_per_command']} |"
        )
    print()
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        ratio = ours["main"][key] / bare["main"][key] if bare["main"][key] else float("nan")
        print(f"{key[:3]} ours / bare: {ratio:.2f}x")
    for result in results:
        steps = ", ".join(f"{r['rate']:g}/s p99 {r['p99_ms']} ms" for r in result["ramp"])
        print(
            f"{result['server']}: highest rate with p99 under 1 s and no errors: "
            f"{result['highest_rate_p99_under_1s']}/s ({steps})"
        )
        marks = ", ".join(
            f"{' + '.join(map(str, sizes))} MB after {n}" for n, sizes in result["rss_mb"].items()
        )
        print(f"{result['server']}: RSS {marks} commands (the server, then each child)")
    print(
        f"ours: {ours['commands']} commands, {ours['dms']} first DMs at the stand-in, "
        f"{ours['dms_twice']} people with more than one; the last DM went out "
        f"{ours['drain_s']} s after the last command was answered; in the {args.rate:g}/s "
        f"phase, {ours['settle_after_main_s']} s after its last answer"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--ramp", type=float, nargs="+", default=[150, 200, 300, 400, 600, 800, 1200]
    )
    parser.add_argument("--ramp-seconds", type=float, default=15)
    parser.add_argument("--memory-marks", type=int, nargs="+", default=list(MEMORY_MARKS))
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--standin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.standin:
        run_standin()
        return
    results = asyncio.run(run(args))
    report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

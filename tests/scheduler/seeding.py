"""Shared by the dispatch tests: due check-ins seeded in bulk, dispatchers built as `worker`
builds them, and what the Slack stand-in received, grouped by check-in."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import col, select

from bot.core.clock import Clock, system_clock
from bot.core.config import Settings
from bot.core.db import make_sessions
from bot.core.dependencies import Services
from bot.core.ids import CHECKIN_KIND_STAGE, MESSAGE_METADATA_TYPE
from bot.core.models import Checkin, CheckinStatus, Journey, JourneyStatus, Person
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Call
from bot.slack.client import make_web_client
from bot.slack.sender import SlackSender
from handlers.outbox import OutboxComposer
from messages.content import Content
from messages.loader import load_content
from scheduler.dispatcher import Dispatcher

TEAM = "T0TEST"
STAGE = "pause"
UNFINISHED = (CheckinStatus.PENDING, CheckinStatus.CLAIMED)

_CONTENT: Content | None = None


@dataclass(frozen=True)
class Seeded:
    checkin_id: int
    user_id: str

    @property
    def channel(self) -> str:
        """The stand-in's DM channel with this person."""
        return f"D{self.user_id}"


def user_id(number: int) -> str:
    return f"U{number:05d}"


def seed_checkins(
    engine: Engine, count: int, *, due_at: datetime, now: datetime, first: int = 0
) -> list[Seeded]:
    """`count` people, each with an active journey and one stage check-in due at `due_at`.

    Profiles are fresh (no users.info) and the DM channel is known (no conversations.open),
    so the only Slack calls a send makes are chat.postMessage and, after an unknown outcome,
    conversations.history. Three bulk flushes: thousands of rows take a second or two.
    """
    numbers = range(first, first + count)
    with make_sessions(engine).begin() as session:
        people = [
            Person(
                platform="slack",
                workspace_id=TEAM,
                user_id=user_id(number),
                time_zone="UTC",
                locale="en",
                profile_checked_at=now,
                dm_channel_id=f"D{user_id(number)}",
                created_at=now,
            )
            for number in numbers
        ]
        session.add_all(people)
        session.flush()
        journeys = [
            Journey(
                person_id=person.id or 0,
                status=JourneyStatus.ACTIVE,
                stage_id=STAGE,
                started_at=now,
                updated_at=now,
            )
            for person in people
        ]
        session.add_all(journeys)
        session.flush()
        checkins = [
            Checkin(
                journey_id=journey.id or 0,
                kind=CHECKIN_KIND_STAGE,
                key=f"{CHECKIN_KIND_STAGE}:{STAGE}:1",
                stage_id=STAGE,
                due_at=due_at,
                within_hours=False,
                created_at=now,
            )
            for journey in journeys
        ]
        session.add_all(checkins)
        session.flush()
        seeded = [
            Seeded(checkin_id=checkin.id or 0, user_id=person.user_id)
            for checkin, person in zip(checkins, people, strict=True)
        ]
    assert all(s.checkin_id for s in seeded)
    return seeded


def content() -> Content:
    """The packaged guidance, loaded once for all the dispatchers of a run."""
    global _CONTENT
    if _CONTENT is None:
        _CONTENT = load_content()
    return _CONTENT


def make_dispatcher(
    settings: Settings,
    engine: Engine,
    *,
    owner: str,
    clock: Clock = system_clock,
    concurrency: int = 8,
) -> Dispatcher:
    """A dispatcher with its own Slack client, as `notpromoted worker` assembles one."""
    services = Services(
        settings=settings, sessions=make_sessions(engine), content=content(), clock=clock
    )
    sender = SlackSender(make_web_client(settings))
    return Dispatcher(
        services,
        {"slack": sender},
        OutboxComposer(),
        owner=owner,
        concurrency=concurrency,
    )


def unfinished(engine: Engine) -> int:
    """Rows still to be sent: pending, or claimed by a worker (alive or not)."""
    with make_sessions(engine).begin() as session:
        query = select(func.count()).select_from(Checkin).where(col(Checkin.status).in_(UNFINISHED))
        return int(session.exec(query).one())


def rows(engine: Engine) -> dict[int, Checkin]:
    with make_sessions(engine).begin() as session:
        return {row.id or 0: row for row in session.exec(select(Checkin))}


def metadata_of(call: Call) -> dict[str, Any]:
    """The message metadata of a chat.postMessage call: JSON text or an object."""
    raw = call.args.get("metadata")
    loaded = json.loads(raw) if isinstance(raw, str) else raw
    assert isinstance(loaded, dict), f"a post without metadata: {call.args}"
    return loaded


def checkin_of(call: Call) -> int:
    metadata = metadata_of(call)
    assert metadata.get("event_type") == MESSAGE_METADATA_TYPE, metadata
    return int(metadata["event_payload"]["checkin_id"])


def posts_by_checkin(standin: SlackStandIn) -> dict[int, list[str]]:
    """For each check-in id, the channel of every chat.postMessage that carried it."""
    posts: dict[int, list[str]] = defaultdict(list)
    for call in standin.calls_to("chat.postMessage"):
        posts[checkin_of(call)].append(str(call.args["channel"]))
    return dict(posts)


def assert_each_posted_once(standin: SlackStandIn, seeded: list[Seeded]) -> None:
    """Exactly one chat.postMessage per check-in, to that person's DM, and no other post."""
    posts = posts_by_checkin(standin)
    twice = {checkin: channels for checkin, channels in posts.items() if len(channels) != 1}
    assert not twice, f"{len(twice)} check-in(s) posted more than once: {sorted(twice)[:10]}"
    missing = {s.checkin_id for s in seeded} - set(posts)
    assert not missing, f"{len(missing)} check-in(s) never posted: {sorted(missing)[:10]}"
    extra = set(posts) - {s.checkin_id for s in seeded}
    assert not extra, f"posts for check-ins that were not due: {sorted(extra)[:10]}"
    wrong = {
        s.checkin_id: posts[s.checkin_id] for s in seeded if posts[s.checkin_id] != [s.channel]
    }
    assert not wrong, f"posted to the wrong channel: {dict(list(wrong.items())[:5])}"
    assert len(standin.calls_to("chat.postMessage")) == len(seeded)


def posted_ts(standin: SlackStandIn) -> dict[int, list[str]]:
    """For each check-in id, the ts of every message the stand-in keeps with its tag."""
    found: dict[int, list[str]] = defaultdict(list)
    for message in list(standin.messages):
        payload = (message.metadata or {}).get("event_payload") or {}
        if "checkin_id" in payload:
            found[int(payload["checkin_id"])].append(message.ts)
    return dict(found)


def assert_all_sent(
    engine: Engine, standin: SlackStandIn, seeded: list[Seeded]
) -> dict[int, Checkin]:
    """Every seeded row is sent, with the channel and ts of the one message the stand-in has."""
    found = rows(engine)
    kept = posted_ts(standin)
    for s in seeded:
        row = found[s.checkin_id]
        assert row.status == CheckinStatus.SENT, (s, row.status, row.last_error)
        assert row.channel_id == s.channel, (s, row.channel_id)
        ts = kept.get(s.checkin_id)
        assert [row.message_ts] == ts, (s, row.message_ts, ts)
        assert row.lease_owner is None and row.lease_expires_at is None, s
    return found

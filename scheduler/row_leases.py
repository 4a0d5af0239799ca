"""Claiming outbox rows under a lease (each claim a try, and a mark that the row may be
posted) and recording what became of each (sent, released for later, failed): the
dispatcher's database side, apart from the sending itself."""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.checkin_planning import overridden_working_time, replan_start_checkins
from bot.core.delivery import Profile, Recipient
from bot.core.dependencies import Services
from bot.core.metrics import Metrics
from bot.core.models import Journey, JourneyStatus
from bot.core.storage import heartbeats, outbox, people
from bot.core.working_calendar import WorkingTime, person_zone
from scheduler.heartbeat import Heartbeat

PROFILE_MAX_AGE = timedelta(days=1)
# While a sweep runs, how often its claim round also looks for rows a dead sender held.
DEAD_LOOKUP_SECONDS = heartbeats.BEAT_SECONDS


class SendOutcome(enum.Enum):
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"  # someone else holds it, or it is gone
    HANDED_OFF = "handed off"  # to the sending process beside this web process


@dataclass(frozen=True)
class Job:
    """A claimed row, and what sending it needs."""

    checkin_id: int
    kind: str
    stage_id: str | None
    attempts: int
    within_hours: bool
    # The mark an earlier try left (its post may have reached the person: look first).
    posting_since: datetime | None
    recipient: Recipient
    person_id: int
    journey_id: int | None
    meeting_id: int | None
    profile: Profile
    profile_fresh: bool
    working: WorkingTime
    zone_override: str | None
    language: str | None  # the person's own choice, over the profile's locale
    superseded: tuple[str, str] | None  # channel and ts of the copy this one replaces
    claimed_at: float  # time.monotonic() when claimed
    claimed_on: datetime  # and the services' clock then (what leases are counted in)


class SentRow(NamedTuple):
    """A row the platform took: where, and the profile read on the way (to keep)."""

    job: Job
    channel_id: str
    message_ts: str
    profile: Profile | None
    locale: str | None = None  # the language folder the message was written in


class RowLeases:
    """Claims rows for `owner`, loads what sending one needs, and records its outcome."""

    services: Services
    owner: str
    lease: timedelta
    metrics: Metrics | None
    heartbeat: Heartbeat
    # PostgreSQL: the engine each of whose statements commits itself, for what is done in one
    # statement (a claim round, a group of sent marks): no transaction around it to pay for.
    _at_once: Engine | None = None
    # When (time.monotonic()) a claim round next looks for rows a dead sender held.
    _look_for_the_dead_at = 0.0

    def _claim_and_load(self, checkin_id: int) -> Job | None:
        """Claim one row no one holds and read what sending it needs, in one transaction."""
        with self.services.sessions.begin() as session:
            self._beat_unless_beating(session)
            jobs = self._claim_in(session, [checkin_id], taking_over=False)
            return jobs[0] if jobs else None

    def _claim_next(self, free: int) -> list[Job]:
        """Claim up to `free` due rows, the first of each lane (`outbox.due_rows`: one per
        person, none of a person whose row is in anyone's hands), and read what sending them
        needs. Only what is about to be sent is held (a death strands little).

        On PostgreSQL, with the heartbeat beating, a round is one statement that commits
        itself (`outbox.claim_due_at_once`), and rows a dead sender held are looked for in a
        round of their own (the two-statement claim below) when a sweep starts and every
        DEAD_LOOKUP_SECONDS while it runs. Elsewhere every round is that one: three
        statements and a commit."""
        now = self.services.clock()
        looked = time.monotonic()
        at_once = self._at_once is not None and self.heartbeat.beating
        if at_once and looked < self._look_for_the_dead_at:
            return self._claim_at_once(free, now)
        self._look_for_the_dead_at = looked + DEAD_LOOKUP_SECONDS
        with self.services.sessions.begin() as session:
            self._beat_unless_beating(session)
            due = outbox.due_rows(session, now=now, limit=free, owner=self.owner)
            return self._claim_in(session, [row.checkin_id for row in due], taking_over=True)

    def _claim_at_once(self, free: int, now: datetime) -> list[Job]:
        assert self._at_once is not None
        with self._at_once.connect() as connection:
            claimed = outbox.claim_due_at_once(
                connection, now=now, limit=free, owner=self.owner, lease=self.lease
            )
        return [self._job(facts, attempts, now) for facts, attempts in claimed]

    def _claim_in(self, session: Session, ids: list[int], *, taking_over: bool) -> list[Job]:
        """Claim these rows (each claim an attempt) and read what sending each needs. The facts
        are read first, so that a row's posting mark is the one an earlier try left."""
        if not ids:
            return []
        now = self.services.clock()
        facts = outbox.delivery_facts(session, checkin_ids=ids)
        attempts = outbox.claim_rows(
            session,
            checkin_ids=[checkin_id for checkin_id in ids if checkin_id in facts],
            owner=self.owner,
            now=now,
            lease=self.lease,
            taking_over=taking_over,
        )
        return [
            self._job(facts[checkin_id], attempts[checkin_id], now)
            for checkin_id in ids
            if checkin_id in attempts
        ]

    def _hand_back(self, jobs: Sequence[Job]) -> None:
        """Rows claimed and not started (a stop): free at once, their attempt given back."""
        with self.services.sessions.begin() as session:
            for job in jobs:
                outbox.release_checkin(
                    session,
                    checkin_id=job.checkin_id,
                    owner=self.owner,
                    due_at=self.services.clock(),
                    error="handed back at shutdown",
                    maybe_posted=False,
                    earlier_posting=job.posting_since,
                    refund_attempt=True,
                )

    def _beat_unless_beating(self, session: Session) -> None:
        """A row is claimed only by a process that says it lives: where no heartbeat thread
        runs, the claim's own transaction says so."""
        if not self.heartbeat.beating:
            heartbeats.beat(session, owner=self.owner, now=self.services.clock())

    def _job(self, facts: outbox.DeliveryFacts, attempts: int, now: datetime) -> Job:
        checked = facts.profile_checked_at
        superseded = None
        if facts.superseded_channel_id and facts.superseded_ts:
            superseded = (facts.superseded_channel_id, facts.superseded_ts)
        return Job(
            checkin_id=facts.checkin_id,
            kind=facts.kind,
            stage_id=facts.stage_id,
            attempts=attempts,
            within_hours=facts.within_hours,
            posting_since=facts.posting_since,
            recipient=Recipient(
                platform=facts.platform,
                workspace_id=facts.workspace_id,
                user_id=facts.user_id,
                dm_channel_id=facts.dm_channel_id,
                enterprise_id=facts.enterprise_id,
            ),
            person_id=facts.person_id,
            journey_id=facts.journey_id,
            meeting_id=facts.meeting_id,
            profile=Profile(time_zone=facts.time_zone, locale=facts.locale),
            profile_fresh=checked is not None and now - checked < PROFILE_MAX_AGE,
            working=overridden_working_time(
                self.services.settings.working_time,
                (facts.workspace_hours, facts.workspace_days),
                (facts.work_hours, facts.work_days),
            ),
            zone_override=facts.time_zone_override,
            language=facts.language,
            superseded=superseded,
            claimed_at=time.monotonic(),
            claimed_on=now,
        )

    def _save_profile(self, session: Session, job: Job, profile: Profile | None) -> None:
        """Keep what the platform said of the person, in the caller's transaction; if their
        time zone moved, move what counts from their journey's start with it."""
        if profile is None:
            return
        people.save_profile(
            session,
            person_id=job.person_id,
            time_zone=profile.time_zone,
            locale=profile.locale,
            now=self.services.clock(),
        )
        moved = (
            bool(profile.time_zone)
            and profile.time_zone != job.profile.time_zone
            and not job.zone_override  # their own choice stands
        )
        if moved:
            replan_start_checkins(
                session,
                person_id=job.person_id,
                zone=person_zone(profile.time_zone, self.services.settings.default_time_zone),
                working=job.working,
                timing=self.services.content.timing,
            )

    def _still_held(self, job: Job) -> bool:
        with self.services.sessions.begin() as session:
            return outbox.renew_hold(
                session,
                checkin_id=job.checkin_id,
                owner=self.owner,
                now=self.services.clock(),
                lease=self.lease,
            )

    def _mark_sent(self, sends: Sequence[SentRow]) -> list[bool]:
        """Record rows as sent, all of them at once (sends finishing at the same time share a
        write: `scheduler.group_commit`); for each, whether this owner still held it. On
        PostgreSQL a group with nothing else to keep is one statement that commits itself;
        a profile read on the way, or a new DM conversation, is kept with the marks in one
        transaction."""
        now = self.services.clock()
        if self.metrics is not None:
            for send in sends:
                self.metrics.checkin_outcome(send.job.kind, SendOutcome.SENT.value)
        marks = [
            outbox.SentMark(job.checkin_id, channel, ts, locale)
            for job, channel, ts, _, locale in sends
        ]
        if self._at_once is not None and not any(map(_more_to_keep, sends)):
            with self._at_once.connect() as connection:
                return outbox.mark_sent_at_once(connection, owner=self.owner, sent=marks, now=now)
        with self.services.sessions.begin() as session:
            for job, channel_id, _, profile, _ in sends:
                self._save_profile(session, job, profile)
                if job.recipient.dm_channel_id != channel_id:
                    people.set_dm_channel(session, person_id=job.person_id, channel_id=channel_id)
            return outbox.mark_sent(session, owner=self.owner, sent=marks, now=now)

    def _release(
        self,
        job: Job,
        due: datetime,
        reason: str,
        *,
        maybe_posted: bool,
        refund_attempt: bool,
        profile: Profile | None = None,
    ) -> None:
        if self.metrics is not None:
            self.metrics.checkin_outcome(job.kind, SendOutcome.DEFERRED.value)
        with self.services.sessions.begin() as session:
            self._save_profile(session, job, profile)
            outbox.release_checkin(
                session,
                checkin_id=job.checkin_id,
                owner=self.owner,
                due_at=due,
                error=reason,
                maybe_posted=maybe_posted,
                earlier_posting=job.posting_since,
                refund_attempt=refund_attempt,
            )

    def _fail(self, job: Job, reason: str, *, pause: bool) -> None:
        if self.metrics is not None:
            self.metrics.checkin_outcome(job.kind, SendOutcome.FAILED.value)
        with self.services.sessions.begin() as session:
            outbox.fail_checkin(session, checkin_id=job.checkin_id, owner=self.owner, error=reason)
            journey = session.get(Journey, job.journey_id) if job.journey_id else None
            if pause and journey is not None and journey.status == JourneyStatus.ACTIVE:
                journey.status = JourneyStatus.PAUSED
                journey.updated_at = self.services.clock()
                session.add(journey)


def _more_to_keep(send: SentRow) -> bool:
    """Whether marking this row sent also keeps something of its person's: a profile read
    from the platform, or the DM conversation the post went to, where it is new."""
    return send.profile is not None or send.job.recipient.dm_channel_id != send.channel_id

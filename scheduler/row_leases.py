"""Claiming outbox rows under a lease and recording what became of each (posting, sent,
released for later, failed): the dispatcher's database side, apart from the sending itself."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core.checkin_planning import overridden_working_time, replan_start_checkins
from bot.core.delivery import Profile, Recipient
from bot.core.dependencies import Services
from bot.core.metrics import Metrics
from bot.core.models import Journey, JourneyStatus
from bot.core.storage import heartbeats, outbox, people
from bot.core.storage.outbox import Lane
from bot.core.working_calendar import WorkingTime, person_zone
from scheduler.heartbeat import Heartbeat

PROFILE_MAX_AGE = timedelta(days=1)


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
    posting_since: datetime | None
    recipient: Recipient
    person_id: int
    journey_id: int | None
    meeting_id: int | None
    profile: Profile
    profile_fresh: bool
    working: WorkingTime
    zone_override: str | None
    superseded: tuple[str, str] | None  # channel and ts of the copy this one replaces


class RowLeases:
    """Claims rows for `owner`, loads what sending one needs, and records its outcome."""

    services: Services
    owner: str
    lease: timedelta
    metrics: Metrics | None
    heartbeat: Heartbeat

    def _claim_and_load(self, checkin_id: int) -> Job | None:
        """Claim one row and start on it, in one transaction."""
        with self.services.sessions.begin() as session:
            self._beat_unless_beating(session)
            claimed = outbox.claim_checkin(
                session,
                checkin_id=checkin_id,
                owner=self.owner,
                now=self.services.clock(),
                lease=self.lease,
            )
            return self._load_in(session, checkin_id) if claimed else None

    def _claim_next(self, free: int, busy: Sequence[Lane]) -> list[tuple[Job, Lane]]:
        """Claim and start on up to `free` due rows, one per lane and none of a `busy` lane,
        in one transaction: only what is about to be sent is held (a death strands little),
        and a person's next row waits in the outbox until their row in hand is done. Asked
        again without the lanes it found, so that one person's many due rows never fill a
        round and hide another's."""
        now = self.services.clock()
        taken: list[tuple[Job, Lane]] = []
        lanes = set(busy)
        with self.services.sessions.begin() as session:
            self._beat_unless_beating(session)
            while len(taken) < free:
                due = outbox.due_rows(session, now=now, limit=2 * free, busy=tuple(lanes))
                if not due:
                    break
                for row in due:
                    if len(taken) >= free:
                        break
                    if row.lane in lanes:  # one row per lane at a time, in due order
                        continue
                    lanes.add(row.lane)
                    claimed = outbox.claim_checkin(
                        session,
                        checkin_id=row.checkin_id,
                        owner=self.owner,
                        now=now,
                        lease=self.lease,
                        taking_over=True,
                    )
                    job = self._load_in(session, row.checkin_id) if claimed else None
                    if job is not None:
                        taken.append((job, row.lane))
                if len(due) < 2 * free:
                    break  # that was all that is due outside the lanes in hand
        return taken

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
                    maybe_posted=job.posting_since is not None,
                    refund_attempt=True,
                )

    def _beat_unless_beating(self, session: Session) -> None:
        """A row is claimed only by a process that says it lives: where no heartbeat thread
        runs, the claim's own transaction says so."""
        if not self.heartbeat.beating:
            heartbeats.beat(session, owner=self.owner, now=self.services.clock())

    def _load_in(self, session: Session, checkin_id: int) -> Job | None:
        """Count an attempt at a row this worker holds, and read what sending it needs."""
        attempts = outbox.begin_attempt(session, checkin_id=checkin_id, owner=self.owner)
        facts = outbox.delivery_facts(session, checkin_id=checkin_id) if attempts else None
        if attempts is None or facts is None:
            return None
        checked = facts.profile_checked_at
        superseded = None
        if facts.superseded_channel_id and facts.superseded_ts:
            superseded = (facts.superseded_channel_id, facts.superseded_ts)
        return Job(
            checkin_id=checkin_id,
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
            profile_fresh=checked is not None and self.services.clock() - checked < PROFILE_MAX_AGE,
            working=overridden_working_time(
                self.services.settings.working_time,
                (facts.workspace_hours, facts.workspace_days),
                (facts.work_hours, facts.work_days),
            ),
            zone_override=facts.time_zone_override,
            superseded=superseded,
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

    def _mark_posting(self, job: Job, profile: Profile | None) -> bool:
        with self.services.sessions.begin() as session:
            self._save_profile(session, job, profile)
            return outbox.mark_posting(
                session,
                checkin_id=job.checkin_id,
                owner=self.owner,
                now=self.services.clock(),
                lease=self.lease,
            )

    def _mark_sent(
        self, job: Job, channel_id: str, message_ts: str, profile: Profile | None
    ) -> bool:
        if self.metrics is not None:
            self.metrics.checkin_outcome(job.kind, SendOutcome.SENT.value)
        with self.services.sessions.begin() as session:
            self._save_profile(session, job, profile)
            if job.recipient.dm_channel_id != channel_id:
                people.set_dm_channel(session, person_id=job.person_id, channel_id=channel_id)
            return outbox.mark_sent(
                session,
                checkin_id=job.checkin_id,
                owner=self.owner,
                channel_id=channel_id,
                message_ts=message_ts,
                now=self.services.clock(),
            )

    def _release(
        self,
        job: Job,
        due: datetime,
        reason: str,
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

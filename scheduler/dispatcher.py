"""Claims due check-in rows and hands them to the sender of the person's platform."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import ids
from bot.core.checkin_planning import overridden_working_time, replan_start_checkins
from bot.core.db import checkpoint
from bot.core.delivery import (
    Composer,
    DeliveryDeferred,
    NothingToSay,
    Profile,
    Recipient,
    RecipientNotYetReachable,
    RecipientUnreachable,
    Sender,
)
from bot.core.dependencies import Services
from bot.core.metrics import Metrics
from bot.core.models import Journey, JourneyStatus
from bot.core.storage import events, outbox, people
from bot.core.working_calendar import (
    WorkingTime,
    is_working_moment,
    next_working_moment,
    person_zone,
    spread,
)
from messages.model import Message

logger = logging.getLogger(__name__)

PROFILE_MAX_AGE = timedelta(days=1)
# How long sending steps aside for answers a person is waiting on: at most 40 x 5 ms a step.
ANSWER_YIELD_STEPS = 40
ANSWER_YIELD_SECONDS = 0.005
# Rows `send_now` sends at once in one process; more are left to a sweep.
SENDS_IN_HAND = 64
# How often a row waiting for a recipient who cannot be messaged yet is looked at again.
RECIPIENT_RECHECK = timedelta(days=1)


class SendOutcome(enum.Enum):
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"  # someone else holds it, or it is gone
    HANDED_OFF = "handed off"  # to the sending process beside this web process


@dataclass(frozen=True)
class _Job:
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


class Dispatcher:
    def __init__(
        self,
        services: Services,
        senders: Mapping[str, Sender],
        composer: Composer,
        *,
        owner: str | None = None,
        page_size: int = 50,
        lease: timedelta | None = None,
        max_attempts: int = 8,
        concurrency: int = 8,
        metrics: Metrics | None = None,
    ) -> None:
        self.services = services
        self.composer = composer
        self.metrics = metrics
        self.senders = senders
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.page_size = page_size
        self.lease = lease or timedelta(seconds=services.settings.lease_seconds)
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.stopping = False
        self._sweeping = asyncio.Lock()
        # Requests a person is waiting on, in this process, now (see `answering`).
        self._answering = 0
        self._in_hand = 0  # rows send_now is sending
        self.sends_in_hand = SENDS_IN_HAND
        self._extra_sweep: asyncio.Task[None] | None = None
        self._sweep_asked = False
        engine = services.sessions().get_bind()
        assert isinstance(engine, Engine)
        self._engine = engine
        # Set in a web process whose sending runs in a process beside it (`serve`): send_now
        # passes the row there (a row id and a response URL; False when it could not).
        self.handoff: Callable[[int, str | None], bool] | None = None

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Mark work a person is waiting on (a command before its acknowledgement): while any
        is in hand, sending here pauses between its steps, so that the answers come first."""
        self._answering += 1
        try:
            yield
        finally:
            self._answering -= 1

    async def _after_answers(self) -> None:
        """Wait while answers are being prepared, for a bounded time so sends are never
        starved: under a steady stream of requests, sending still makes progress."""
        for _ in range(ANSWER_YIELD_STEPS):
            if not self._answering:
                return
            await asyncio.sleep(ANSWER_YIELD_SECONDS)

    async def send_now(self, checkin_id: int, reply_to: str | None = None) -> SendOutcome:
        """Send one row at once (the command path); a no-op if another worker has it.

        With a `handoff`, the row goes to the sending process instead, with `reply_to` (the
        command's response URL) for telling the person if their DM cannot be sent; here that
        is the caller's to do, on FAILED.

        Under a burst, at most `sends_in_hand` of these run at a time; beyond that the row is
        left in the outbox, where it already is, and a sweep is started to send it: memory
        stays flat however many commands arrive, and nothing is lost.
        """
        if self.handoff is not None:
            handed = self.handoff(checkin_id, reply_to)
            return SendOutcome.HANDED_OFF if handed else SendOutcome.DEFERRED
        if self.stopping:  # left in the outbox for the next process's sweep
            return SendOutcome.DEFERRED
        if self._in_hand >= self.sends_in_hand:
            self._sweep_soon()
            return SendOutcome.DEFERRED
        self._in_hand += 1
        try:
            await self._after_answers()
            job = await asyncio.to_thread(self._claim_and_load, checkin_id)
            if job is None:
                return SendOutcome.SKIPPED
            return await self._send(job)
        finally:
            self._in_hand -= 1

    def _sweep_soon(self) -> None:
        """Sweep as soon as the sweep under way (if any) is done: it may have passed the page
        these rows are on. Asked again while that sweep runs, it sweeps once more after."""
        self._sweep_asked = True
        if self._extra_sweep is None and not self.stopping:
            self._extra_sweep = asyncio.get_running_loop().create_task(self._sweep_while_asked())

    async def _sweep_while_asked(self) -> None:
        try:
            while self._sweep_asked and not self.stopping:
                self._sweep_asked = False
                await self.run_once()
        except Exception:
            logger.exception("a sweep for the sends that overflowed failed; the next one retries")
        finally:
            self._extra_sweep = None

    async def run_once(self) -> int:
        """Send everything due, a page at a time so memory stays flat; return how many went.

        Within a page, up to `concurrency` people are sent to at once; one person's rows go
        one after another, in the order they were due.
        """
        sent = 0
        async with self._sweeping:
            while not self.stopping:
                claimed = await asyncio.to_thread(self._claim_page)
                lanes: dict[str, list[int]] = {}
                for checkin_id, lane in claimed:
                    lanes.setdefault(lane, []).append(checkin_id)
                gate = asyncio.Semaphore(self.concurrency)
                counts = await asyncio.gather(
                    *(self._deliver_lane(lane, gate) for lane in lanes.values())
                )
                sent += sum(counts)
                if len(claimed) < self.page_size:
                    break
            if not self.stopping:
                # On SQLite a web process beside this one leaves the checkpoints to its sweeps.
                await asyncio.to_thread(checkpoint, self._engine)
        return sent

    async def _deliver_lane(self, lane: Sequence[int], gate: asyncio.Semaphore) -> int:
        """One person's rows, in order. If the database fails under it, the lane stops: the
        rows it still holds wait for their leases to run out, and a later sweep sends them."""
        sent = 0
        async with gate:
            for checkin_id in lane:
                try:
                    if self.stopping:  # give the rest back at once rather than at lease expiry
                        await asyncio.to_thread(self._unclaim, checkin_id)
                    elif await self._deliver(checkin_id) is SendOutcome.SENT:
                        sent += 1
                except Exception:
                    logger.exception("check-in %s: could not be recorded", checkin_id)
                    break
        return sent

    async def stop(self) -> None:
        """Finish the message being sent, hand back the rest of the page, and stop sweeping."""
        self.stopping = True
        async with self._sweeping:
            pass

    def prune(self) -> None:
        with self.services.sessions.begin() as session:
            events.forget_old_events(session, before=self.services.clock() - timedelta(days=1))

    # -- claiming --------------------------------------------------------------------------

    def _claim_and_load(self, checkin_id: int) -> _Job | None:
        """Claim one row and start on it, in one transaction."""
        with self.services.sessions.begin() as session:
            claimed = outbox.claim_checkin(
                session,
                checkin_id=checkin_id,
                owner=self.owner,
                now=self.services.clock(),
                lease=self.lease,
            )
            return self._load_in(session, checkin_id) if claimed else None

    def _claim_page(self) -> Sequence[tuple[int, str]]:
        """Claim a page of due rows; each with its lane, so one person's stay in order."""
        now = self.services.clock()
        with self.services.sessions.begin() as session:
            due = outbox.due_checkin_ids(session, now=now, limit=self.page_size)
            claimed = [
                checkin_id
                for checkin_id in due
                if outbox.claim_checkin(
                    session, checkin_id=checkin_id, owner=self.owner, now=now, lease=self.lease
                )
            ]
            lanes = outbox.lanes_of_checkins(session, claimed)
            return [(checkin_id, lanes[checkin_id]) for checkin_id in claimed]

    def _unclaim(self, checkin_id: int) -> None:
        with self.services.sessions.begin() as session:
            outbox.release_checkin(
                session,
                checkin_id=checkin_id,
                owner=self.owner,
                due_at=self.services.clock(),
                error="handed back at shutdown",
            )

    def _load(self, checkin_id: int) -> _Job | None:
        with self.services.sessions.begin() as session:
            return self._load_in(session, checkin_id)

    def _load_in(self, session: Session, checkin_id: int) -> _Job | None:
        """Count an attempt at a row this worker holds, and read what sending it needs."""
        attempts = outbox.begin_attempt(session, checkin_id=checkin_id, owner=self.owner)
        facts = outbox.delivery_facts(session, checkin_id=checkin_id) if attempts else None
        if attempts is None or facts is None:
            return None
        checked = facts.profile_checked_at
        superseded = None
        if facts.superseded_channel_id and facts.superseded_ts:
            superseded = (facts.superseded_channel_id, facts.superseded_ts)
        return _Job(
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

    # -- sending ---------------------------------------------------------------------------

    async def _deliver(self, checkin_id: int) -> SendOutcome:
        await self._after_answers()
        job = await asyncio.to_thread(self._load, checkin_id)
        if job is None:
            return SendOutcome.SKIPPED
        return await self._send(job)

    async def _send(self, job: _Job) -> SendOutcome:
        checkin_id = job.checkin_id
        sender = self.senders.get(job.recipient.platform)
        if sender is None:
            await asyncio.to_thread(self._fail, job, "no sender for this platform", pause=False)
            return SendOutcome.FAILED
        posting = False
        # A profile read from the platform is saved with the next thing this row records.
        fetched: Profile | None = None
        try:
            if not job.profile_fresh:
                await self._after_answers()
                fetched = await self._fetch_profile(sender, job)
            profile = fetched or job.profile
            if job.within_hours and not await self._in_working_hours(job, profile, fetched):
                return SendOutcome.DEFERRED
            found = None
            if job.posting_since is not None:
                # An earlier attempt may have reached the person: look before posting again.
                found = await sender.find_delivered(
                    job.recipient, checkin_id=checkin_id, since=job.posting_since
                )
            if found is None:
                await self._after_answers()
                message = (
                    self._compose(job, profile)  # no database work: not worth a thread hop
                    if self._composed_from_content(job, profile)
                    else await asyncio.to_thread(self._compose, job, profile)
                )
                marked = await asyncio.to_thread(self._mark_posting, job, fetched)
                fetched = None
                if not marked:
                    return SendOutcome.SKIPPED  # the lease went to another worker
                posting = True
                await self._after_answers()
                found = await sender.deliver(job.recipient, message, checkin_id=checkin_id)
            else:
                logger.info("check-in %s: already delivered, not posting again", checkin_id)
        except NothingToSay as error:
            logger.info("check-in %s: not sent, %s is gone", checkin_id, error)
            await asyncio.to_thread(self._fail, job, f"gone: {error}", pause=False)
            return SendOutcome.FAILED
        except RecipientUnreachable as error:
            if isinstance(error, RecipientNotYetReachable) and job.kind in ids.WAITS_FOR_RECIPIENT:
                return await self._wait_for_recipient(job, error)
            logger.warning(
                "check-in %s: recipient unreachable (%s); journey paused", checkin_id, error
            )
            await asyncio.to_thread(self._fail, job, f"unreachable: {error}", pause=True)
            return SendOutcome.FAILED
        except DeliveryDeferred as error:
            # Only a post that surely failed clears the mark; a fault before it changes nothing.
            return await self._retry_later(
                job, error, maybe_posted=error.maybe_delivered or not posting, profile=fetched
            )
        except Exception:
            logger.exception("check-in %s: unexpected error while sending", checkin_id)
            return await self._retry_later(
                job, DeliveryDeferred("unexpected error"), maybe_posted=True, profile=fetched
            )

        await self._after_answers()
        marked_sent = await asyncio.to_thread(
            self._mark_sent, job, found.channel_id, found.message_ts, fetched
        )
        if not marked_sent:
            logger.warning("check-in %s: lease lost before it was marked sent", checkin_id)
        if job.superseded is not None:
            await self._retire(sender, job, profile)
        return SendOutcome.SENT

    async def _in_working_hours(self, job: _Job, profile: Profile, fetched: Profile | None) -> bool:
        """True to send now; else the row goes back until the person's working hours begin."""
        zone = person_zone(
            job.zone_override or profile.time_zone, self.services.settings.default_time_zone
        )
        now = self.services.clock()
        if is_working_moment(now, zone, job.working):
            return True
        due = next_working_moment(now, zone, job.working) + spread(
            job.checkin_id, self.services.content.timing.spread_minutes
        )
        await asyncio.to_thread(
            self._release, job, due, "outside working hours", False, True, fetched
        )
        return False

    async def _fetch_profile(self, sender: Sender, job: _Job) -> Profile | None:
        """Time zone and locale from the platform; None if it can't say now."""
        try:
            return await sender.fetch_profile(job.recipient)
        except DeliveryDeferred as error:
            logger.info("check-in %s: profile not refreshed (%s)", job.checkin_id, error)
            return None

    def _composed_from_content(self, job: _Job, profile: Profile) -> bool:
        """True for the messages `_compose` makes from the content files alone."""
        if job.kind == ids.CHECKIN_KIND_FINISHED:
            return True
        stages = self.services.content.for_locale(profile.locale).stages
        return job.kind == ids.CHECKIN_KIND_STAGE and job.stage_id in stages

    def _compose(self, job: _Job, profile: Profile) -> Message:
        return self.composer.checkin(
            self.services,
            kind=job.kind,
            stage_id=job.stage_id,
            checkin_id=job.checkin_id,
            person_id=job.person_id,
            meeting_id=job.meeting_id,
            locale_name=profile.locale,
        )

    async def _retire(self, sender: Sender, job: _Job, profile: Profile) -> None:
        assert job.superseded is not None
        locale = self.services.content.for_locale(profile.locale)
        try:
            await sender.replace(
                job.recipient,
                *job.superseded,
                self.composer.superseded(locale, self.services.settings),
            )
        except Exception:  # the new copy went out; an old copy left as it was is harmless
            logger.warning(
                "check-in %s: could not retire the older copy", job.checkin_id, exc_info=True
            )

    async def _wait_for_recipient(self, job: _Job, error: RecipientNotYetReachable) -> SendOutcome:
        """An invitation to a manager who cannot be messaged yet (on Teams: no app) must not
        be lost, and is neither a failure (that would pause a journey) nor a fault to retry
        (`max_attempts` would end it): the inviter was told it waits, whether or not the
        manager has the app, and it does. Its attempt is given back and the row released.
        Storing the manager's conversation makes it due at once (`remember_chat` calls
        `store.wake_waiting_checkins`); it is looked at again every RECIPIENT_RECHECK too,
        in case a wake-up and this release crossed. Withdrawal cancels it; erasure deletes it.
        """
        due = self.services.clock() + RECIPIENT_RECHECK
        logger.info("check-in %s: waiting for its recipient (%s)", job.checkin_id, error)
        await asyncio.to_thread(self._release, job, due, f"waiting: {error}", False, True, None)
        return SendOutcome.DEFERRED

    async def _retry_later(
        self,
        job: _Job,
        error: DeliveryDeferred,
        *,
        maybe_posted: bool,
        profile: Profile | None = None,
    ) -> SendOutcome:
        reason = str(error)
        if job.attempts >= self.max_attempts:
            logger.error(
                "check-in %s: giving up after %s attempts: %s", job.checkin_id, job.attempts, reason
            )
            await asyncio.to_thread(self._fail, job, reason, pause=False)
            return SendOutcome.FAILED
        backoff = min(30 * 2 ** (job.attempts - 1), 3600)
        due = self.services.clock() + timedelta(seconds=max(error.retry_after, backoff))
        logger.info("check-in %s: retry at %s (%s)", job.checkin_id, due.isoformat(), reason)
        await asyncio.to_thread(self._release, job, due, reason, maybe_posted, False, profile)
        return SendOutcome.DEFERRED

    # -- recording -------------------------------------------------------------------------

    def _save_profile(self, session: Session, job: _Job, profile: Profile | None) -> None:
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

    def _mark_posting(self, job: _Job, profile: Profile | None) -> bool:
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
        self, job: _Job, channel_id: str, message_ts: str, profile: Profile | None
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
        job: _Job,
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

    def _fail(self, job: _Job, reason: str, *, pause: bool) -> None:
        if self.metrics is not None:
            self.metrics.checkin_outcome(job.kind, SendOutcome.FAILED.value)
        with self.services.sessions.begin() as session:
            outbox.fail_checkin(session, checkin_id=job.checkin_id, owner=self.owner, error=reason)
            journey = session.get(Journey, job.journey_id) if job.journey_id else None
            if pause and journey is not None and journey.status == JourneyStatus.ACTIVE:
                journey.status = JourneyStatus.PAUSED
                journey.updated_at = self.services.clock()
                session.add(journey)

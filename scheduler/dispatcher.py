"""Claims due check-in rows and hands them to the sender of the person's platform."""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import ids, store
from bot.config import WorkingTime
from bot.models import Checkin, Journey, JourneyStatus, Person
from bot.schedule import find_workspace, replan_for_person, working_time
from bot.services import Services
from handlers.checkin_messages import checkin_message
from handlers.compose import finished_message, plain, stage_message
from handlers.feedback import draft_message
from handlers.goals import goals_of
from handlers.meeting_messages import NothingToSay, meeting_message
from messages.model import Bullets, Message
from scheduler.delivery import DeliveryDeferred, Profile, Recipient, RecipientUnreachable, Sender
from scheduler.timing import is_working_moment, next_working_moment, person_zone, spread

logger = logging.getLogger(__name__)

PROFILE_MAX_AGE = timedelta(days=1)


class SendOutcome(enum.Enum):
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"  # someone else holds it, or it is gone


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
        *,
        owner: str | None = None,
        page_size: int = 50,
        lease: timedelta | None = None,
        max_attempts: int = 8,
        concurrency: int = 8,
    ) -> None:
        self.services = services
        self.senders = senders
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.page_size = page_size
        self.lease = lease or timedelta(seconds=services.settings.lease_seconds)
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.stopping = False
        self._sweeping = asyncio.Lock()

    async def send_now(self, checkin_id: int) -> SendOutcome:
        """Send one row at once (the command path); a no-op if another worker has it."""
        if not await asyncio.to_thread(self._claim_one, checkin_id):
            return SendOutcome.SKIPPED
        return await self._deliver(checkin_id)

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
            store.forget_old_events(session, before=self.services.clock() - timedelta(days=1))

    # -- claiming --------------------------------------------------------------------------

    def _claim_one(self, checkin_id: int) -> bool:
        with self.services.sessions.begin() as session:
            return store.claim_checkin(
                session,
                checkin_id=checkin_id,
                owner=self.owner,
                now=self.services.clock(),
                lease=self.lease,
            )

    def _claim_page(self) -> Sequence[tuple[int, str]]:
        """Claim a page of due rows; each with its lane, so one person's stay in order."""
        now = self.services.clock()
        with self.services.sessions.begin() as session:
            due = store.due_checkin_ids(session, now=now, limit=self.page_size)
            claimed = [
                checkin_id
                for checkin_id in due
                if store.claim_checkin(
                    session, checkin_id=checkin_id, owner=self.owner, now=now, lease=self.lease
                )
            ]
            lanes = store.lanes_of_checkins(session, claimed)
            return [(checkin_id, lanes[checkin_id]) for checkin_id in claimed]

    def _unclaim(self, checkin_id: int) -> None:
        with self.services.sessions.begin() as session:
            store.release_checkin(
                session,
                checkin_id=checkin_id,
                owner=self.owner,
                due_at=self.services.clock(),
                error="handed back at shutdown",
            )

    def _load(self, checkin_id: int) -> _Job | None:
        with self.services.sessions.begin() as session:
            attempts = store.begin_attempt(session, checkin_id=checkin_id, owner=self.owner)
            checkin = session.get(Checkin, checkin_id)
            if attempts is None or checkin is None:
                return None
            journey = session.get(Journey, checkin.journey_id) if checkin.journey_id else None
            person_id = checkin.recipient_id or (journey.person_id if journey else None)
            person = session.get(Person, person_id) if person_id else None
            if person is None or person.id is None:
                return None
            superseded = None
            if checkin.supersedes_checkin_id is not None:
                old = session.get(Checkin, checkin.supersedes_checkin_id)
                if old is not None and old.channel_id and old.message_ts:
                    superseded = (old.channel_id, old.message_ts)
            workspace = find_workspace(
                session, platform=person.platform, workspace_id=person.workspace_id
            )
            checked = person.profile_checked_at
            return _Job(
                checkin_id=checkin_id,
                kind=checkin.kind,
                stage_id=checkin.stage_id,
                attempts=attempts,
                within_hours=checkin.within_hours,
                posting_since=checkin.posting_since,
                recipient=Recipient(
                    platform=person.platform,
                    workspace_id=person.workspace_id,
                    user_id=person.user_id,
                    dm_channel_id=person.dm_channel_id,
                ),
                person_id=person.id,
                journey_id=journey.id if journey else None,
                meeting_id=checkin.meeting_id,
                profile=Profile(time_zone=person.time_zone, locale=person.locale),
                profile_fresh=checked is not None
                and self.services.clock() - checked < PROFILE_MAX_AGE,
                working=working_time(
                    self.services.settings.working_time, workspace=workspace, person=person
                ),
                zone_override=person.time_zone_override,
                superseded=superseded,
            )

    # -- sending ---------------------------------------------------------------------------

    async def _deliver(self, checkin_id: int) -> SendOutcome:
        job = await asyncio.to_thread(self._load, checkin_id)
        if job is None:
            return SendOutcome.SKIPPED
        sender = self.senders.get(job.recipient.platform)
        if sender is None:
            await asyncio.to_thread(self._fail, job, "no sender for this platform", pause=False)
            return SendOutcome.FAILED
        posting = False
        try:
            profile = job.profile if job.profile_fresh else await self._refresh_profile(sender, job)
            if job.within_hours and not await self._in_working_hours(job, profile):
                return SendOutcome.DEFERRED
            found = None
            if job.posting_since is not None:
                # An earlier attempt may have reached the person: look before posting again.
                found = await sender.find_delivered(
                    job.recipient, checkin_id=checkin_id, since=job.posting_since
                )
            if found is None:
                message = await asyncio.to_thread(self._compose, job, profile)
                if not await asyncio.to_thread(self._mark_posting, job):
                    return SendOutcome.SKIPPED  # the lease went to another worker
                posting = True
                found = await sender.deliver(job.recipient, message, checkin_id=checkin_id)
            else:
                logger.info("check-in %s: already delivered, not posting again", checkin_id)
        except NothingToSay as error:
            logger.info("check-in %s: not sent, %s is gone", checkin_id, error)
            await asyncio.to_thread(self._fail, job, f"gone: {error}", pause=False)
            return SendOutcome.FAILED
        except RecipientUnreachable as error:
            logger.warning(
                "check-in %s: recipient unreachable (%s); journey paused", checkin_id, error
            )
            await asyncio.to_thread(self._fail, job, f"unreachable: {error}", pause=True)
            return SendOutcome.FAILED
        except DeliveryDeferred as error:
            # Only a post that surely failed clears the mark; a fault before it changes nothing.
            return await self._retry_later(
                job, error, maybe_posted=error.maybe_delivered or not posting
            )
        except Exception:
            logger.exception("check-in %s: unexpected error while sending", checkin_id)
            return await self._retry_later(
                job, DeliveryDeferred("unexpected error"), maybe_posted=True
            )

        if not await asyncio.to_thread(self._mark_sent, job, found.channel_id, found.message_ts):
            logger.warning("check-in %s: lease lost before it was marked sent", checkin_id)
        if job.superseded is not None:
            await self._retire(sender, job, profile)
        return SendOutcome.SENT

    async def _in_working_hours(self, job: _Job, profile: Profile) -> bool:
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
        await asyncio.to_thread(self._release, job, due, "outside working hours", False, True)
        return False

    async def _refresh_profile(self, sender: Sender, job: _Job) -> Profile:
        """Time zone and locale from the platform; what we knew before if it can't say now."""
        try:
            profile = await sender.fetch_profile(job.recipient)
        except DeliveryDeferred as error:
            logger.info("check-in %s: profile not refreshed (%s)", job.checkin_id, error)
            return job.profile
        await asyncio.to_thread(self._save_profile, job.person_id, profile)
        return profile

    def _compose(self, job: _Job, profile: Profile) -> Message:
        services = self.services
        locale = services.content.for_locale(profile.locale)
        settings = services.settings
        if job.kind == ids.CHECKIN_KIND_STAGE and job.stage_id in locale.stages:
            return stage_message(
                content=services.content,
                locale=locale,
                settings=settings,
                stage_id=job.stage_id or "",
                checkin_id=job.checkin_id,
            )
        if job.kind == ids.CHECKIN_KIND_FINISHED:
            return finished_message(locale, settings)
        if job.meeting_id is not None or job.kind == ids.CHECKIN_KIND_MEETING_GRANT:
            with services.sessions.begin() as session:
                return meeting_message(
                    session,
                    kind=job.kind,
                    checkin_id=job.checkin_id,
                    recipient_id=job.person_id,
                    locale=locale,
                    services=services,
                )
        with services.sessions.begin() as session:
            goals = goals_of(session, job.person_id)
        if job.kind == ids.CHECKIN_KIND_GOALS_SAVED:
            saved = plain(
                locale, settings, locale.checkin("goals_nudge", "saved", count=len(goals))
            )
            return Message(
                notification=saved.notification,
                title=locale.checkin("goals_form", "title"),
                blocks=(*saved.blocks, Bullets(tuple(goals))),
            )
        if job.kind == ids.CHECKIN_KIND_FEEDBACK_REQUEST:
            with services.sessions.begin() as session:
                return draft_message(
                    session, person_id=job.person_id, locale=locale, services=services
                )
        if job.kind in locale.checkins:
            return checkin_message(
                job.kind, locale=locale, settings=settings, checkin_id=job.checkin_id, goals=goals
            )
        raise RecipientUnreachable(f"nothing to say for {job.kind}:{job.stage_id}")

    async def _retire(self, sender: Sender, job: _Job, profile: Profile) -> None:
        assert job.superseded is not None
        locale = self.services.content.for_locale(profile.locale)
        try:
            await sender.replace(
                *job.superseded, plain(locale, self.services.settings, locale.text("superseded"))
            )
        except Exception:  # the new copy went out; an old copy left as it was is harmless
            logger.warning(
                "check-in %s: could not retire the older copy", job.checkin_id, exc_info=True
            )

    async def _retry_later(
        self, job: _Job, error: DeliveryDeferred, *, maybe_posted: bool
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
        await asyncio.to_thread(self._release, job, due, reason, maybe_posted, False)
        return SendOutcome.DEFERRED

    # -- recording -------------------------------------------------------------------------

    def _save_profile(self, person_id: int, profile: Profile) -> None:
        with self.services.sessions.begin() as session:
            person = session.get(Person, person_id)
            if person is None:
                return
            moved = (
                bool(profile.time_zone)
                and profile.time_zone != person.time_zone
                and not person.time_zone_override  # their own choice stands
            )
            person.time_zone = profile.time_zone or person.time_zone
            person.locale = profile.locale or person.locale
            person.profile_checked_at = self.services.clock()
            session.add(person)
            if moved:
                replan_for_person(
                    session,
                    person=person,
                    settings=self.services.settings,
                    timing=self.services.content.timing,
                )

    def _mark_posting(self, job: _Job) -> bool:
        with self.services.sessions.begin() as session:
            return store.mark_posting(
                session,
                checkin_id=job.checkin_id,
                owner=self.owner,
                now=self.services.clock(),
                lease=self.lease,
            )

    def _mark_sent(self, job: _Job, channel_id: str, message_ts: str) -> bool:
        with self.services.sessions.begin() as session:
            person = session.get(Person, job.person_id)
            if person is not None and person.dm_channel_id != channel_id:
                person.dm_channel_id = channel_id
                session.add(person)
            return store.mark_sent(
                session,
                checkin_id=job.checkin_id,
                owner=self.owner,
                channel_id=channel_id,
                message_ts=message_ts,
                now=self.services.clock(),
            )

    def _release(
        self, job: _Job, due: datetime, reason: str, maybe_posted: bool, refund_attempt: bool
    ) -> None:
        with self.services.sessions.begin() as session:
            store.release_checkin(
                session,
                checkin_id=job.checkin_id,
                owner=self.owner,
                due_at=due,
                error=reason,
                maybe_posted=maybe_posted,
                refund_attempt=refund_attempt,
            )

    def _fail(self, job: _Job, reason: str, *, pause: bool) -> None:
        with self.services.sessions.begin() as session:
            store.fail_checkin(session, checkin_id=job.checkin_id, owner=self.owner, error=reason)
            journey = session.get(Journey, job.journey_id) if job.journey_id else None
            if pause and journey is not None and journey.status == JourneyStatus.ACTIVE:
                journey.status = JourneyStatus.PAUSED
                journey.updated_at = self.services.clock()
                session.add(journey)

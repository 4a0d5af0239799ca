"""Sending one claimed row: the profile, working hours, composing, posting (or finding an
earlier post), and what a fault means for the row; stepping aside for answers people await."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import partial

from bot.core import ids
from bot.core.delivery import (
    Composer,
    Delivered,
    DeliveryDeferred,
    NothingToSay,
    Profile,
    RecipientNotYetReachable,
    RecipientUnreachable,
    Sender,
)
from bot.core.working_calendar import is_working_moment, next_working_moment, person_zone, spread
from messages.model import Message
from scheduler.group_commit import GroupCommit
from scheduler.row_leases import Job, RowLeases, SendOutcome, SentRow

logger = logging.getLogger(__name__)

# How long sending steps aside for answers a person is waiting on: at most 40 x 5 ms a step.
ANSWER_YIELD_STEPS = 40
ANSWER_YIELD_SECONDS = 0.005
# This long between a row's claim and its post, the row is checked again before the post.
FROZEN_SECONDS = 1.0
# How often a row waiting for a recipient who cannot be messaged yet is looked at again.
RECIPIENT_RECHECK = timedelta(days=1)
# How often a row of a platform this process does not serve is looked at again.
PLATFORM_RECHECK = timedelta(hours=1)


class RowDelivery(RowLeases):
    """Sends a claimed row through the sender of the recipient's platform."""

    senders: Mapping[str, Sender]
    composer: Composer
    max_attempts: int
    _answering: int
    sent_marks: GroupCommit[SentRow, bool]
    # A sweep's rows posted and not yet marked sent (the sweep waits for them before it ends).
    marking: set[asyncio.Task[None]]

    def _hold(self, task: asyncio.Task[None]) -> None:
        self.marking.add(task)
        task.add_done_callback(self.marking.discard)

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

    async def _send(self, job: Job, *, in_sweep: bool = False) -> SendOutcome:
        checkin_id = job.checkin_id
        sender = self.senders.get(job.recipient.platform)
        if sender is None:  # a platform this deployment no longer serves: the row waits
            return await self._wait_for_platform(job)
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
                await self._after_answers()
                if not await self._still_ours(job):
                    return SendOutcome.SKIPPED  # another sender took the row over
                posting = True
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
            # A fault before the post, or a post that surely failed, puts the earlier mark back.
            return await self._retry_later(
                job, error, maybe_posted=posting and error.maybe_delivered, profile=fetched
            )
        except Exception:
            logger.exception("check-in %s: unexpected error while sending", checkin_id)
            return await self._retry_later(
                job, DeliveryDeferred("unexpected error"), maybe_posted=posting, profile=fetched
            )

        finishing = self._finish_sent(sender, job, found, profile, fetched)
        if in_sweep:  # the slot serves the next row while the mark is written
            self._hold(asyncio.get_running_loop().create_task(finishing))
        else:
            await finishing
        return SendOutcome.SENT

    async def _finish_sent(
        self,
        sender: Sender,
        job: Job,
        found: Delivered,
        profile: Profile,
        fetched: Profile | None,
    ) -> None:
        """Mark a posted row sent (with the sends finishing beside it: `sent_marks`), then
        retire the copy it replaces. Until the mark is written the person's next row is not
        due (`outbox.due_rows`), so their order holds however soon the slot moves on."""
        await self._after_answers()
        written_in = self.services.content.for_locale(
            job.language or profile.locale, job.recipient.platform
        ).locale
        marked = await self.sent_marks.submit(
            SentRow(job, found.channel_id, found.message_ts, fetched, written_in)
        )
        if not marked:
            logger.warning("check-in %s: lease lost before it was marked sent", job.checkin_id)
        if job.superseded is not None:
            await self._retire(sender, job, profile)

    async def _still_ours(self, job: Job) -> bool:
        """Whether the row may be posted. Nothing comes between the claim (which marked it
        as possibly posted) and the post but the profile, the working-hours check and the
        composing: a process frozen there (SIGSTOP, a stalled VM) past DEAD_AFTER may have
        lost the row to another, which may have posted it already. A gap longer than
        FROZEN_SECONDS is such a freeze (or a loop stalled as long): the row is checked again
        before it is posted. A freeze after this check cannot be told from here (Slack and
        Teams take no idempotency key); the next holder's look-up for an earlier post, which
        the claim's mark asks for, covers what it can. The gap is counted both on this
        process's steady clock and on the clock leases are counted in (the same in a
        deployment; a test's clock moves on its own).
        """
        waited = max(
            time.monotonic() - job.claimed_at,
            (self.services.clock() - job.claimed_on).total_seconds(),
        )
        if waited <= FROZEN_SECONDS:
            return True
        logger.info("check-in %s: a while since its claim; checking the row", job.checkin_id)
        return await asyncio.to_thread(self._still_held, job)

    async def _in_working_hours(self, job: Job, profile: Profile, fetched: Profile | None) -> bool:
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
        await self._put_back(job, due, "outside working hours", profile=fetched)
        return False

    async def _fetch_profile(self, sender: Sender, job: Job) -> Profile | None:
        """Time zone and locale from the platform; None if it can't say now."""
        try:
            return await sender.fetch_profile(job.recipient)
        except DeliveryDeferred as error:
            logger.info("check-in %s: profile not refreshed (%s)", job.checkin_id, error)
            return None

    def _composed_from_content(self, job: Job, profile: Profile) -> bool:
        """True for the messages `_compose` makes from the content files alone."""
        if job.kind == ids.CHECKIN_KIND_FINISHED:
            return True
        stages = self.services.content.for_locale(
            job.language or profile.locale, job.recipient.platform
        ).stages
        return job.kind == ids.CHECKIN_KIND_STAGE and job.stage_id in stages

    def _compose(self, job: Job, profile: Profile) -> Message:
        return self.composer.checkin(
            self.services,
            kind=job.kind,
            stage_id=job.stage_id,
            checkin_id=job.checkin_id,
            person_id=job.person_id,
            meeting_id=job.meeting_id,
            locale_name=job.language or profile.locale,
            platform=job.recipient.platform,
        )

    async def _retire(self, sender: Sender, job: Job, profile: Profile) -> None:
        assert job.superseded is not None
        locale = self.services.content.for_locale(
            job.language or profile.locale, job.recipient.platform
        )
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

    async def _wait_for_recipient(self, job: Job, error: RecipientNotYetReachable) -> SendOutcome:
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
        await self._put_back(job, due, f"waiting: {error}")
        return SendOutcome.DEFERRED

    async def _wait_for_platform(self, job: Job) -> SendOutcome:
        """A row for a platform this process has no sender for (a deployment that served Slack
        and now serves Teams alone, or the other way round) is neither sent nor failed: it
        goes back as it was (its attempt and posting mark too), and is looked at again every
        PLATFORM_RECHECK, so that it goes out once a process serving its platform runs."""
        platform = job.recipient.platform
        logger.warning("check-in %s: %s is not served here; it waits", job.checkin_id, platform)
        due = self.services.clock() + PLATFORM_RECHECK
        reason = f"waiting: {platform} is not served"
        await self._put_back(job, due, reason)
        return SendOutcome.DEFERRED

    async def _retry_later(
        self,
        job: Job,
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
        # Exponential, with jitter: rows that failed together are not retried together.
        backoff = min(30 * 2 ** (job.attempts - 1), 3600) * random.uniform(1.0, 1.25)
        due = self.services.clock() + timedelta(seconds=max(error.retry_after, backoff))
        logger.info("check-in %s: retry at %s (%s)", job.checkin_id, due.isoformat(), reason)
        await self._put_back(
            job, due, reason, maybe_posted=maybe_posted, refund_attempt=False, profile=profile
        )
        return SendOutcome.DEFERRED

    async def _put_back(
        self,
        job: Job,
        due: datetime,
        reason: str,
        *,
        maybe_posted: bool = False,
        refund_attempt: bool = True,
        profile: Profile | None = None,
    ) -> None:
        """Release a row until `due`. By default it waits untried: nothing was posted, the try
        is given back (waiting is not failing), and its earlier posting mark is kept."""
        release = partial(
            self._release,
            maybe_posted=maybe_posted,
            refund_attempt=refund_attempt,
            profile=profile,
        )
        await asyncio.to_thread(release, job, due, reason)

"""Outbound delivery that never stalls: per-row retries, final states, unreachable users.

Every outbox (session summaries, attendance nudges, and any added later) goes through the same
rules, so one bad row can never hold up the rows behind it:

* a row is claimed only when it is due (not leased, past its back-off, not final);
* a failure Telegram calls permanent (the user blocked the bot, never started it, was
  deactivated, or the chat does not exist) ends the row at once and marks its recipient
  unreachable, so nothing more is queued to them until they write to the bot again;
* any other failure postpones the row with exponential back-off (at least Telegram's
  `retry_after`), and after `RetryPolicy.max_attempts` attempts the row ends as well;
* a teacher's summary that ended undelivered is shown to them the next time they write.

The bot layer classifies Telegram's errors (the services never import `telegram`) and raises
`DeliveryFailed`; anything else a notifier raises is treated as transient.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from services.clock import Clock
from services.errors import StorageUnavailable
from services.models import Nudge, SessionSummary, SummaryPart, SummaryProgress
from services.ports import Notifier, RecordStore

log = logging.getLogger(__name__)

T = TypeVar("T")

# Outbox kinds (the `kind` label of the metrics).
SUMMARY = "summary"
NUDGE = "nudge"
KINDS = (SUMMARY, NUDGE)

# Why a row ended undelivered (stored in the outbox's `failure` column; the `reason` label).
UNREACHABLE = "unreachable"  # blocked, never started, deactivated, chat not found
REJECTED = "rejected"  # Telegram refused this message itself: sending it again cannot help
EXHAUSTED = "exhausted"  # transient failures until the attempts ran out
FAILURES = (UNREACHABLE, REJECTED, EXHAUSTED)


@dataclass
class DeliveryFailed(Exception):
    """Telegram did not take a message; says whether trying again can help.

    Attributes:
        reason: what Telegram answered, for the logs and the outbox's `last_error`.
        permanent: sending the same message again can never succeed.
        unreachable: the recipient cannot be written to at all (implies permanent).
        retry_after: Telegram asked to wait this many seconds (flood control).
    """

    reason: str
    permanent: bool = False
    unreachable: bool = False
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off per row: 15 s, 30 s, 1 min ... capped at 30 min, 10 attempts
    (about 1.5 hours of a Telegram outage before a row ends; a summary that ended this way
    is still shown to its teacher when they next write)."""

    max_attempts: int = 10
    base_seconds: float = 15.0
    cap_seconds: float = 1800.0

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1 = the first)."""
        delay: float = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1))
        return max(delay, retry_after or 0.0)


@dataclass
class DeliveryReport:
    """What one delivery run did, for logs, metrics and tests."""

    summaries_sent: int = 0
    nudges_sent: int = 0
    retries: Counter[str] = field(default_factory=Counter)  # by kind
    undeliverable: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, failure)
    unreachable: set[int] = field(default_factory=set)  # recipients found unreachable


async def summary_progress(
    records: RecordStore, session_id: str, checkpoint: Callable[[str], None] | None = None
) -> SummaryProgress:
    """What of a queued summary Telegram already took, recorded part by part in its row.

    `checkpoint("summary.<part>")` runs between Telegram taking a part and the row recording
    it (the fault tests kill the process there: that part alone is sent again).
    """
    done = await records.summary_parts_sent(session_id)

    async def record(part: SummaryPart) -> None:
        if checkpoint is not None:
            checkpoint(f"summary.{part.value}")
        await records.mark_summary_part_sent(session_id, part)

    return SummaryProgress(done, record)


def as_failure(exc: Exception) -> DeliveryFailed:
    """The notifier's verdict, or a transient failure for anything it did not classify."""
    if isinstance(exc, DeliveryFailed):
        return exc
    return DeliveryFailed(f"{type(exc).__name__}: {exc}")


class OutboxCourier:
    """Delivers due outbox rows side by side, each leased while Telegram takes it.

    A row is marked sent only after Telegram accepted it; if the process dies in between, the
    lease runs out and it is sent again (at least once). A row that fails gets a later due
    time, so the same run never claims it again and the rows behind it go first; a row that
    is slow (a time-out, a chat's one-message-a-second limit) does not delay the others.
    """

    def __init__(
        self,
        records: RecordStore,
        clock: Clock,
        lease_seconds: float = 60.0,
        policy: RetryPolicy | None = None,
        checkpoint: Callable[[str], None] | None = None,
        concurrency: int = 10,
    ) -> None:
        self._records = records
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._policy = policy or RetryPolicy()
        self._checkpoint = checkpoint or (lambda name: None)
        self._turns = {kind: asyncio.Semaphore(concurrency) for kind in KINDS}

    @asynccontextmanager
    async def _renewing(
        self, extend: Callable[[T, datetime], Awaitable[None]], item: T
    ) -> AsyncIterator[None]:
        """Keep an outbox lease alive (renewed every third of its length) while inside."""

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self._lease_seconds / 3)
                until = self._clock.now() + timedelta(seconds=self._lease_seconds)
                try:
                    await extend(item, until)
                except StorageUnavailable:
                    log.warning("could not renew an outbox lease; it may be sent twice")

        task = asyncio.get_running_loop().create_task(heartbeat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def deliver(
        self, notifier: Notifier, limit: int = 20, nudge_limit: int = 100
    ) -> DeliveryReport:
        """Send up to `limit` due summaries and `nudge_limit` due nudges.

        Raises:
            StorageUnavailable: PostgreSQL went away (the row in hand is released first).
        """
        report = DeliveryReport()
        ended = await self._records.give_up_unreachable(self._clock.now())
        for kind, count in ended.items():
            if count:
                report.undeliverable[(kind, UNREACHABLE)] += count
        # Each kind side by side with the others too: a teacher's summary waiting for their
        # chat's pace does not hold up the nudges.
        await self._together(
            [
                self._deliver_summaries(notifier, limit, report),
                self._deliver_nudges(notifier, nudge_limit, report),
            ]
        )
        return report

    async def _deliver_summaries(
        self, notifier: Notifier, limit: int, report: DeliveryReport
    ) -> None:
        claimed = await self._records.claim_pending_summaries(
            self._clock.now(), self._lease_seconds, limit
        )
        await self._together(
            [self._deliver_summary(notifier, sid, attempts, report) for sid, attempts in claimed]
        )

    async def _together(self, deliveries: list[Coroutine[Any, Any, None]]) -> None:
        """Run the deliveries side by side (a slow or failing one never delays the others;
        the flood limiter keeps the pace), at most `concurrency` of a kind talking at once.

        Raises:
            StorageUnavailable: after every delivery finished, if any met it.
        """
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _deliver_summary(
        self, notifier: Notifier, session_id: str, attempts: int, report: DeliveryReport
    ) -> None:
        summary: SessionSummary | None = None
        try:
            # The lease is renewed while the row waits for its turn and for Telegram (behind
            # a burst of replies that can take minutes): no other process takes it over.
            async with (
                self._renewing(self._records.extend_summary_lease, session_id),
                self._turns[SUMMARY],
            ):
                summary = await self._records.load_summary(session_id)
                if summary is None:  # deleted meanwhile (retention), with its outbox row
                    return
                # Only the parts an earlier attempt did not get through: the text once.
                progress = await summary_progress(self._records, session_id, self._checkpoint)
                await notifier.send_summary(summary, progress)
        except StorageUnavailable:
            await self._records.release_summary(session_id)
            raise
        except Exception as exc:
            await self._failed(
                SUMMARY,
                f"summary of session {session_id}",
                summary.teacher_id if summary is not None else None,
                attempts,
                as_failure(exc),
                report,
                postpone=lambda at, why: self._records.postpone_summary(session_id, at, why),
                give_up=lambda failure, why: self._records.give_up_summary(
                    session_id, self._clock.now(), failure, why
                ),
            )
            return
        self._checkpoint("summary.sent")
        await self._records.mark_summary_sent(session_id, self._clock.now())
        report.summaries_sent += 1

    async def _deliver_nudges(self, notifier: Notifier, limit: int, report: DeliveryReport) -> None:
        claimed = await self._records.claim_pending_nudges(
            self._clock.now(), self._lease_seconds, limit
        )
        await self._together([self._deliver_nudge(notifier, nudge, report) for nudge in claimed])

    async def _deliver_nudge(
        self, notifier: Notifier, nudge: Nudge, report: DeliveryReport
    ) -> None:
        try:
            async with (
                self._renewing(self._records.extend_nudge_lease, nudge),
                self._turns[NUDGE],
            ):
                await notifier.send_nudge(nudge)
        except StorageUnavailable:
            await self._records.release_nudge(nudge)
            raise
        except Exception as exc:
            await self._failed(
                NUDGE,
                f"nudge to student {nudge.student_id}",
                nudge.student_id,
                nudge.attempts,
                as_failure(exc),
                report,
                postpone=lambda at, why: self._records.postpone_nudge(nudge, at, why),
                give_up=lambda failure, why: self._records.give_up_nudge(
                    nudge, self._clock.now(), failure, why
                ),
            )
            return
        await self._records.mark_nudge_sent(nudge, self._clock.now())
        report.nudges_sent += 1

    async def _failed(
        self,
        kind: str,
        what: str,
        recipient: int | None,
        attempts: int,
        failure: DeliveryFailed,
        report: DeliveryReport,
        postpone: Callable[[datetime, str], Awaitable[None]],
        give_up: Callable[[str, str], Awaitable[None]],
    ) -> None:
        """Back off, or end the row: at once when permanent, else after the last attempt."""
        if failure.unreachable and recipient is not None:
            await self._records.set_unreachable(recipient, failure.reason, self._clock.now())
            report.unreachable.add(recipient)
        if failure.permanent or failure.unreachable:
            ending = UNREACHABLE if failure.unreachable else REJECTED
        elif attempts >= self._policy.max_attempts:
            ending = EXHAUSTED
        else:
            delay = self._policy.delay(attempts, failure.retry_after)
            await postpone(self._clock.now() + timedelta(seconds=delay), failure.reason)
            report.retries[kind] += 1
            log.info("%s failed (attempt %d, %s); next in %.0f s", what, attempts, failure, delay)
            return
        await give_up(ending, failure.reason)
        report.undeliverable[(kind, ending)] += 1
        log.warning("%s undeliverable after %d attempt(s): %s", what, attempts, failure)


class DeliveryService:
    """Who the bot can write to, and the summaries a teacher missed.

    Keeps, per process, the set of users who need attention when they write (unreachable
    users, teachers with a summary that ended undelivered), refreshed from PostgreSQL at each
    delivery run, so the updates of everyone else cost nothing extra.
    """

    def __init__(self, records: RecordStore, clock: Clock, lease_seconds: float = 60.0) -> None:
        self._records = records
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._awaited: set[int] = set()

    async def refresh(self) -> None:
        """Reload who needs attention (so every process learns of blocks and failures)."""
        self._awaited = await self._records.awaited_users()

    def awaits(self, user_id: int) -> bool:
        return user_id in self._awaited

    async def recipient_blocked(self, user_id: int) -> None:
        """The user blocked the bot: nothing more is queued to them, queued rows end."""
        await self._records.set_unreachable(user_id, "blocked the bot", self._clock.now())
        self._awaited.add(user_id)

    async def recipient_unblocked(self, user_id: int) -> None:
        """The user unblocked the bot: reachable again (missed summaries wait for a message)."""
        await self._records.set_reachable(user_id)

    async def recipient_back(self, user_id: int) -> list[SessionSummary]:
        """The user wrote to the bot: reachable again; returns the summaries they missed,
        leased to this caller, to be shown now and confirmed with `summary_shown`."""
        if user_id not in self._awaited:
            return []
        self._awaited.discard(user_id)
        await self._records.set_reachable(user_id)
        summaries = []
        claimed = await self._records.claim_undelivered_summaries(
            user_id, self._clock.now(), self._lease_seconds
        )
        for session_id in claimed:
            summary = await self._records.load_summary(session_id)
            if summary is not None:
                summaries.append(summary)
        return summaries

    async def summary_shown(self, session_id: str) -> None:
        await self._records.mark_summary_sent(session_id, self._clock.now())

    async def summary_progress(self, session_id: str) -> SummaryProgress:
        """The parts of an undelivered summary already taken (not to be shown twice)."""
        return await summary_progress(self._records, session_id)

    async def summary_sent_on_request(self, session_id: str) -> None:
        """The teacher asked for this summary (/summary) and Telegram took all of it: a row
        still queued for it, or ended undelivered, is delivered now, so neither the courier
        nor the "missed summaries" follow-up sends it a second time."""
        await self._records.mark_summary_sent(session_id, self._clock.now())

    async def summary_not_shown(self, summary: SessionSummary, error: Exception) -> None:
        """Showing it failed as well: it stays undelivered, to be shown at the next message."""
        failure = as_failure(error)
        await self._records.release_summary(summary.session_id)
        self._awaited.add(summary.teacher_id)
        if failure.unreachable:
            now = self._clock.now()
            await self._records.set_unreachable(summary.teacher_id, failure.reason, now)
        log.warning("undelivered summary of %s not shown: %s", summary.session_id, failure)

"""The outbox courier: delivers due summaries and nudges by the rules in `services.delivery`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from services.clock import Clock
from services.delivery import (
    EXHAUSTED,
    KINDS,
    NUDGE,
    REJECTED,
    SUMMARY,
    UNREACHABLE,
    DeliveryFailed,
    DeliveryReport,
    RetryPolicy,
    as_failure,
    summary_progress,
)
from services.errors import StorageUnavailable
from services.models import Nudge, SessionSummary
from services.ports import Notifier, NudgeOutbox, Reachability, SummaryOutbox

log = logging.getLogger(__name__)

T = TypeVar("T")


class OutboxCourier:
    """Delivers due outbox rows side by side, each leased while Telegram takes it.

    A row is marked sent only after Telegram accepted it; if the process dies in between, the
    lease runs out and it is sent again (at least once). A row that fails gets a later due
    time, so the same run never claims it again and the rows behind it go first; a row that
    is slow (a time-out, a chat's one-message-a-second limit) does not delay the others.
    """

    def __init__(
        self,
        *,
        summaries: SummaryOutbox,
        nudges: NudgeOutbox,
        reachability: Reachability,
        clock: Clock,
        lease_seconds: float = 60.0,
        policy: RetryPolicy | None = None,
        checkpoint: Callable[[str], None] | None = None,
        concurrency: int = 10,
    ) -> None:
        self._summaries = summaries
        self._nudges = nudges
        self._reachability = reachability
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
        ended = await self._reachability.give_up_unreachable(self._clock.now())
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
        claimed = await self._summaries.claim_pending_summaries(
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
                self._renewing(self._summaries.extend_summary_lease, session_id),
                self._turns[SUMMARY],
            ):
                summary = await self._summaries.load_summary(session_id)
                if summary is None:  # deleted meanwhile (retention), with its outbox row
                    return
                # Only the parts an earlier attempt did not get through: the text once.
                progress = await summary_progress(self._summaries, session_id, self._checkpoint)
                await notifier.send_summary(summary, progress)
        except StorageUnavailable:
            await self._summaries.release_summary(session_id)
            raise
        except Exception as exc:
            await self._failed(
                SUMMARY,
                f"summary of session {session_id}",
                summary.teacher_id if summary is not None else None,
                attempts,
                as_failure(exc),
                report,
                postpone=lambda at, why: self._summaries.postpone_summary(session_id, at, why),
                give_up=lambda failure, why: self._summaries.give_up_summary(
                    session_id, now=self._clock.now(), failure=failure, error=why
                ),
            )
            return
        self._checkpoint("summary.sent")
        await self._summaries.mark_summary_sent(session_id, self._clock.now())
        report.summaries_sent += 1

    async def _deliver_nudges(self, notifier: Notifier, limit: int, report: DeliveryReport) -> None:
        claimed = await self._nudges.claim_pending_nudges(
            self._clock.now(), self._lease_seconds, limit
        )
        await self._together([self._deliver_nudge(notifier, nudge, report) for nudge in claimed])

    async def _deliver_nudge(
        self, notifier: Notifier, nudge: Nudge, report: DeliveryReport
    ) -> None:
        try:
            async with (
                self._renewing(self._nudges.extend_nudge_lease, nudge),
                self._turns[NUDGE],
            ):
                await notifier.send_nudge(nudge)
        except StorageUnavailable:
            await self._nudges.release_nudge(nudge)
            raise
        except Exception as exc:
            await self._failed(
                NUDGE,
                f"nudge to student {nudge.student_id}",
                nudge.student_id,
                nudge.attempts,
                as_failure(exc),
                report,
                postpone=lambda at, why: self._nudges.postpone_nudge(nudge, at, why),
                give_up=lambda failure, why: self._nudges.give_up_nudge(
                    nudge, now=self._clock.now(), failure=failure, error=why
                ),
            )
            return
        await self._nudges.mark_nudge_sent(nudge, self._clock.now())
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
            await self._reachability.set_unreachable(recipient, failure.reason, self._clock.now())
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

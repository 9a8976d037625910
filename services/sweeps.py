"""The attendance sweep: ended sessions to PostgreSQL, then out of Redis, then a summary."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TypeVar

from services.clock import Clock
from services.errors import StorageUnavailable
from services.models import AttendanceStatus, CheckIn, SweepReport
from services.ports import LiveStore, Notifier, RecordStore, SweepClaim

log = logging.getLogger(__name__)

T = TypeVar("T")


def final_records(claim: SweepClaim) -> list[CheckIn]:
    """One record per student: check-ins, then roster members without one as absent; a
    teacher's live correction overrides either."""
    session_id = claim.session.id
    records: dict[int, CheckIn] = {}
    marks = claim.marks
    for checkin in claim.checkins:
        status = marks.get(checkin.student_id)
        corrected = checkin if status is None else checkin._replace(status=status)
        records[checkin.student_id] = corrected
    for student in claim.roster:
        if student not in records:
            status = claim.marks.get(student, AttendanceStatus.ABSENT)
            records[student] = CheckIn(session_id, student, None, status)
    for student, status in claim.marks.items():
        records.setdefault(student, CheckIn(session_id, student, None, status))
    return list(records.values())


class AttendanceSweeper:
    """Moves finished sessions to the system of record and delivers their summaries.

    Each step is idempotent, so the sweep is safe to run in several processes at once and to
    be killed at any point: the session is claimed with a lease in Redis (sealed against late
    check-ins), written to PostgreSQL with `ON CONFLICT DO NOTHING` together with its outbox
    row, and only then removed from Redis. Summaries leave through the outbox, each leased by
    one process and marked sent after Telegram accepted it.
    """

    def __init__(
        self,
        live: LiveStore,
        records: RecordStore,
        clock: Clock,
        lease_seconds: float = 60.0,
        batch: int = 50,
        checkpoint: Callable[[str], None] | None = None,
    ) -> None:
        # Fault-injection tests name a checkpoint at which the process kills itself.
        self._checkpoint = checkpoint or (lambda name: None)
        self._live = live
        self._records = records
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._batch = batch

    async def sweep_attendances(self) -> SweepReport:
        """Persist every ended session (up to a batch) and remove it from Redis."""
        persisted = rows = skipped = failures = 0
        for session_id in await self._live.due_sessions(self._clock.now(), self._batch):
            claim = await self._live.claim_for_sweep(
                session_id, self._clock.now(), self._lease_seconds
            )
            if claim is None:
                skipped += 1
                continue
            try:
                inserted, new_users = await self._records.persist_session(
                    claim.session, final_records(claim)
                )
                rows += inserted
            except StorageUnavailable:
                log.warning("sweep of session %s postponed: PostgreSQL unavailable", session_id)
                await self._live.release_sweep(session_id, claim.token)
                failures += 1
                continue
            self._checkpoint("sweep.committed")
            if new_users:
                await self._name_new_users(new_users)
            await self._live.finish_sweep(claim)
            self._checkpoint("sweep.removed")
            persisted += 1
            log.info("session %s persisted with %d check-ins", session_id, len(claim.checkins))
        return SweepReport(persisted, rows, skipped, failures)

    async def ended_sessions_waiting(self, limit: int = 100_000) -> int:
        """How many ended sessions are still only in Redis (not yet in PostgreSQL).

        Why: `attn export` reads PostgreSQL, and must say when it cannot show everything.
        """
        return len(await self._live.due_sessions(self._clock.now(), limit))

    async def _name_new_users(self, user_ids: list[int]) -> None:
        """Names from the profile cache for students who had no `users` row (first seen while
        PostgreSQL was away). Best effort: the user sweep writes them later otherwise."""
        try:
            profiles = await self._live.cached_profiles(user_ids)
            await self._records.upsert_profiles(list(profiles.values()))
        except StorageUnavailable:
            log.warning("names of %d new users postponed to the user sweep", len(user_ids))

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

    async def deliver_summaries(self, notifier: Notifier, limit: int = 20) -> int:
        """Send the teacher the summary of each persisted session not yet reported.

        A summary is marked sent only after Telegram accepted it. If the process dies between
        the two, the lease runs out and the summary is sent again: at least once, and exactly
        once whenever no process dies in that gap.
        """
        sent = 0
        for _ in range(limit):
            # One at a time, its lease renewed while it waits for Telegram (behind a burst of
            # replies that can take minutes): no other process takes it over meanwhile.
            claimed = await self._records.claim_pending_summaries(
                self._clock.now(), self._lease_seconds, 1
            )
            if not claimed:
                break
            session_id = claimed[0]
            summary = await self._records.load_summary(session_id)
            if summary is None:
                continue
            try:
                async with self._renewing(self._records.extend_summary_lease, session_id):
                    await notifier.send_summary(summary)
            except StorageUnavailable:
                await self._records.release_summary(session_id)
                raise
            except Exception:
                log.exception("summary of session %s not delivered; will retry", session_id)
                await self._records.release_summary(session_id)
                continue
            self._checkpoint("summary.sent")
            await self._records.mark_summary_sent(session_id, self._clock.now())
            sent += 1
        for nudge in await self._records.claim_pending_nudges(
            self._clock.now(), self._lease_seconds, 10
        ):
            try:
                async with self._renewing(self._records.extend_nudge_lease, nudge):
                    await notifier.send_nudge(nudge)
            except StorageUnavailable:
                await self._records.release_nudge(nudge)
                raise
            except Exception:
                log.exception("nudge to student %s not delivered; will retry", nudge.student_id)
                await self._records.release_nudge(nudge)
                continue
            await self._records.mark_nudge_sent(nudge, self._clock.now())
        return sent

"""The attendance sweep: ended sessions to PostgreSQL, then out of Redis, then a summary."""

from __future__ import annotations

import logging
from collections.abc import Callable

from services.clock import Clock
from services.courier import OutboxCourier
from services.delivery import DeliveryReport
from services.errors import StorageUnavailable
from services.models import AttendanceStatus, CheckIn, SweepReport
from services.ports import (
    Notifier,
    ProfileCache,
    SessionRecords,
    SweepClaim,
    SweepStore,
    UserRecords,
)

log = logging.getLogger(__name__)


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
    check-ins), written to PostgreSQL together with its outbox row, and only then removed
    from Redis. The claim counts itself: the first claim of a session copies its rows in
    plainly (no earlier sweep can have committed them); any later one, which may follow a
    sweep that committed and died before the removal, writes with `ON CONFLICT DO NOTHING`.
    Summaries leave through the outbox, each leased by one process and marked sent after
    Telegram accepted it.
    """

    def __init__(
        self,
        *,
        sweeps: SweepStore,
        profiles: ProfileCache,
        session_records: SessionRecords,
        users: UserRecords,
        courier: OutboxCourier,
        clock: Clock,
        lease_seconds: float = 60.0,
        batch: int = 50,
        checkpoint: Callable[[str], None] | None = None,
    ) -> None:
        # Fault-injection tests name a checkpoint at which the process kills itself.
        self._checkpoint = checkpoint or (lambda name: None)
        self._sweeps = sweeps
        self._profiles = profiles
        self._session_records = session_records
        self._users = users
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._batch = batch
        self._courier = courier

    async def sweep_attendances(self) -> SweepReport:
        """Persist every ended session (up to a batch) and remove it from Redis."""
        persisted = rows = skipped = failures = 0
        for session_id in await self._sweeps.due_sessions(self._clock.now(), self._batch):
            claim = await self._sweeps.claim_for_sweep(
                session_id, self._clock.now(), self._lease_seconds
            )
            if claim is None:
                skipped += 1
                continue
            try:
                inserted, new_users = await self._session_records.persist_session(
                    claim.session, final_records(claim), first_attempt=claim.attempt == 1
                )
                rows += inserted
            except StorageUnavailable:
                log.warning("sweep of session %s postponed: PostgreSQL unavailable", session_id)
                await self._sweeps.release_sweep(session_id, token=claim.token)
                failures += 1
                continue
            self._checkpoint("sweep.committed")
            if new_users:
                await self._name_new_users(new_users)
            await self._sweeps.finish_sweep(claim)
            self._checkpoint("sweep.removed")
            persisted += 1
            log.info("session %s persisted with %d check-ins", session_id, len(claim.checkins))
        return SweepReport(persisted, rows, skipped, failures)

    async def ended_sessions_waiting(self, limit: int = 100_000) -> int:
        """How many ended sessions are still only in Redis (not yet in PostgreSQL).

        Why: `attn export` reads PostgreSQL, and must say when it cannot show everything.
        """
        return len(await self._sweeps.due_sessions(self._clock.now(), limit))

    async def _name_new_users(self, user_ids: list[int]) -> None:
        """Names from the profile cache for students who had no `users` row (first seen while
        PostgreSQL was away). Best effort: the user sweep writes them later otherwise."""
        try:
            profiles = await self._profiles.cached_profiles(user_ids)
            await self._users.upsert_profiles(list(profiles.values()))
        except StorageUnavailable:
            log.warning("names of %d new users postponed to the user sweep", len(user_ids))

    async def deliver_outbox(
        self, notifier: Notifier, limit: int = 20, nudge_limit: int = 100
    ) -> DeliveryReport:
        """Send the due summaries and nudges (see `services.courier.OutboxCourier`)."""
        return await self._courier.deliver(notifier, limit, nudge_limit)

    async def deliver_summaries(self, notifier: Notifier, limit: int = 20) -> int:
        """Send the teacher the summary of each persisted session not yet reported (and the
        nudges due); returns how many summaries were sent.

        A summary is marked sent only after Telegram accepted it. If the process dies between
        the two, the lease runs out and the summary is sent again: at least once, and exactly
        once whenever no process dies in that gap.
        """
        return (await self.deliver_outbox(notifier, limit)).summaries_sent

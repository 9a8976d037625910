"""In-memory `NudgeOutbox`: warnings owed to students, leased like summaries."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.models import Nudge, Preferences
from tests.fakes.memory.database import MemoryDatabase, NudgeRow
from tests.fakes.memory.summaries import due


class MemoryNudgeOutbox:
    """Rows written by `persist_session` (INSERT_NUDGES), delivered at least once."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def _row(self, nudge: Nudge) -> NudgeRow | None:
        return self._db.nudge_outbox.get((nudge.session_id, nudge.student_id))

    async def claim_pending_nudges(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[Nudge]:
        db = self._db
        db.check()
        for (_, student_id), row in db.nudge_outbox.items():  # SKIP_OPTED_OUT
            wanted = db.user_preferences.get(student_id, Preferences()).nudges
            if not wanted and row.sent_at is None and row.failed_at is None:
                row.failed_at, row.failure = now, "opted_out"
        ready = sorted(
            ((key, row) for key, row in db.nudge_outbox.items() if due(row, now)),
            key=lambda pair: (pair[1].next_attempt_at or pair[1].created_at, pair[1].seq),
        )[:limit]
        claimed = []
        for (session_id, student_id), row in ready:
            row.claimed_until = now + timedelta(seconds=lease_seconds)
            row.attempts += 1
            course = db.courses[row.course_id]
            claimed.append(
                Nudge(
                    session_id,
                    student_id,
                    course.name,
                    float(row.percent),
                    course.warn_below_percent,
                    row.attempts,
                )
            )
        return claimed

    async def mark_nudge_sent(self, nudge: Nudge, now: datetime) -> None:
        self._db.check()
        row = self._row(nudge)
        if row is not None:  # MARK_NUDGE_SENT has no `sent_at IS NULL`: the latest time wins
            row.sent_at = now

    async def extend_nudge_lease(self, nudge: Nudge, until: datetime) -> None:
        self._db.check()
        row = self._row(nudge)
        if row is not None and row.sent_at is None:
            row.claimed_until = until

    async def release_nudge(self, nudge: Nudge) -> None:
        self._db.check()
        row = self._row(nudge)
        if row is not None:
            row.claimed_until = None

    async def postpone_nudge(self, nudge: Nudge, at: datetime, error: str) -> None:
        self._db.check()
        row = self._row(nudge)
        if row is not None and row.sent_at is None:
            row.claimed_until, row.next_attempt_at, row.last_error = None, at, error[:500]

    async def give_up_nudge(self, nudge: Nudge, *, now: datetime, failure: str, error: str) -> None:
        self._db.check()
        row = self._row(nudge)
        if row is not None and row.sent_at is None:
            row.claimed_until, row.failed_at = None, now
            row.failure, row.last_error = failure, error[:500]

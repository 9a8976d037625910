"""In-memory `SummaryOutbox`: leased, retried, finally failed rows, part by part."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.models import AttendanceLine, SessionSummary, SummaryPart
from tests.fakes.memory.attendance import line_order
from tests.fakes.memory.database import MemoryDatabase, NudgeRow, SummaryRow


def due(row: SummaryRow | NudgeRow, now: datetime) -> bool:
    """Not sent, not final, not leased, past its back-off (CLAIM_SUMMARIES, CLAIM_NUDGES)."""
    return (
        row.sent_at is None
        and row.failed_at is None
        and (row.claimed_until is None or row.claimed_until < now)
        and (row.next_attempt_at is None or row.next_attempt_at <= now)
    )


class MemorySummaryOutbox:
    """A saved session's summary owed to its teacher."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def claim_pending_summaries(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[tuple[str, int]]:
        db = self._db
        db.check()
        ready = sorted(
            ((sid, row) for sid, row in db.summary_outbox.items() if due(row, now)),
            key=lambda pair: (pair[1].next_attempt_at or pair[1].created_at, pair[1].seq),
        )[:limit]
        claimed = []
        for sid, row in ready:
            row.claimed_until = now + timedelta(seconds=lease_seconds)
            row.attempts += 1
            claimed.append((sid, row.attempts))
        return claimed

    async def claim_undelivered_summaries(
        self, teacher_id: int, now: datetime, lease_seconds: float
    ) -> list[str]:
        db = self._db
        db.check()
        claimed = []
        for sid, row in db.summary_outbox.items():
            if (
                db.sessions[sid].teacher_id == teacher_id
                and row.sent_at is None
                and row.failed_at is not None
                and row.failure is not None
                and row.failure != "rejected"
                and (row.claimed_until is None or row.claimed_until < now)
            ):
                row.claimed_until = now + timedelta(seconds=lease_seconds)
                claimed.append(sid)
        return sorted(claimed, key=lambda sid: db.sessions[sid].started_at)

    async def load_summary(self, session_id: str) -> SessionSummary | None:
        db = self._db
        db.check()
        session = db.sessions.get(session_id)
        if session is None:
            return None
        rows = sorted(
            ((student, row) for (sid, student), row in db.attendance.items() if sid == session_id),
            key=lambda pair: line_order(pair[1].checked_in_at, pair[0]),
        )
        course_name: str | None = None
        at_risk = []
        course = db.courses.get(session.course_id) if session.course_id is not None else None
        started_by: str | None = None
        if course is not None:
            course_name = course.name
            if course.teacher_id != session.teacher_id:
                started_by = db.name_of(session.teacher_id)
            at_risk = [
                st
                for st in db.course_standings(course.id)
                if st.enrolled and st.sessions >= 3 and st.percent < course.warn_below_percent
            ]
        return SessionSummary(
            session_id=session.id,
            teacher_id=session.teacher_id,
            chat_id=session.chat_id,
            title=session.title,
            started_at=session.started_at,
            ends_at=session.ends_at,
            lines=[
                AttendanceLine(
                    student_id=student,
                    name=db.name_of(student),
                    status=row.status,
                    checked_in_at=row.checked_in_at,
                )
                for student, row in rows
            ],
            course_name=course_name,
            at_risk=at_risk,
            card_chat_id=session.card_chat_id,
            card_message_id=session.card_message_id,
            roster_size=len(rows) if session.course_id is not None else 0,
            started_by=started_by,
            time_zone=course.time_zone if course is not None else None,
        )

    async def summary_parts_sent(self, session_id: str) -> frozenset[SummaryPart]:
        self._db.check()
        row = self._db.summary_outbox.get(session_id)
        return frozenset(row.parts_sent) if row else frozenset()

    async def mark_summary_part_sent(self, session_id: str, part: SummaryPart) -> None:
        self._db.check()
        row = self._db.summary_outbox.get(session_id)
        if row is not None and part not in row.parts_sent:
            row.parts_sent.append(part)

    async def mark_summary_sent(self, session_id: str, now: datetime) -> None:
        self._db.check()
        row = self._db.summary_outbox.get(session_id)
        if row is not None and row.sent_at is None:
            row.sent_at = now

    async def extend_summary_lease(self, session_id: str, until: datetime) -> None:
        self._db.check()
        row = self._db.summary_outbox.get(session_id)
        if row is not None and row.sent_at is None:
            row.claimed_until = until

    async def release_summary(self, session_id: str) -> None:
        self._db.check()
        row = self._db.summary_outbox.get(session_id)
        if row is not None:
            row.claimed_until = None

    async def postpone_summary(self, session_id: str, at: datetime, error: str) -> None:
        self._db.check()
        row = self._db.summary_outbox.get(session_id)
        if row is not None and row.sent_at is None:
            row.claimed_until, row.next_attempt_at, row.last_error = None, at, error[:500]

    async def give_up_summary(
        self, session_id: str, *, now: datetime, failure: str, error: str
    ) -> None:
        self._db.check()
        row = self._db.summary_outbox.get(session_id)
        if row is not None and row.sent_at is None:
            row.claimed_until, row.failed_at = None, now
            row.failure, row.last_error = failure, error[:500]

    async def outbox_pending(self) -> dict[str, int]:
        db = self._db
        db.check()
        return {
            "summary": sum(
                r.sent_at is None and r.failed_at is None for r in db.summary_outbox.values()
            ),
            "nudge": sum(
                r.sent_at is None and r.failed_at is None for r in db.nudge_outbox.values()
            ),
        }

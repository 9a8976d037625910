"""In-memory `SessionRecords`: PERSIST_SESSION and INSERT_NUDGES of storage/postgres/sessions.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from services.models import AttendanceStatus, CheckIn, Session, SessionState, UserProfile
from tests.fakes.memory.database import (
    AttendanceRow,
    MemoryDatabase,
    NudgeRow,
    SessionRow,
    SummaryRow,
    from_ms,
    now,
)
from tests.fakes.memory.webhooks import enqueue_webhook_deliveries


def session_from_row(row: SessionRow) -> Session:
    """`_session_from_row`: what a saved session reads back as (sealed, no code)."""
    return Session(
        id=row.id,
        teacher_id=row.teacher_id,
        chat_id=row.chat_id,
        title=row.title,
        code="",
        started_at=row.started_at,
        ends_at=row.ends_at,
        state=SessionState.SEALED,
        late_at=row.late_at,
        course_id=row.course_id,
    )


class MemorySessionRecords:
    """Sessions saved once, with their records, outbox row and nudges, idempotently."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def persist_session(
        self, session: Session, checkins: Sequence[CheckIn], *, first_attempt: bool = False
    ) -> tuple[int, list[int]]:
        """Idempotent whatever `first_attempt` says, like PostgreSQL's COPY-then-fall-back."""
        db = self._db
        db.check()
        db.sessions.setdefault(
            session.id,
            SessionRow(
                id=session.id,
                teacher_id=session.teacher_id,
                chat_id=session.chat_id,
                title=session.title,
                started_at=session.started_at,
                ends_at=session.ends_at,
                late_at=session.late_at,
                course_id=session.course_id,
                card_chat_id=session.card_chat_id,
                card_message_id=session.card_message_id,
            ),
        )

        def forgotten_since_start(student_id: int) -> int | None:
            row = db.forgotten_users.get(student_id)
            if row is not None and row.forgotten_at > session.started_at:
                return row.pseudonym
            return None

        inserted = 0
        for checkin in checkins:
            student = forgotten_since_start(checkin.student_id) or checkin.student_id
            key = (session.id, student)
            if key not in db.attendance:
                db.attendance[key] = AttendanceRow(
                    status=AttendanceStatus(checkin.status),
                    checked_in_at=from_ms(checkin.checked_in_ms),
                    distance_m=checkin.distance_m,
                )
                inserted += 1
        db.summary_outbox.setdefault(session.id, SummaryRow(created_at=now(), seq=next(db.seqs)))
        new_users: list[int] = []
        for checkin in checkins:
            student = checkin.student_id
            if forgotten_since_start(student) is None and student not in db.users:
                db.users[student] = UserProfile(user_id=student, first_name="")
                new_users.append(student)
        if session.course_id is not None:
            self._insert_nudges(session.id, session.course_id)
            enqueue_webhook_deliveries(db, session.id, session.course_id)
        return inserted, new_users

    def _insert_nudges(self, session_id: str, course_id: int) -> None:
        """INSERT_NUDGES: students now below the threshold after 3 sessions, not nudged in
        the last 3 sessions, reachable, and never a pseudonym."""
        db = self._db
        course = db.courses.get(course_id)
        if course is None:
            return
        starts = {s.id: s.started_at for s in db.sessions.values() if s.course_id == course_id}
        stats: dict[int, list[AttendanceStatus]] = {}
        for (sid, student), row in db.attendance.items():
            if sid in starts and (course_id, student) in db.enrolments:
                stats.setdefault(student, []).append(row.status)
        last_nudge: dict[int, datetime] = {}
        for (sid, student), nudge in db.nudge_outbox.items():
            started = db.sessions[sid].started_at
            if nudge.course_id == course_id and (
                student not in last_nudge or started > last_nudge[student]
            ):
                last_nudge[student] = started
        for student, statuses in stats.items():
            sessions = len(statuses)
            excused = statuses.count(AttendanceStatus.EXCUSED)
            attended = sum(s in (AttendanceStatus.PRESENT, AttendanceStatus.LATE) for s in statuses)
            if sessions < 3 or sessions <= excused:
                continue
            percent = Fraction(100 * attended, sessions - excused)
            if percent >= course.warn_below_percent:
                continue
            if student <= 0 or student in db.unreachable_users:
                continue
            last = last_nudge.get(student)
            if last is not None and sum(1 for start in starts.values() if start > last) < 3:
                continue
            rounded = (Decimal(percent.numerator) / Decimal(percent.denominator)).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
            db.nudge_outbox.setdefault(
                (session_id, student),
                NudgeRow(course_id=course_id, percent=rounded, created_at=now(), seq=next(db.seqs)),
            )

    async def persisted_session(self, session_id: str) -> Session | None:
        self._db.check()
        row = self._db.sessions.get(session_id)
        return session_from_row(row) if row else None

    async def latest_session(self, teacher_id: int) -> Session | None:
        self._db.check()
        rows = [s for s in self._db.sessions.values() if s.teacher_id == teacher_id]
        return session_from_row(max(rows, key=lambda s: s.started_at)) if rows else None

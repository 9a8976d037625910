"""In-memory `WarningRecords`: SELECT_STREAKS and the leased alert and digest rows."""

from __future__ import annotations

from datetime import datetime

from services.models import AttendanceStatus, Preferences
from services.ports.grading import AbsenceStreak, GradingPolicy
from tests.fakes.memory.database import AlertRow, MemoryDatabase


class MemoryWarningRecords:
    """The same answers as storage/postgres/warnings.py, row for row."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def absence_streaks(self) -> list[AbsenceStreak]:
        db = self._db
        db.check()
        found = []
        for course_id, student_id in sorted(db.enrolments):
            course = db.courses.get(course_id)
            limit = db.grading_policies.get(course_id, GradingPolicy()).streak_alert
            if course is None or course.archived_at is not None or student_id < 0 or limit <= 0:
                continue
            records = sorted(
                (
                    (s.started_at, s.id, row.status)
                    for (sid, st), row in db.attendance.items()
                    if st == student_id
                    and (s := db.sessions.get(sid)) is not None
                    and s.course_id == course_id
                ),
                reverse=True,
            )
            streak = []
            for _, session_id, status in records:
                if status is not AttendanceStatus.ABSENT:
                    break
                streak.append(session_id)
            if len(streak) >= limit:
                found.append(AbsenceStreak(course_id, student_id, streak[-1], len(streak)))
        return found

    async def claim_absence_alert(
        self, streak: AbsenceStreak, *, now: datetime, until: datetime
    ) -> bool:
        db = self._db
        db.check()
        key = (streak.course_id, streak.student_id, streak.streak_start)
        row = db.absence_alerts.get(key)
        if row is None:
            db.absence_alerts[key] = AlertRow(streak.absences, now, until)
            return True
        if row.sent_at is None and row.claimed_until < now:
            row.claimed_until = until
            return True
        return False

    async def absence_alert_sent(self, streak: AbsenceStreak, *, now: datetime) -> None:
        self._db.check()
        row = self._db.absence_alerts.get(
            (streak.course_id, streak.student_id, streak.streak_start)
        )
        if row is not None:
            row.sent_at = now

    async def claim_digest(
        self, teacher_id: int, *, week: str, now: datetime, until: datetime
    ) -> bool:
        db = self._db
        db.check()
        row = db.teacher_digests.get((teacher_id, week))
        if row is None:
            db.teacher_digests[(teacher_id, week)] = [until, None]
            return True
        if row[1] is None and row[0] is not None and row[0] < now:
            row[0] = until
            return True
        return False

    async def digest_sent(self, teacher_id: int, *, week: str, now: datetime) -> None:
        self._db.check()
        row = self._db.teacher_digests.get((teacher_id, week))
        if row is not None:
            row[1] = now

    async def digest_teachers(self) -> list[int]:
        self._db.check()
        return sorted({c.teacher_id for c in self._db.courses.values() if c.archived_at is None})

    async def alerts_wanted(self, user_ids: list[int]) -> set[int]:
        self._db.check()
        prefs = self._db.user_preferences
        return {u for u in user_ids if prefs.get(u, Preferences()).alerts}

"""In-memory `AttendanceRecords`: reports, exports and audited corrections."""

from __future__ import annotations

from datetime import datetime

from services.models import AttendanceStatus, ExportRow, StudentStanding
from tests.fakes.memory.database import AttendanceRow, AuditRow, MemoryDatabase


def line_order(checked_in_at: datetime | None, student_id: int) -> tuple[bool, float, int]:
    """`ORDER BY checked_in_at NULLS LAST, student_id`."""
    if checked_in_at is None:
        return (True, 0.0, student_id)
    return (False, checked_in_at.timestamp(), student_id)


class MemoryAttendanceRecords:
    """Saved attendance read for reports, corrected with an audit row in one step."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def course_standings(self, course_id: int) -> list[StudentStanding]:
        self._db.check()
        return self._db.course_standings(course_id)

    async def course_sessions(
        self, course_id: int
    ) -> list[tuple[str, str, datetime, int, int, int, int, int]]:
        db = self._db
        db.check()
        result = []
        for s in sorted(
            (s for s in db.sessions.values() if s.course_id == course_id),
            key=lambda s: s.started_at,
        ):
            statuses = [row.status for (sid, _), row in db.attendance.items() if sid == s.id]
            result.append(
                (
                    s.id,
                    s.title,
                    s.started_at,
                    sum(x in (AttendanceStatus.PRESENT, AttendanceStatus.LATE) for x in statuses),
                    sum(x != AttendanceStatus.EXCUSED for x in statuses),
                    statuses.count(AttendanceStatus.LATE),
                    statuses.count(AttendanceStatus.ABSENT),
                    statuses.count(AttendanceStatus.EXCUSED),
                )
            )
        return result

    async def export_rows(self, session_id: str | None) -> list[ExportRow]:
        db = self._db
        db.check()
        keyed = []
        for (sid, student), row in db.attendance.items():
            if session_id is not None and sid != session_id:
                continue
            s = db.sessions[sid]
            export = ExportRow(
                session_id=sid,
                session_title=s.title,
                teacher_id=s.teacher_id,
                student_id=student,
                student_name=db.name_of(student),
                checked_in_at=row.checked_in_at,
                status=row.status,
            )
            keyed.append(((s.started_at, sid, line_order(row.checked_in_at, student)), export))
        return [export for _, export in sorted(keyed, key=lambda pair: pair[0])]

    async def correct_status(
        self,
        session_id: str,
        student_id: int,
        *,
        status: AttendanceStatus,
        changed_by: int,
        now: datetime,
    ) -> AttendanceStatus | None:
        db = self._db
        db.check()
        row = db.attendance.get((session_id, student_id))
        old = row.status if row else None
        if row is None:
            db.attendance[(session_id, student_id)] = AttendanceRow(status, None)
        else:
            row.status = status
        db.attendance_audit[next(db.audit_ids)] = AuditRow(
            session_id, student_id, changed_by, now, old, status
        )
        return old

    async def audit_live_correction(
        self,
        session_id: str,
        student_id: int,
        *,
        changed_by: int,
        now: datetime,
        old: AttendanceStatus | None,
        new: AttendanceStatus,
    ) -> int:
        db = self._db
        db.check()
        audit_id = next(db.audit_ids)
        db.attendance_audit[audit_id] = AuditRow(session_id, student_id, changed_by, now, old, new)
        return audit_id

    async def delete_audit(self, audit_id: int) -> None:
        self._db.check()
        self._db.attendance_audit.pop(audit_id, None)

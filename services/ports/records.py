"""Saved sessions and their attendance in the system of record (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from services.models import AttendanceStatus, CheckIn, ExportRow, Session, StudentStanding


class SessionRecords(Protocol):
    """Finished sessions, saved once with their check-ins."""

    async def persist_session(
        self, session: Session, checkins: Sequence[CheckIn], *, first_attempt: bool = False
    ) -> tuple[int, list[int]]:
        """Save a session with its records once. `first_attempt` is a hint that no earlier
        call for the session can have committed (a cheaper write); the result is the same
        either way, and a wrong hint costs time, never a duplicate or a loss."""
        ...

    async def persisted_session(self, session_id: str) -> Session | None: ...
    async def latest_session(self, teacher_id: int) -> Session | None: ...


class AttendanceRecords(Protocol):
    """Saved attendance read for reports and exports, and corrected with an audit trail."""

    async def course_standings(self, course_id: int) -> list[StudentStanding]: ...
    async def course_sessions(
        self, course_id: int
    ) -> list[tuple[str, str, datetime, int, int, int, int, int]]: ...
    async def export_rows(self, session_id: str | None) -> list[ExportRow]: ...
    async def correct_status(
        self,
        session_id: str,
        student_id: int,
        *,
        status: AttendanceStatus,
        changed_by: int,
        now: datetime,
    ) -> AttendanceStatus | None: ...
    async def audit_live_correction(
        self,
        session_id: str,
        student_id: int,
        *,
        changed_by: int,
        now: datetime,
        old: AttendanceStatus | None,
        new: AttendanceStatus,
    ) -> int: ...
    async def delete_audit(self, audit_id: int) -> None: ...

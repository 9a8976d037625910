"""Check-ins of open sessions, judged atomically, and the rotation of their codes."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.models import AttendanceStatus, CheckIn, CheckInResult
from services.ports.values import GuessLimit


class CheckInStore(Protocol):
    """Who checked in to an open session, and the teacher's marks before it is saved."""

    async def check_in(
        self,
        code: str,
        student_id: int,
        now: datetime,
        *,
        metres: int | None = None,
        session_id: str | None = None,
        guard: GuessLimit | None = None,
    ) -> CheckInResult:
        """The answer as the student gets it (the service adds only the distance it measured
        and hides a lock-out's session)."""

    async def checked_in(self, session_id: str) -> dict[int, CheckIn]: ...
    async def checkin_count(self, session_id: str) -> int: ...
    async def live_status(
        self, session_id: str, student_id: int
    ) -> tuple[str, AttendanceStatus | None]: ...
    async def mark_live(
        self,
        session_id: str,
        student_id: int,
        *,
        status: AttendanceStatus,
        expected: AttendanceStatus | None,
    ) -> tuple[str, AttendanceStatus | None]: ...


class CodeStore(Protocol):
    """Rotating check-in codes: which sessions are due a new code, and the swap itself."""

    async def due_rotations(self, now: datetime, limit: int) -> list[str]: ...
    async def rotate_codes(self, now: datetime, new_codes: dict[str, str]) -> dict[str, str]: ...

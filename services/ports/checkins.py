"""Check-ins of open sessions, judged atomically, and the rotation of their codes."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Protocol

from services.models import AttendanceStatus, CheckIn, CheckInResult, UserProfile
from services.ports.values import GuessLimit, Visit


class CheckInStore(Protocol):
    """Who checked in to an open session, and the teacher's marks before it is saved."""

    def check_in(
        self,
        code: str,
        student_id: int,
        now: datetime,
        *,
        metres: int | None = None,
        session_id: str | None = None,
        guard: GuessLimit | None = None,
    ) -> Awaitable[CheckInResult]:
        """The answer as the student gets it (the service adds only the distance it
        measured); a lock-out says nothing about the session the code named. (Awaitable
        rather than `async def`: the hot path hands over one coroutine, see the store.)"""

    async def visit_and_check_in(
        self,
        profile: UserProfile,
        update_id: int | None,
        code: str,
        now: datetime,
        *,
        session_id: str | None = None,
        guard: GuessLimit | None = None,
    ) -> tuple[Visit, CheckInResult | None] | None:
        """A /checkin update in one atomic step where the store can (one Redis server): the
        update's claim and the profile's touch (`ProfileCache.touch_profile`), then, unless
        the update is a duplicate (None in place of the check-in), the check-in (`check_in`).
        None where it cannot (Redis Cluster, where the user's and the session's keys live in
        different slots): the caller takes the two steps."""

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

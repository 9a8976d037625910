"""Timetables and what has been done for each of their slots."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.timetable_slots import SlotRun, Timetable


class TimetableRecords(Protocol):
    """A course's timetable, and one run row per slot acted on.

    Each stage of a slot (reminder, opening, report) is claimed by one conditional write of
    its run row: with several processes exactly one claim succeeds, whoever comes first.
    """

    async def timetable(self, course_id: int) -> Timetable | None: ...
    async def save_timetable(self, timetable: Timetable) -> None: ...
    async def save_timetable_over(self, timetable: Timetable, *, previous: datetime) -> bool:
        """Save `timetable` if the stored one is still the one changed at `previous` (or
        none is stored); False, and nothing written, when another change came first."""
        ...

    async def delete_timetable(self, course_id: int) -> bool: ...
    async def timetables(self) -> list[Timetable]: ...
    async def slot_runs(self, *, since: datetime) -> list[SlotRun]: ...
    async def claim_reminder(self, course_id: int, *, starts_at: datetime) -> bool: ...
    async def claim_open(
        self, course_id: int, *, starts_at: datetime, now: datetime, until: datetime
    ) -> bool: ...
    async def record_session(
        self, course_id: int, *, starts_at: datetime, session_id: str
    ) -> None: ...
    async def claim_report(self, course_id: int, *, starts_at: datetime) -> bool: ...

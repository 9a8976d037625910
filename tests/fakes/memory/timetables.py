"""In-memory `TimetableRecords`: the timetables and one run per slot, claimed like the SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.timetable_slots import SlotRun, Timetable
from tests.fakes.memory.database import MemoryDatabase


class MemoryTimetableRecords:
    """Each claim changes the run only if its stage is free, without awaiting: atomic."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def timetable(self, course_id: int) -> Timetable | None:
        self._db.check()
        return self._db.timetables.get(course_id)

    async def save_timetable(self, timetable: Timetable) -> None:
        self._db.check()
        self._db.timetables[timetable.course_id] = timetable

    async def save_timetable_over(self, timetable: Timetable, *, previous: datetime) -> bool:
        self._db.check()
        stored = self._db.timetables.get(timetable.course_id)
        if stored is not None and stored.changed_at != previous:
            return False
        self._db.timetables[timetable.course_id] = timetable
        return True

    async def delete_timetable(self, course_id: int) -> bool:
        self._db.check()
        return self._db.timetables.pop(course_id, None) is not None

    async def timetables(self) -> list[Timetable]:
        self._db.check()
        return [self._db.timetables[k] for k in sorted(self._db.timetables)]

    async def slot_runs(self, *, since: datetime) -> list[SlotRun]:
        self._db.check()
        runs = [r for r in self._db.timetable_runs.values() if r.starts_at >= since]
        return sorted(runs, key=lambda r: (r.starts_at, r.course_id))

    def _run(self, course_id: int, starts_at: datetime) -> SlotRun:
        return self._db.timetable_runs.get((course_id, starts_at)) or SlotRun(course_id, starts_at)

    def _put(self, run: SlotRun) -> None:
        self._db.timetable_runs[(run.course_id, run.starts_at)] = run

    async def claim_reminder(self, course_id: int, *, starts_at: datetime) -> bool:
        self._db.check()
        run = self._run(course_id, starts_at)
        if run.reminded:
            return False
        self._put(replace(run, reminded=True))
        return True

    async def claim_open(
        self, course_id: int, *, starts_at: datetime, now: datetime, until: datetime
    ) -> bool:
        self._db.check()
        run = self._run(course_id, starts_at)
        held = run.open_claimed_until is not None and run.open_claimed_until > now
        if run.session_id is not None or held:
            return False
        self._put(replace(run, open_claimed_until=until))
        return True

    async def record_session(self, course_id: int, *, starts_at: datetime, session_id: str) -> None:
        self._db.check()
        self._put(replace(self._run(course_id, starts_at), session_id=session_id))

    async def claim_report(self, course_id: int, *, starts_at: datetime) -> bool:
        self._db.check()
        run = self._run(course_id, starts_at)
        if run.reported:
            return False
        self._put(replace(run, reported=True))
        return True

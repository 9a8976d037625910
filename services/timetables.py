"""Timetables: setting a course's recurring slots (its owner and co-teachers), and reading
its coming ones. Running them on the clock — reminders, sessions that open and close by
themselves, missed classes reported — is `services.timetable_runs`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from services.clock import Clock
from services.course_access import CourseAccess, Permission
from services.errors import InvalidArgument, StorageUnavailable
from services.models import Course
from services.numbers import check_range
from services.ports import CourseRecords, TimetableRecords
from services.timetable_slots import (
    EARLY_MINUTES,
    MAX_SLOTS,
    REMIND_MINUTES,
    SLOT_MINUTES,
    CsvImport,
    Slot,
    SlotRule,
    Timetable,
    check_timetable,
    parse_timetable_csv,
    slots_between,
)

P = ParamSpec("P")
R = TypeVar("R")

#: How often a change is redone when another change of the same timetable came first.
RACE_TRIES = 20


class _Raced(Exception):
    """Another change of the timetable was saved between this one's reading and saving."""


def _retried(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A change of a timetable, redone from a fresh reading when another change came first
    (two taps, the page and the chat, an owner and a co-teacher): none is lost."""

    @functools.wraps(method)
    async def retrying(*args: P.args, **kwargs: P.kwargs) -> R:
        for _ in range(RACE_TRIES):
            try:
                return await method(*args, **kwargs)
            except _Raced:
                continue
        raise StorageUnavailable("timetable (busy)")

    return retrying


class TimetableService:
    """Reads and changes a course's timetable; every change is checked with `CourseAccess`
    (`Permission.SETTINGS`: the owner and co-teachers)."""

    def __init__(
        self,
        *,
        timetables: TimetableRecords,
        courses: CourseRecords,
        access: CourseAccess,
        clock: Clock,
        default_zone: str,
    ) -> None:
        self._timetables = timetables
        self._courses = courses
        self._access = access
        self._clock = clock
        self._default_zone = default_zone

    def now(self) -> datetime:
        return self._clock.now()

    def zone(self, course: Course) -> ZoneInfo:
        """The course's zone, or the installation's when it chose none."""
        return ZoneInfo(course.time_zone or self._default_zone)

    # --- reading and changing a timetable (the course's teacher) ---------------------------

    async def _own_course(self, user_id: int, course_id: int) -> Course:
        """The course, if `user_id` may change its timetable.

        Raises:
            NotATeacher, NotYours, NotPermitted: not the course's owner or co-teacher.
        """
        return await self._access.course(user_id, course_id, Permission.SETTINGS)

    async def course_timetable(self, user_id: int, course_id: int) -> tuple[Course, Timetable]:
        """The course and its timetable (an empty one, not saved, when it has none yet).

        Raises:
            NotATeacher: not the course's teacher.
        """
        course = await self._own_course(user_id, course_id)
        return course, await self._timetable_of(course)

    async def _timetable_of(self, course: Course) -> Timetable:
        found = await self._timetables.timetable(course.id)
        if found is not None:
            return found
        now = self._clock.now()
        return Timetable.new(course.id, now.astimezone(self.zone(course)).date(), now)

    async def _save(
        self, course: Course, timetable: Timetable, over: Timetable
    ) -> tuple[Course, Timetable]:
        """Save `timetable`, made from `over` as it was read, if nothing changed the course's
        timetable since (`_Raced` otherwise: `_retried` reads it again and redoes the
        change). Each save moves `changed_at` on, even on a clock that stands still."""
        problem = check_timetable(timetable)
        if problem is not None:
            raise InvalidArgument("timetable", problem)
        now = max(self._clock.now(), over.changed_at + timedelta(microseconds=1))
        saved = replace(timetable, changed_at=now)
        if not await self._timetables.save_timetable_over(saved, previous=over.changed_at):
            raise _Raced()
        return course, saved

    @_retried
    async def add_slot(
        self, user_id: int, course_id: int, rule: SlotRule
    ) -> tuple[Course, Timetable]:
        """Add a weekly class (replacing one on the same day at the same time).

        Raises:
            NotATeacher; NumberOutOfRange (length); InvalidArgument (too many slots).
        """
        course, timetable = await self.course_timetable(user_id, course_id)
        check_range(rule.minutes, "slot_minutes", *SLOT_MINUTES)
        if not 0 <= rule.weekday <= 6:
            raise InvalidArgument("timetable", "weekday")
        kept = [r for r in timetable.rules if (r.weekday, r.start) != (rule.weekday, rule.start)]
        if len(kept) >= MAX_SLOTS:
            raise InvalidArgument("timetable", "too_many_slots")
        return await self._save(
            course, replace(timetable, rules=tuple(sorted([*kept, rule]))), timetable
        )

    @_retried
    async def remove_slot(
        self, user_id: int, course_id: int, weekday: int, start: time
    ) -> tuple[Course, Timetable]:
        """Remove the weekly class on that day at that time (nothing if there is none)."""
        course, timetable = await self.course_timetable(user_id, course_id)
        rules = tuple(r for r in timetable.rules if (r.weekday, r.start) != (weekday, start))
        return await self._save(course, replace(timetable, rules=rules), timetable)

    @_retried
    async def toggle_holiday(
        self, user_id: int, course_id: int, day: date, *, skip: bool | None = None
    ) -> tuple[Course, Timetable]:
        """Skip that day's classes, or hold them again (`skip`: that way whatever it was, so
        a repeated request is no change; None: the other way, as the chat's button)."""
        course, timetable = await self.course_timetable(user_id, course_id)
        one = frozenset({day})
        if skip is None:
            holidays = timetable.holidays ^ one
        else:
            holidays = timetable.holidays | one if skip else timetable.holidays - one
        return await self._save(course, replace(timetable, holidays=holidays), timetable)

    @_retried
    async def set_minutes(
        self, user_id: int, course_id: int, *, early: int | None = None, remind: int | None = None
    ) -> tuple[Course, Timetable]:
        """How early sessions open (for arrivals) and how long before the teacher is reminded.

        Raises:
            NotATeacher; NumberOutOfRange.
        """
        course, read = await self.course_timetable(user_id, course_id)
        timetable = read
        if early is not None:
            check_range(early, "early_minutes", *EARLY_MINUTES)
            timetable = replace(timetable, early_minutes=early)
        if remind is not None:
            check_range(remind, "remind_minutes", *REMIND_MINUTES)
            timetable = replace(timetable, remind_minutes=remind)
        return await self._save(course, timetable, read)

    @_retried
    async def shift_term(
        self, user_id: int, course_id: int, *, first_days: int = 0, last_days: int = 0
    ) -> tuple[Course, Timetable]:
        """Move the term's first or last day (by a week on the buttons).

        Raises:
            NotATeacher; InvalidArgument (the term would end before it starts, or be too long).
        """
        course, timetable = await self.course_timetable(user_id, course_id)
        moved = replace(
            timetable,
            first_day=timetable.first_day + timedelta(days=first_days),
            last_day=timetable.last_day + timedelta(days=last_days),
        )
        return await self._save(course, moved, timetable)

    @_retried
    async def set_term(
        self, user_id: int, course_id: int, first_day: date, last_day: date
    ) -> tuple[Course, Timetable]:
        """The term's first and last day (classes are held only between them).

        Raises:
            NotATeacher; InvalidArgument (ends before it starts, or longer than a year).
        """
        course, timetable = await self.course_timetable(user_id, course_id)
        moved = replace(timetable, first_day=first_day, last_day=last_day)
        return await self._save(course, moved, timetable)

    @_retried
    async def link_group(
        self, user_id: int, course_id: int, chat_id: int | None
    ) -> tuple[Course, Timetable]:
        """The group (a negative chat id) that gets the card of each timetabled session as
        well, or None to stop."""
        course, timetable = await self.course_timetable(user_id, course_id)
        if chat_id is not None and chat_id >= 0:
            raise InvalidArgument("timetable", "not_a_group")
        return await self._save(course, replace(timetable, group_chat_id=chat_id), timetable)

    @_retried
    async def import_csv(self, user_id: int, course_id: int, data: bytes) -> CsvImport:
        """Read a timetable file (see `parse_timetable_csv`) and save what it makes; the
        lines it refused come back with their numbers. A file with no valid line changes
        nothing."""
        course, timetable = await self.course_timetable(user_id, course_id)
        result = parse_timetable_csv(data, timetable, self._clock.now())
        changed = result.timetable != replace(timetable, changed_at=result.timetable.changed_at)
        if changed:
            _, saved = await self._save(course, result.timetable, timetable)
            result = replace(result, timetable=saved, saved=True)
        return result

    async def clear(self, user_id: int, course_id: int) -> bool:
        """Delete the course's timetable: no session opens by itself any more."""
        course = await self._own_course(user_id, course_id)
        return await self._timetables.delete_timetable(course.id)

    # --- the coming slots (also what `/excuse` offers for a coming session) ----------------

    async def coming_slots(self, course_id: int, limit: int = 10) -> list[Slot]:
        """The course's next `limit` slots that have not ended, soonest first (a slot in
        progress included); none for an archived course or one without a timetable.

        No permission check: the caller decides who may see a course's schedule (its
        students may)."""
        course = await self._courses.course(course_id)
        timetable = await self._timetables.timetable(course_id)
        if course is None or course.archived or timetable is None:
            return []
        return await self._coming(course, timetable, limit)

    async def _coming(self, course: Course, timetable: Timetable, limit: int) -> list[Slot]:
        now = self._clock.now()
        zone = self.zone(course)
        start, found = now - timedelta(days=1), list[Slot]()
        term_end = datetime.combine(timetable.last_day + timedelta(days=2), time(), zone)
        while len(found) < limit and start < term_end:
            end = start + timedelta(days=28)
            found += [s for s in slots_between(timetable, zone, start, end) if s.ends_at > now]
            start = end
        return found[:limit]

    async def slot_session(self, course_id: int, starts_at: datetime) -> str | None:
        """The id of the session opened for that slot, once there is one."""
        for run in await self._timetables.slot_runs(since=starts_at):
            if run.course_id == course_id and run.starts_at == starts_at:
                return run.session_id
        return None

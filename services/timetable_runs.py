"""Timetables on the clock: every process runs `SlotRunner.run_due` on a periodic tick, and
each stage of each slot (reminder, opening, report) is claimed by one conditional write of
the slot's run row in PostgreSQL, so it happens once however many processes tick, and a
restart changes nothing. A session closes by itself: it is opened with the slot's end as
its end (the sweep then saves it and sends the summary as for any session).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.clock import Clock
from services.course_access import CourseAccess, Permission
from services.errors import InvalidArgument, NotATeacher, SessionAlreadyOpen
from services.models import Course
from services.models import Session as LiveSession
from services.ports import AttendanceRecords, CourseRecords, LiveSessionStore, TimetableRecords
from services.sessions import SessionService
from services.timetable_slots import Slot, SlotRun, Timetable, slots_between
from services.timetables import TimetableService

#: A slot is opened only this soon after its opening time: one missed while the bot was
#: down is not opened late (it is reported when it has passed).
OPEN_GRACE = timedelta(minutes=2)
#: How long a process opening a slot holds it (a process that died frees it after this).
OPEN_LEASE = timedelta(seconds=60)
#: Slots that ended longer ago than this are not reported any more (a long outage).
REPORT_WINDOW = timedelta(days=7)
#: "Start now" works from this long before a slot's start until its end.
START_NOW_WINDOW = timedelta(minutes=60)
#: A session started by hand this long before a slot's opening still counts as its session.
HELD_MARGIN = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class SlotNotice:
    """A message about a slot: a reminder (to everyone who may run the course's sessions:
    owner, co-teachers, assistants; whoever taps "start now" runs it), or a missed slot (to
    the owner; `reason` "no_session" or "nobody_came")."""

    course: Course
    slot: Slot
    reason: str = ""
    recipients: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class OpenedSlot:
    """A slot's session, just opened: its card goes to whoever opened it (the teacher,
    or who pressed "start now") and to the linked group, if any."""

    course: Course
    slot: Slot
    session: LiveSession
    group_chat_id: int | None


@dataclass
class TimetableWork:
    """What one tick did and the bot must now say: reminders, sessions to post, missed slots."""

    reminders: list[SlotNotice] = field(default_factory=list)
    opened: list[OpenedSlot] = field(default_factory=list)
    missed: list[SlotNotice] = field(default_factory=list)


class SlotRunner:
    """Reminds, opens and reports each slot of every timetable, once across processes."""

    def __init__(
        self,
        *,
        timetables: TimetableRecords,
        attendance: AttendanceRecords,
        live_sessions: LiveSessionStore,
        courses: CourseRecords,
        sessions: SessionService,
        access: CourseAccess,
        editor: TimetableService,
        clock: Clock,
    ) -> None:
        self._timetables = timetables
        self._attendance = attendance
        self._live = live_sessions
        self._courses = courses
        self._sessions = sessions
        self._access = access
        self._editor = editor
        self._clock = clock

    def zone(self, course: Course) -> ZoneInfo:
        return self._editor.zone(course)

    async def _may_run(self, user_id: int, course_id: int) -> Course:
        """The course, if `user_id` may run its sessions (owner, co-teacher, assistant).

        Raises:
            NotATeacher, NotYours, NotPermitted: no role in the course that runs sessions.
        """
        return await self._access.course(user_id, course_id, Permission.RUN_SESSIONS)

    async def start_slot_now(self, user_id: int, course_id: int) -> OpenedSlot:
        """Open the session of the course's current or next slot now (up to an hour early),
        by `user_id`, who gets its card; the slot's own opening then finds it open.

        Raises:
            NotATeacher: `user_id` may not run this course's sessions.
            InvalidArgument: no slot within the next hour.
            SessionAlreadyOpen: the slot's session is open (or being opened) already, or
                the user has another session open.
        """
        course = await self._may_run(user_id, course_id)
        timetable = await self._timetables.timetable(course.id)
        now = self._clock.now()
        slots = (
            slots_between(
                timetable, self.zone(course), now - timedelta(days=1), now + START_NOW_WINDOW
            )
            if timetable is not None and not course.archived
            else []
        )
        slot = next((s for s in slots if s.ends_at > now), None)
        if timetable is None or slot is None:
            raise InvalidArgument("timetable", "no_slot_soon")
        opened = await self._open(course, timetable, slot, user_id, now)
        if opened is None:
            existing = await self._sessions.open_session(user_id)
            raise SessionAlreadyOpen(existing)
        return opened

    async def _open(
        self, course: Course, timetable: Timetable, slot: Slot, opener: int, now: datetime
    ) -> OpenedSlot | None:
        """Claim the slot's opening and open its session; None when another process has
        it, or its session exists already."""
        live = await self._live_course_session(course)
        if live is not None:  # started by hand (by anyone on the course's staff): that one
            await self._timetables.record_session(
                course.id, starts_at=slot.starts_at, session_id=live.id
            )
            raise SessionAlreadyOpen(live)
        if not await self._timetables.claim_open(
            course.id, starts_at=slot.starts_at, now=now, until=now + OPEN_LEASE
        ):
            return None
        chat_id = timetable.group_chat_id or opener
        try:
            session = await self._sessions.start_session(
                opener, chat_id, course=course, until=slot.ends_at, late_from=slot.starts_at
            )
        except SessionAlreadyOpen as exc:
            if exc.session is not None and exc.session.course_id == course.id:
                # Started by hand for this class already: that is the slot's session.
                await self._timetables.record_session(
                    course.id, starts_at=slot.starts_at, session_id=exc.session.id
                )
            raise
        await self._timetables.record_session(
            course.id, starts_at=slot.starts_at, session_id=session.id
        )
        return OpenedSlot(course, slot, session, timetable.group_chat_id)

    async def _live_course_session(self, course: Course) -> LiveSession | None:
        """An open session of this course, run by its owner or one of its staff."""
        for user_id in (course.teacher_id, *await self._access.staff_ids(course)):
            session = await self._sessions.open_session(user_id)
            if session is not None and session.course_id == course.id:
                return session
        return None

    async def run_due(self) -> TimetableWork:
        """One tick: remind, open and report whatever is due now, each slot's stage once
        across every process. A reminder or an opening whose time passed while the bot was
        down is skipped, never done late; the slot is reported once it has ended."""
        now = self._clock.now()
        work = TimetableWork()
        runs = {
            (r.course_id, r.starts_at): r
            for r in await self._timetables.slot_runs(since=now - REPORT_WINDOW - timedelta(days=1))
        }
        for timetable in await self._timetables.timetables():
            if not (
                timetable.first_day - timedelta(days=2)
                <= now.date()
                <= timetable.last_day + REPORT_WINDOW + timedelta(days=2)
            ):
                continue
            course = await self._courses.course(timetable.course_id)
            if course is None or course.archived or not timetable.rules:
                continue
            horizon = now + timedelta(
                minutes=timetable.remind_minutes + timetable.early_minutes + 1
            )
            slots = slots_between(timetable, self.zone(course), now - REPORT_WINDOW, horizon)
            for slot in slots:
                run = runs.get((course.id, slot.starts_at)) or SlotRun(course.id, slot.starts_at)
                await self._run_slot(course, timetable, slot, run, now, work)
        return work

    async def _run_slot(
        self,
        course: Course,
        timetable: Timetable,
        slot: Slot,
        run: SlotRun,
        now: datetime,
        work: TimetableWork,
    ) -> None:
        if (
            slot.remind_at is not None
            and slot.remind_at <= now < slot.opens_at
            and not run.reminded
            and run.session_id is None
            and await self._timetables.claim_reminder(course.id, starts_at=slot.starts_at)
        ):
            runners = (course.teacher_id, *await self._access.staff_ids(course))
            work.reminders.append(
                SlotNotice(course, slot, recipients=tuple(dict.fromkeys(runners)))
            )
        if slot.opens_at <= now < min(slot.opens_at + OPEN_GRACE, slot.ends_at) and (
            run.session_id is None
        ):
            try:
                opened = await self._open(course, timetable, slot, course.teacher_id, now)
            except (SessionAlreadyOpen, NotATeacher, InvalidArgument):
                opened = None  # the teacher is busy elsewhere: reported if nobody came
            if opened is not None:
                work.opened.append(opened)
        if slot.ends_at <= now and slot.starts_at >= timetable.changed_at and not run.reported:
            reason = await self._missed_reason(course, slot, run)
            if reason == "wait":
                return
            claimed = await self._timetables.claim_report(course.id, starts_at=slot.starts_at)
            if claimed and reason:
                work.missed.append(SlotNotice(course, slot, reason, (course.teacher_id,)))

    async def _missed_reason(self, course: Course, slot: Slot, run: SlotRun) -> str:
        """Why the slot counts as missed ("no_session", "nobody_came"), "" when it was held,
        or "wait" while its session is still live (it is judged once saved)."""
        if run.session_id is not None and await self._live.session(run.session_id) is not None:
            return "wait"
        if await self._live_course_session(course) is not None:
            return "wait"
        window_start = slot.opens_at - HELD_MARGIN
        held = [
            row
            for row in await self._attendance.course_sessions(course.id)
            if window_start <= row[2] < slot.ends_at or row[0] == run.session_id
        ]
        if not held:
            return "no_session"
        attended = max(row[3] for row in held)
        recorded = max(row[4] + row[7] for row in held)
        return "nobody_came" if attended == 0 and recorded > 0 else ""

"""Excuse requests: a student asks to be excused from a session, the course's teacher decides
with one tap, and an approval is the same audited correction as `/mark ... excused`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from services.clock import Clock
from services.corrections import Correction, CorrectionService
from services.course_access import CourseAccess, Permission
from services.errors import DomainError, InvalidArgument
from services.models import AttendanceStatus, Course, UserProfile
from services.ports import CheckInStore, CourseRecords, LiveSessionStore, UserRecords
from services.ports.excuses import (
    Attachment,
    ExcuseRecords,
    ExcuseRequest,
    ExcuseState,
    ExcuseTarget,
)
from services.timetables import TimetableService

#: A coming class is named `slot:<course id>:<start, Unix seconds>` until its session opens.
SLOT_PREFIX = "slot:"
#: How many coming classes the buttons offer.
COMING_CHOICES = 5
#: A reason longer than this is refused (it must fit a photo's caption, 1,024 characters,
#: with the student's name, the course and the session).
MAX_REASON_LENGTH = 500
#: How many sessions the buttons offer (newest first).
MAX_CHOICES = 30
#: Statuses an excuse can replace: the ones that count against the student.
EXCUSABLE = (None, AttendanceStatus.ABSENT, AttendanceStatus.LATE)


@dataclass(frozen=True, slots=True)
class ExcuseChoice:
    """A session a student may ask to be excused from, as a button shows it."""

    target: ExcuseTarget
    live: bool
    status: AttendanceStatus | None
    time_zone: str | None


@dataclass
class NotExcusable(DomainError):
    """The session cannot be asked about: `why` is "excused" (already), "pending" (a request
    is waiting), "present" (attended), "unknown" (not a session of the student's course)."""

    why: str


@dataclass
class AlreadyDecided(DomainError):
    """A second tap, or a second teacher after the first decided."""

    request: ExcuseRequest


@dataclass(frozen=True, slots=True)
class Submitted:
    request: ExcuseRequest
    course: Course
    student: UserProfile
    deciders: list[int]


@dataclass(frozen=True, slots=True)
class Decision:
    request: ExcuseRequest
    course: Course
    student: UserProfile
    correction: Correction | None  # None: declined, or the record was excused already


class ExcuseService:
    """`/excuse` and the teacher's Approve / Decline."""

    def __init__(
        self,
        *,
        excuses: ExcuseRecords,
        courses: CourseRecords,
        users: UserRecords,
        sessions: LiveSessionStore,
        checkins: CheckInStore,
        corrections: CorrectionService,
        access: CourseAccess,
        timetables: TimetableService,
        clock: Clock,
    ) -> None:
        self._access = access
        self._timetables = timetables
        self._excuses = excuses
        self._courses = courses
        self._users = users
        self._sessions = sessions
        self._checkins = checkins
        self._corrections = corrections
        self._clock = clock

    async def courses(self, student_id: int) -> list[Course]:
        """The student's courses (archived ones too: their past sessions can be excused)."""
        return await self._courses.student_courses(student_id)

    async def _enrolled_course(self, student_id: int, course_id: int) -> Course:
        course = next((c for c in await self.courses(student_id) if c.id == course_id), None)
        if course is None:
            raise NotExcusable("unknown")
        return course

    async def _live_choice(self, course: Course, student_id: int) -> ExcuseChoice | None:
        """The course's open session (started by its owner, a co-teacher or an assistant),
        unless the student is recorded present or excused."""
        live = None
        for runner in [course.teacher_id, *await self._access.staff_ids(course)]:
            current = await self._sessions.teacher_current_session(runner)
            found = await self._sessions.session(current) if current else None
            if found and found.course_id == course.id and found.ends_at > self._clock.now():
                live = found
                break
        if live is None:
            return None
        outcome, status = await self._checkins.live_status(live.id, student_id)
        if outcome != "ok" or status not in EXCUSABLE:
            return None
        target = ExcuseTarget(live.id, course.id, live.title, live.started_at)
        return ExcuseChoice(target, True, status, course.time_zone)

    async def choices(self, student_id: int, course_id: int) -> tuple[Course, list[ExcuseChoice]]:
        """The sessions of a course the student may ask about: the open one (unless they
        checked in on time), then saved ones they were absent or late in, newest first."""
        course = await self._enrolled_course(student_id, course_id)
        waiting = await self._waiting_sessions(course.id, student_id)
        found: list[ExcuseChoice] = []
        live = await self._live_choice(course, student_id)
        if live is not None and live.target.session_id not in waiting:
            found.append(live)
        for target in await self._coming(course):
            if target.session_id not in waiting:
                found.append(ExcuseChoice(target, False, None, course.time_zone))
        for record in await self._excuses.saved_records(course.id, student_id=student_id):
            if record.status in EXCUSABLE and record.session_id not in waiting:
                target = ExcuseTarget(record.session_id, course.id, record.title, record.started_at)
                found.append(ExcuseChoice(target, False, record.status, course.time_zone))
        return course, found[:MAX_CHOICES]

    async def _waiting_sessions(self, course_id: int, student_id: int) -> set[str]:
        """Sessions of the course the student has a request still waiting for."""
        pending = await self._excuses.pending_requests([course_id])
        return {r.target.session_id for r in pending if r.student_id == student_id}

    async def _coming(self, course: Course) -> list[ExcuseTarget]:
        """The course's timetabled classes that have not started yet, soonest first."""
        now = self._clock.now()
        return [
            ExcuseTarget(slot_id(course.id, slot.starts_at), course.id, course.name, slot.starts_at)
            for slot in await self._timetables.coming_slots(course.id, COMING_CHOICES + 1)
            if slot.starts_at > now
        ][:COMING_CHOICES]

    async def target(self, student_id: int, session_id: str) -> ExcuseTarget:
        """The session a button named, checked again (button data can be forged): one of the
        student's courses, a status an excuse can change, no request pending for it.

        Raises:
            NotExcusable
        """
        for course in await self.courses(student_id):
            if session_id in await self._waiting_sessions(course.id, student_id):
                raise NotExcusable("pending")
            live = await self._live_choice(course, student_id)
            if live is not None and live.target.session_id == session_id:
                return live.target
            if session_id.startswith(SLOT_PREFIX):
                coming = next(
                    (c for c in await self._coming(course) if c.session_id == session_id), None
                )
                if coming is not None:
                    return coming
                continue
            for record in await self._excuses.saved_records(course.id, student_id=student_id):
                if record.session_id != session_id:
                    continue
                if record.status == AttendanceStatus.EXCUSED:
                    raise NotExcusable("excused")
                if record.status not in EXCUSABLE:
                    raise NotExcusable("present")
                return ExcuseTarget(session_id, course.id, record.title, record.started_at)
        raise NotExcusable("unknown")

    async def submit(
        self, student_id: int, session_id: str, reason: str, attachment: Attachment | None
    ) -> Submitted:
        """Store the request and name who decides it (the course's teacher).

        Raises:
            InvalidArgument: the reason is empty or too long.
            NotExcusable: see `target`; "pending" when one is waiting already.
        """
        reason = reason.strip()
        if not reason:
            raise InvalidArgument("reason", "empty")
        if len(reason) > MAX_REASON_LENGTH:
            raise InvalidArgument("reason", "too_long")
        target = await self.target(student_id, session_id)
        request = await self._excuses.add_request(
            target,
            student_id=student_id,
            reason=reason,
            attachment=attachment,
            now=self._clock.now(),
        )
        if request is None:
            raise NotExcusable("pending")
        course = await self._enrolled_course(student_id, target.course_id)
        student = await self._student(student_id)
        return Submitted(request, course, student, await self._deciders(course))

    async def _deciders(self, course: Course) -> list[int]:
        """Who gets the request: everyone who may mark the course's attendance (its owner,
        co-teachers and assistants)."""
        candidates = [course.teacher_id, *await self._access.staff_ids(course)]
        return [
            user_id
            for user_id in dict.fromkeys(candidates)
            if await self._access.may(user_id, course, Permission.MARK)
        ]

    async def waiting(self, teacher_id: int) -> list[tuple[ExcuseRequest, Course, UserProfile]]:
        """Requests still waiting for a decision on the courses whose attendance the user may
        mark, oldest first."""
        await self._access.require_any(teacher_id, Permission.MARK)
        courses = {c.id: c for c in await self._access.courses(teacher_id, Permission.MARK)}
        pending = await self._excuses.pending_requests(list(courses))
        return [
            (r, courses[r.target.course_id], await self._student(r.student_id)) for r in pending
        ]

    async def _student(self, student_id: int) -> UserProfile:
        profile = await self._users.load_profile(student_id)
        return profile or UserProfile(user_id=student_id, first_name="")

    async def _current_status(self, request: ExcuseRequest) -> AttendanceStatus | None:
        """The record the request is about, live or saved."""
        target = request.target
        outcome, status = await self._checkins.live_status(target.session_id, request.student_id)
        if outcome == "ok":
            return status
        records = await self._excuses.saved_records(target.course_id, student_id=request.student_id)
        return next((r.status for r in records if r.session_id == target.session_id), None)

    async def decide(
        self, teacher_id: int, request_id: int, *, approve: bool, course_id: int | None = None
    ) -> Decision:
        """Approve (the record becomes `excused`, audited as a correction by this teacher)
        or decline (the record stays as it is). Decided once: a second tap, or another
        teacher's, raises AlreadyDecided; a record already excused is not corrected again.
        With `course_id` (the dashboard's URL names the course), a request of another course
        is unknown and nothing is decided.

        Raises:
            NotATeacher (NotYours), NotPermitted: not someone who may mark the course.
            InvalidArgument ("request", "unknown"), AlreadyDecided, SessionBusy.
        """
        request = await self._excuses.request(request_id)
        if request is None or course_id not in (None, request.target.course_id):
            raise InvalidArgument("request", "unknown")
        course = await self._access.course(teacher_id, request.target.course_id, Permission.MARK)
        if request.state != ExcuseState.PENDING:
            raise AlreadyDecided(request)
        coming = request.target.session_id.startswith(SLOT_PREFIX)
        excused = (
            approve
            and not coming
            and await self._current_status(request) == AttendanceStatus.EXCUSED
        )
        decided = await self._excuses.decide(
            request_id, approve=approve, decided_by=teacher_id, now=self._clock.now()
        )
        if decided is None:  # another tap won meanwhile
            fresh = await self._excuses.request(request_id)
            raise AlreadyDecided(fresh or request)
        correction = None
        if approve and not excused and not coming:  # a coming class: applied once saved
            try:
                correction = await self._corrections.excuse(
                    session_id=request.target.session_id,
                    student_id=request.student_id,
                    changed_by=teacher_id,
                )
            except BaseException:
                await self._excuses.reopen(request_id, decided_by=teacher_id)
                raise
        student = await self._student(request.student_id)
        return Decision(decided, course, student, correction)

    async def apply_premarks(self) -> int:
        """Approved excuses for coming classes whose session has been saved: a student with
        no check-in (absent) becomes `excused`, audited as the approver's correction; one who
        checked in after all keeps their record. Each request is first moved to the real
        session (one process wins it), and moved back if the correction fails.

        Returns:
            How many records were excused.
        """
        done = 0
        for request in await self._excuses.approved_premarks():
            course_id, starts_at = parse_slot_id(request.target.session_id)
            session_id = await self._timetables.slot_session(course_id, starts_at)
            if session_id is None or await self._sessions.session(session_id) is not None:
                continue  # not opened yet, or still live / being saved
            slot_key = request.target.session_id
            if not await self._excuses.move_request(
                request.id, from_session=slot_key, to_session=session_id
            ):
                continue
            records = await self._excuses.saved_records(course_id, student_id=request.student_id)
            status = next((r.status for r in records if r.session_id == session_id), None)
            if status != AttendanceStatus.ABSENT or request.decided_by is None:
                continue
            try:
                await self._corrections.excuse(
                    session_id=session_id,
                    student_id=request.student_id,
                    changed_by=request.decided_by,
                )
            except BaseException:
                await self._excuses.move_request(
                    request.id, from_session=session_id, to_session=slot_key
                )
                raise
            done += 1
        return done


def slot_id(course_id: int, starts_at: datetime) -> str:
    """The session id a coming class is known by until its session opens."""
    return f"{SLOT_PREFIX}{course_id}:{int(starts_at.timestamp())}"


def parse_slot_id(session_id: str) -> tuple[int, datetime]:
    """(course id, start) of a `slot_id`."""
    course, seconds = session_id.removeprefix(SLOT_PREFIX).split(":")
    return int(course), datetime.fromtimestamp(int(seconds), UTC)

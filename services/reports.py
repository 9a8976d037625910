"""Attendance reports per course and per student."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from services.course_access import CourseAccess, Permission
from services.errors import NotYours
from services.grading import Grade, grade_of, timetable_sessions
from services.models import Course, SessionSummary, StudentStanding
from services.places import Place
from services.ports import (
    AttendanceRecords,
    CourseRecords,
    GradingRecords,
    RosterPlaces,
    SessionRecords,
    SummaryOutbox,
    TimetableRecords,
)
from services.ports.grading import GradingPolicy

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class SessionRate:
    """One persisted session of a course and how many attended it."""

    session_id: str
    title: str
    started_at: datetime
    attended: int
    counted: int
    late: int
    absent: int
    excused: int

    @property
    def percent(self) -> float:
        return 100.0 if self.counted == 0 else 100.0 * self.attended / self.counted


@dataclass(frozen=True, slots=True)
class CourseReport:
    """Everything `/report` shows: per-student standings and per-session rates."""

    course: Course
    standings: list[StudentStanding]
    sessions: list[SessionRate]
    #: Imported roster places nobody claimed yet (in `standings` too, counted absent).
    unclaimed: list[Place] = field(default_factory=list)
    policy: GradingPolicy = field(default_factory=GradingPolicy)

    def grade(self, standing: StudentStanding) -> Grade:
        """The student's grade under the course's policy (see services/grading.py)."""
        return grade_of(self.policy, standing, self.course.warn_below_percent)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    course: Course
    standing: StudentStanding | None
    grade: Grade | None = None
    policy: GradingPolicy | None = None


class ReportService:
    """Builds reports from the system of record."""

    def __init__(
        self,
        *,
        attendance: AttendanceRecords,
        courses: CourseRecords,
        session_records: SessionRecords,
        summaries: SummaryOutbox,
        grading: GradingRecords,
        places: RosterPlaces,
        access: CourseAccess,
        timetables: TimetableRecords | None = None,
        zone: ZoneInfo = _UTC,
    ) -> None:
        self._grading = grading
        self._timetables = timetables
        self._zone = zone
        self._places = places
        self._access = access
        self._attendance = attendance
        self._courses = courses
        self._session_records = session_records
        self._summaries = summaries

    async def course_report(self, teacher_id: int, course: Course) -> CourseReport:
        """The report of a course whose role lets the user see reports (owner, co-teacher)."""
        await self._access.require(teacher_id, course, Permission.REPORT)
        return await self.report_for(course)

    async def report_for(self, course: Course) -> CourseReport:
        """The report of a course, without a permission check (for the operator's CLI)."""
        standings = await self._attendance.course_standings(course.id)
        sessions = [SessionRate(*row) for row in await self._attendance.course_sessions(course.id)]
        places = await self._places.places(course.id)
        unclaimed = [p for p in places if p.stand_in is not None]
        policy = await self.grading_policy(course)
        return CourseReport(course, standings, sessions, unclaimed, policy)

    async def grading_policy(self, course: Course) -> GradingPolicy:
        """The course's policy; graded over the term with a timetable, its planned sessions
        are the timetable's (holidays skipped), else the number set with /grading."""
        policy = await self._grading.grading_policy(course.id)
        if not policy.whole_term or self._timetables is None:
            return policy
        timetable = await self._timetables.timetable(course.id)
        if timetable is None or not timetable.rules:
            return policy
        zone = ZoneInfo(course.time_zone) if course.time_zone else self._zone
        return replace(policy, planned_sessions=timetable_sessions(timetable, zone))

    async def course_by_id(self, course_id: int) -> Course | None:
        return await self._courses.course(course_id)

    async def summary(self, teacher_id: int, session_id: str | None) -> SessionSummary | None:
        """A persisted session's summary: the one named (one they started, or of a course
        whose reports they may see), else the latest one they started."""
        await self._access.require_any(teacher_id, Permission.RUN_SESSIONS)
        if session_id is None:
            latest = await self._session_records.latest_session(teacher_id)
            if latest is None:
                return None
            session_id = latest.id
        summary = await self._summaries.load_summary(session_id)
        if summary is None or summary.teacher_id == teacher_id:
            return summary
        stored = await self._session_records.persisted_session(session_id)
        if stored is None or not await self._access.may_act_on_session(
            teacher_id, stored, Permission.REPORT
        ):
            raise NotYours("session")  # not theirs: a forged or stale button
        return summary

    async def student_history(self, student_id: int) -> list[HistoryLine]:
        """The student's own standing in each course they are enrolled in."""
        lines = []
        for course in await self._courses.student_courses(student_id):
            standings = await self._attendance.course_standings(course.id)
            mine = next((s for s in standings if s.student_id == student_id), None)
            policy = await self.grading_policy(course)
            grade = None if mine is None else grade_of(policy, mine, course.warn_below_percent)
            lines.append(HistoryLine(course, mine, grade, policy))
        return lines

"""What the teacher dashboard reads (issue 16, build point 1): a course's whole table in
one pass, and one student's page.

Writes are not here: a correction, an excuse decision, a roster import, a claim decision
and a removal go through the services the bot's commands and buttons use (corrections,
excuses, roster, course_admin), so they are checked and audited exactly as in the chat.
Every read asks `CourseAccess` first, as the bot does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.course_access import GRANTS, CourseAccess, CourseWithRole, Permission
from services.grading import Grade
from services.models import AttendanceStatus, Course, CourseRole, StudentStanding
from services.ports import ApiReadRecords
from services.ports.api import ApiRecordRow
from services.reports import ReportService, SessionRate


@dataclass(frozen=True, slots=True)
class TableRow:
    """One student's line: their standing and their status per session (None: no record)."""

    standing: StudentStanding
    statuses: list[AttendanceStatus | None]
    #: None when the viewer's role may not see grades (an assistant: no REPORT).
    grade: Grade | None


@dataclass(frozen=True, slots=True)
class CourseTable:
    """Students × saved sessions of a course, as the dashboard shows it."""

    course: Course
    role: CourseRole
    sessions: list[SessionRate]
    rows: list[TableRow]
    #: Whether the viewer may see rates, grades and the report files (REPORT).
    reports: bool


@dataclass(frozen=True, slots=True)
class StudentPage:
    """One student of a course: their standing, every saved record and every correction."""

    course: Course
    standing: StudentStanding | None
    records: list[ApiRecordRow]
    titles: dict[str, str]


class DashboardService:
    """The dashboard's reads, each behind the course permission the bot asks for."""

    def __init__(
        self, *, access: CourseAccess, reports: ReportService, reads: ApiReadRecords
    ) -> None:
        self._access = access
        self._reports = reports
        self._reads = reads

    async def courses(self, user_id: int) -> list[CourseWithRole]:
        """The courses the user has a role in, as /courses lists them."""
        return await self._access.course_roles(user_id)

    async def course(self, user_id: int, course_id: int, permission: Permission) -> Course:
        """The course, if the user may do `permission` on it (NotYours, NotATeacher,
        NotPermitted otherwise)."""
        return await self._access.course(user_id, course_id, permission)

    async def table(self, user_id: int, course_id: int) -> CourseTable:
        """The table of whoever may mark the course (owner, co-teacher, assistant); rates
        and grades only for a role that may see reports."""
        course = await self._access.course(user_id, course_id, Permission.MARK)
        role = await self._access.role_in(user_id, course)
        assert role is not None
        # Two independent reads, on two connections at once (the table's whole latency).
        report, cells = await asyncio.gather(
            self._reports.report_for(course), self._reads.course_cells(course.id)
        )
        column = {s.session_id: i for i, s in enumerate(report.sessions)}
        by_student: dict[int, list[AttendanceStatus | None]] = {}
        width = len(report.sessions)
        for student_id, session_ids, statuses in cells:
            line = by_student[student_id] = [None] * width
            for session_id, status in zip(session_ids, statuses, strict=True):
                index = column.get(session_id)
                if index is not None:
                    line[index] = status
        reports = Permission.REPORT in GRANTS[role]
        rows = [
            TableRow(
                standing,
                by_student.get(standing.student_id) or [None] * width,
                report.grade(standing) if reports else None,
            )
            for standing in report.standings
        ]
        return CourseTable(course, role, report.sessions, rows, reports)

    async def student(self, user_id: int, course_id: int, student_id: int) -> StudentPage:
        """One student's page for whoever may mark the course."""
        course = await self._access.course(user_id, course_id, Permission.MARK)
        report = await self._reports.report_for(course)
        standing = next((s for s in report.standings if s.student_id == student_id), None)
        records = await self._reads.student_records(course.id, student_id=student_id)
        titles = {s.session_id: s.title for s in report.sessions}
        return StudentPage(course, standing, records, titles)

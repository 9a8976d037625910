"""A course with saved sessions for the teacher dashboard's tests and the benchmarks of the
dashboard and the REST API (bench/dashboard.py, bench/api.py: the 300 × 40 course): students
enrolled (so a correction finds them on the roster, as /mark would), sessions persisted as the
sweep persists them, statuses in a fixed pattern (`status_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.container import Services
from services.models import AttendanceStatus, CheckIn, Course, Session, SessionState, UserProfile

STATUSES = list(AttendanceStatus)
FIRST_STUDENT = 700_000


def status_of(student_index: int, session_index: int) -> AttendanceStatus:
    """The seeded status of a student in a session (every status appears in every row)."""
    return STATUSES[(student_index + session_index) % len(STATUSES)]


@dataclass(frozen=True)
class SeededCourse:
    course: Course
    students: list[int]
    sessions: list[str]


async def seed_course(
    services: Services,
    teacher_id: int,
    name: str,
    *,
    students: int,
    sessions: int,
    first_student: int = FIRST_STUDENT,
    start: datetime | None = None,
) -> SeededCourse:
    """A new course of `teacher_id` with `students` enrolled and `sessions` saved sessions,
    one a day from `start` (session ids carry the course id: seeding again never collides)."""
    course = await services.courses.new_course(teacher_id, name)
    ids = [first_student + i for i in range(students)]
    profiles = [
        UserProfile(s, f"Student{i:03d}", "Test", full_name=None, student_number=f"N{i:05d}")
        for i, s in enumerate(ids)
    ]
    await services.records.users.upsert_profiles(profiles)
    for profile in profiles:
        await services.records.courses.enrol(course.id, profile)
    start = start or datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    session_ids = []
    for n in range(sessions):
        at = start + timedelta(days=n)
        sid = f"dash{course.id}x{n:04d}"
        session = Session(
            id=sid,
            teacher_id=teacher_id,
            chat_id=teacher_id,
            title=f"Lecture {n + 1}",
            code="",
            started_at=at,
            ends_at=at + timedelta(hours=1),
            state=SessionState.SEALED,
            course_id=course.id,
        )
        marks = [
            CheckIn(sid, s, int(at.timestamp() * 1000) + i, status_of(i, n))
            for i, s in enumerate(ids)
        ]
        await services.records.sessions.persist_session(session, marks)
        session_ids.append(sid)
    reloaded = await services.records.courses.course(course.id)
    assert reloaded is not None
    return SeededCourse(reloaded, ids, session_ids)

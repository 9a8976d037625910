"""Early warnings with two service stacks (two bot processes) on real Redis and PostgreSQL:
three absences in a row are alerted exactly once, the weekly digest reaches each teacher
once per ISO week, and a digest whose sender died is sent by the other process after the
lease."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.container import Services
from services.clock import ManualClock
from services.models import AttendanceStatus, CheckIn, Course, Session, SessionState, UserProfile
from services.ports.grading import AbsenceAlert, Digest
from tests.conftest import ADMIN_ID, TEACHER_ID, services_on_the_same_stores

P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT
MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # ISO week 2026-W50, before 08:00 (UTC)
ANN, BOB = 52_001, 52_002


class RecordingSender:
    """What each process handed to Telegram (the bot's sender is tested in tests/bot)."""

    def __init__(self) -> None:
        self.alerts: list[AbsenceAlert] = []
        self.digests: list[Digest] = []

    async def send_absence_alert(self, alert: AbsenceAlert) -> None:
        await asyncio.sleep(0)
        self.alerts.append(alert)

    async def send_digest(self, digest: Digest) -> None:
        await asyncio.sleep(0)
        self.digests.append(digest)


async def course_with(services: Services, teacher: int, name: str) -> Course:
    course = await services.courses.new_course(teacher, name)
    for student, full in ((ANN, "Ann Lee"), (BOB, "Bob Ray")):
        profile = UserProfile(student, first_name=full.split()[0], full_name=full)
        await services.records.users.upsert_profiles([profile])
        await services.courses.join_by_code(profile, course.join_code)
    return course


async def saved_session(
    services: Services, course: Course, n: int, statuses: dict[int, AttendanceStatus]
) -> None:
    started = MONDAY - timedelta(days=20 - n)
    session_id = f"{course.id:04x}{n:08x}"
    session = Session(
        id=session_id,
        teacher_id=course.teacher_id,
        chat_id=course.teacher_id,
        title=f"Week {n}",
        code="",
        started_at=started,
        ends_at=started + timedelta(hours=1),
        state=SessionState.SEALED,
        course_id=course.id,
    )
    rows = [CheckIn(session_id, s, None, status) for s, status in statuses.items()]
    await services.records.sessions.persist_session(session, rows)


async def test_alerts_and_digests_leave_once_with_two_processes(
    request: pytest.FixtureRequest, services: Services, clock: ManualClock
) -> None:
    clock.set(MONDAY)
    other = await services_on_the_same_stores(request, clock)
    try:
        physics = await course_with(services, TEACHER_ID, "Physics")
        chemistry = await course_with(services, ADMIN_ID, "Chemistry")
        # Ann: present, then absent three times in a row; Bob present throughout.
        for n, ann in enumerate([P, A, A, A], start=1):
            await saved_session(services, physics, n, {ANN: ann, BOB: P})
        await saved_session(services, chemistry, 1, {ANN: P, BOB: A})

        one, two = RecordingSender(), RecordingSender()
        for _ in range(3):  # every process runs the job at every tick
            await asyncio.gather(
                services.warnings.send_absence_alerts(one),
                other.warnings.send_absence_alerts(two),
            )
        alerts = one.alerts + two.alerts
        assert sorted((a.recipient, a.course_name, a.absences, a.student_name) for a in alerts) == [
            (TEACHER_ID, "Physics", 3, "Ann Lee"),
            (ANN, "Physics", 3, None),
        ]

        # A fourth absence continues the same streak: no new alert. Attending ends it; three
        # more absences are a new streak, alerted again.
        await saved_session(services, physics, 5, {ANN: A, BOB: P})
        assert await other.warnings.send_absence_alerts(two) == 0
        await saved_session(services, physics, 6, {ANN: P, BOB: P})
        for n in (7, 8, 9):
            await saved_session(services, physics, n, {ANN: A, BOB: P})
        assert await asyncio.gather(
            services.warnings.send_absence_alerts(one), other.warnings.send_absence_alerts(two)
        ) in ([1, 0], [0, 1])

        # The weekly digest: nothing before Monday 08:00; then one per teacher, whichever
        # process gets there first, however often both run.
        assert await services.warnings.send_weekly_digests(one) == 0
        clock.set(MONDAY.replace(hour=8))
        for _ in range(3):
            await asyncio.gather(
                services.warnings.send_weekly_digests(one),
                other.warnings.send_weekly_digests(two),
            )
        digests = one.digests + two.digests
        assert sorted((d.teacher_id, d.week) for d in digests) == [
            (TEACHER_ID, "2026-W50"),
            (ADMIN_ID, "2026-W50"),
        ]
        [mine] = [d for d in digests if d.teacher_id == TEACHER_ID]
        [part] = mine.courses
        assert part.course_name == "Physics" and part.at_risk == [("Ann Lee", 22)]  # 2 of 9
        clock.advance(days=3)
        assert await other.warnings.send_weekly_digests(two) == 0

        # Next week: a process claims the teacher's digest and dies before sending it; the
        # other sends it once the lease (ATTN_SWEEP_LEASE_SECONDS) has passed, not before.
        clock.set(MONDAY.replace(hour=9) + timedelta(days=7))
        now = clock.now()
        assert await services.records.warnings.claim_digest(
            TEACHER_ID, week="2026-W51", now=now, until=now + timedelta(seconds=30)
        )
        before = len(two.digests)
        await other.warnings.send_weekly_digests(two)
        assert [d.teacher_id for d in two.digests[before:]] == [ADMIN_ID]
        clock.advance(seconds=31)
        await other.warnings.send_weekly_digests(two)
        await services.warnings.send_weekly_digests(one)
        assert [(d.teacher_id, d.week) for d in two.digests[before + 1 :]] == [
            (TEACHER_ID, "2026-W51")
        ]
    finally:
        await other.close()

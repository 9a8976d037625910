"""WarningRecords: the same assertions on PostgreSQL and in memory."""

from __future__ import annotations

from datetime import timedelta

from services.models import AttendanceStatus, CheckIn, Preferences, UserProfile
from services.ports import RecordStores
from services.ports.grading import AbsenceStreak, GradingPolicy
from tests.contract.backends import T0, session

P, E, A = AttendanceStatus.PRESENT, AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT


async def test_streaks_claims_and_wanted_alerts(records: RecordStores) -> None:
    course = await records.courses.create_course(
        1001, name="Maths", join_code="J1", invite_token="I1"
    )
    assert course is not None
    for student in (7, 8, 9):
        await records.courses.enrol(course.id, UserProfile(student, first_name="S"))
    rows = {7: [P, A, A, A], 8: [A, A, E, A], 9: [A, A, A, A]}
    for n in range(4):
        sid = f"s{n}"
        await records.sessions.persist_session(
            session(sid, started_at=T0 + timedelta(days=n), course_id=course.id),
            [CheckIn(sid, s, None, statuses[n]) for s, statuses in rows.items()],
        )
    assert await records.warnings.absence_streaks() == [
        AbsenceStreak(course.id, 7, "s1", 3),
        AbsenceStreak(course.id, 9, "s0", 4),
    ]
    await records.grading.set_grading_policy(course.id, GradingPolicy(streak_alert=4))
    assert await records.warnings.absence_streaks() == [AbsenceStreak(course.id, 9, "s0", 4)]

    streak = AbsenceStreak(course.id, 9, "s0", 4)
    lease = T0 + timedelta(seconds=30)
    assert await records.warnings.claim_absence_alert(streak, now=T0, until=lease)
    assert not await records.warnings.claim_absence_alert(streak, now=T0, until=lease)
    later = lease + timedelta(seconds=1)
    assert await records.warnings.claim_absence_alert(streak, now=later, until=later)
    await records.warnings.absence_alert_sent(streak, now=later)
    much_later = later + timedelta(hours=1)
    assert not await records.warnings.claim_absence_alert(streak, now=much_later, until=much_later)

    assert await records.warnings.claim_digest(1001, week="2026-W50", now=T0, until=lease)
    assert not await records.warnings.claim_digest(1001, week="2026-W50", now=T0, until=lease)
    assert await records.warnings.claim_digest(1001, week="2026-W51", now=T0, until=lease)
    await records.warnings.digest_sent(1001, week="2026-W50", now=T0)
    assert not await records.warnings.claim_digest(1001, week="2026-W50", now=later, until=later)
    assert await records.warnings.digest_teachers() == [1001]

    await records.users.save_preferences(8, Preferences(alerts=False))
    assert await records.warnings.alerts_wanted([7, 8, 1001]) == {7, 1001}

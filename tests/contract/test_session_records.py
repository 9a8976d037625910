"""SessionRecords and AttendanceRecords: the same assertions on PostgreSQL and in memory."""

from __future__ import annotations

from datetime import timedelta

from services.models import AttendanceStatus, CourseAction, SessionState, UserProfile
from services.ports import RecordStores
from tests.contract.backends import T0, checkin, session

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)


async def test_persist_is_idempotent_and_reads_back_sealed(records: RecordStores) -> None:
    s = session("s1")
    rows = [checkin("s1", 2), checkin("s1", 3, minute=12, status=L)]
    inserted, new_users = await records.sessions.persist_session(s, rows)
    assert (inserted, sorted(new_users)) == (2, [2, 3])
    assert await records.sessions.persist_session(s, rows) == (0, [])
    saved = await records.sessions.persisted_session("s1")
    assert saved is not None
    assert (saved.state, saved.code, saved.late_at, saved.course_id) == (
        SessionState.SEALED,
        "",
        s.late_at,
        None,
    )
    assert (saved.started_at, saved.ends_at, saved.title) == (s.started_at, s.ends_at, "Lecture")
    assert await records.sessions.persisted_session("nope") is None
    assert await records.summaries.outbox_pending() == {"summary": 1, "nudge": 0}


async def test_a_first_attempt_stores_the_same_records(records: RecordStores) -> None:
    """The sweep's first attempt (binary COPY on PostgreSQL) keeps every rule of the retry:
    times, statuses, absent rows, pseudonyms of students forgotten since the start."""
    await records.privacy.forget_user(5, pseudonym=-55, now=T0 + timedelta(minutes=30))
    await records.privacy.forget_user(6, pseudonym=-66, now=T0 - timedelta(days=1))
    rows = [
        checkin("s1", 2),
        checkin("s1", 3, minute=12, status=L),
        checkin("s1", 4, minute=None, status=A),
        checkin("s1", 5),
        checkin("s1", 6),
    ]
    inserted, new_users = await records.sessions.persist_session(
        session("s1"), rows, first_attempt=True
    )
    assert (inserted, sorted(new_users)) == (5, [2, 3, 4, 6])
    saved = {
        r.student_id: (r.status, r.checked_in_at)
        for r in await records.attendance.export_rows("s1")
    }
    minute = timedelta(minutes=1)
    assert saved == {
        2: (P, T0 + minute),
        3: (L, T0 + 12 * minute),
        4: (A, None),
        -55: (P, T0 + minute),
        6: (P, T0 + minute),
    }
    assert await records.summaries.outbox_pending() == {"summary": 1, "nudge": 0}
    stored = await records.sessions.persisted_session("s1")
    assert stored is not None and (stored.title, stored.started_at) == ("Lecture", T0)


async def test_a_wrong_first_attempt_hint_adds_nothing_twice(records: RecordStores) -> None:
    """The live store lost its claim count, so a session saved before comes back as a first
    attempt: the records gain only what they lacked, and one summary stays one."""
    rows = [checkin("s1", 2), checkin("s1", 3)]
    assert await records.sessions.persist_session(session("s1"), rows, first_attempt=True) == (
        2,
        [2, 3],
    )
    again = await records.sessions.persist_session(
        session("s1"), [*rows, checkin("s1", 9)], first_attempt=True
    )
    assert again == (1, [9])
    saved = await records.attendance.export_rows("s1")
    assert sorted(r.student_id for r in saved) == [2, 3, 9]
    assert await records.summaries.outbox_pending() == {"summary": 1, "nudge": 0}


async def test_latest_session_is_the_teachers_latest_start(records: RecordStores) -> None:
    await records.sessions.persist_session(session("a", started_at=T0), [])
    await records.sessions.persist_session(session("b", started_at=T0 + timedelta(days=2)), [])
    await records.sessions.persist_session(session("c", started_at=T0 + timedelta(days=1)), [])
    await records.sessions.persist_session(session("x", teacher_id=7, started_at=T0), [])
    latest = await records.sessions.latest_session(1001)
    assert latest is not None and latest.id == "b"
    assert await records.sessions.latest_session(8) is None


async def test_student_forgotten_after_the_start_is_saved_under_the_pseudonym(
    records: RecordStores,
) -> None:
    await records.privacy.forget_user(5, pseudonym=-55, now=T0 + timedelta(minutes=30))
    await records.privacy.forget_user(6, pseudonym=-66, now=T0 - timedelta(days=1))
    inserted, new_users = await records.sessions.persist_session(
        session("s1"), [checkin("s1", 5), checkin("s1", 6)]
    )
    assert (inserted, new_users) == (2, [6])
    rows = await records.attendance.export_rows("s1")
    assert sorted(r.student_id for r in rows) == [-55, 6]
    assert {r.student_id: r.student_name for r in rows}[-55] == "Former student"


async def test_export_rows_order_and_names(records: RecordStores) -> None:
    await records.users.upsert_profiles(
        [UserProfile(2, "Ann", "Lee"), UserProfile(3, "", username="bo"), UserProfile(4, "Cy")]
    )
    await records.users.save_registration(
        UserProfile(4, "Cy"), full_name="Cyrus Smith", student_number="S4"
    )
    later = T0 + timedelta(days=1)
    await records.sessions.persist_session(
        session("late", started_at=later), [checkin("late", 2, started_at=later)]
    )
    await records.sessions.persist_session(
        session("early"),
        [
            checkin("early", 9, minute=None, status=A),
            checkin("early", 3, minute=5),
            checkin("early", 2, minute=5),
            checkin("early", 4, minute=2),
        ],
    )
    rows = await records.attendance.export_rows(None)
    assert [(r.session_id, r.student_id) for r in rows] == [
        ("early", 4),
        ("early", 2),
        ("early", 3),
        ("early", 9),
        ("late", 2),
    ]
    assert [r.student_name for r in rows[:4]] == ["Cyrus Smith", "Ann Lee", "@bo", "user 9"]
    assert rows[3].checked_in_at is None and rows[3].status is A
    assert rows[0].checked_in_at == T0 + timedelta(minutes=2)
    assert [r.session_id for r in await records.attendance.export_rows("late")] == ["late"]


async def test_corrections_return_the_old_status_and_are_audited(records: RecordStores) -> None:
    await records.sessions.persist_session(session("s1"), [checkin("s1", 2)])
    old = await records.attendance.correct_status("s1", 2, status=E, changed_by=1001, now=T0)
    assert old is P
    assert (
        await records.attendance.correct_status("s1", 3, status=L, changed_by=1001, now=T0) is None
    )
    rows = {r.student_id: r for r in await records.attendance.export_rows("s1")}
    assert (rows[2].status, rows[3].status, rows[3].checked_in_at) == (E, L, None)
    first = await records.attendance.audit_live_correction(
        "live", 2, changed_by=1001, now=T0, old=None, new=P
    )
    second = await records.attendance.audit_live_correction(
        "live", 2, changed_by=1001, now=T0, old=P, new=A
    )
    assert second == first + 1
    await records.attendance.delete_audit(first)
    await records.attendance.delete_audit(12345)


async def test_course_standings_and_sessions(records: RecordStores) -> None:
    course = await records.courses.create_course(
        1001, name="Maths", join_code="JOIN1", invite_token="inv1"
    )
    assert course is not None
    for uid, name in [(2, "zed"), (3, "Amy"), (4, "bob")]:
        await records.courses.enrol(course.id, UserProfile(uid, name))
    statuses = [[P, A, L], [A, A, E], [P, P, P]]
    for i, row in enumerate(statuses):
        start = T0 + timedelta(days=i)
        sid = f"c{i}"
        await records.sessions.persist_session(
            session(sid, started_at=start, course_id=course.id),
            [
                checkin(sid, uid, started_at=start, status=st)
                for uid, st in zip([2, 3, 4], row, strict=True)
            ],
        )
    await records.sessions.persist_session(session("other"), [checkin("other", 2)])
    standings = await records.attendance.course_standings(course.id)
    assert [s.student_id for s in standings] == [3, 4, 2]  # lower(name)
    by_id = {s.student_id: s for s in standings}
    assert (by_id[2].sessions, by_id[2].present, by_id[2].late, by_id[2].absent) == (3, 2, 0, 1)
    assert (by_id[3].sessions, by_id[3].excused, by_id[3].absent) == (3, 0, 2)
    assert (by_id[4].present, by_id[4].late, by_id[4].excused, by_id[4].percent) == (1, 1, 1, 100)
    assert all(s.enrolled for s in standings)
    sessions = await records.attendance.course_sessions(course.id)
    assert [s[0] for s in sessions] == ["c0", "c1", "c2"]
    assert sessions[1][3:] == (0, 2, 0, 2, 1)
    assert sessions[0][3:] == (2, 3, 1, 1, 0)


async def test_course_standings_keep_removed_students_marked(records: RecordStores) -> None:
    """A student removed (or gone) with records stays in the standings, marked and after
    the enrolled ones; one without records is not listed, nor a forgotten pseudonym."""
    course = await records.courses.create_course(
        1001, name="Maths", join_code="JOIN1", invite_token="inv1"
    )
    assert course is not None
    for uid, name in [(2, "Amy"), (3, "Bob"), (4, "Cy"), (5, "Dee")]:
        await records.courses.enrol(course.id, UserProfile(uid, name))
    await records.sessions.persist_session(
        session("c0", course_id=course.id),
        [checkin("c0", 2), checkin("c0", 3, status=A), checkin("c0", 5)],
    )
    for uid in (2, 4):
        assert await records.course_admin.unenrol(
            course.id, student_id=uid, action=CourseAction.REMOVE_STUDENT, by=1001, at=T0
        )
    await records.privacy.forget_user(5, pseudonym=-55, now=T0 + timedelta(hours=1))
    standings = await records.attendance.course_standings(course.id)
    assert [(s.student_id, s.enrolled, s.sessions) for s in standings] == [
        (3, True, 1),
        (2, False, 1),
    ]

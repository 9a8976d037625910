"""ApiTokenRecords and ApiReadRecords: tokens by hash (audited, revoked at once) and keyset
pages of a course's sessions and records, the same on PostgreSQL and in memory."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.models import AttendanceStatus, CourseAction, UserProfile
from services.ports import RecordStores
from services.ports.api import ApiCorrection, ApiScope
from tests.contract.backends import T0, checkin, session

T1 = T0 + timedelta(minutes=1)


async def _course(records: RecordStores, name: str = "Maths") -> int:
    c = await records.courses.create_course(
        1001, name=name, join_code=name[:2].upper() + "J", invite_token=name + "I"
    )
    assert c is not None
    return c.id


async def test_makings_at_once_never_pass_the_cap(records: RecordStores) -> None:
    """Twelve makings at once on a course with three places left (on PostgreSQL, each on a
    connection of its own): three tokens are made, nine refused, and the course has five."""
    tokens = records.api_tokens
    course = await _course(records)
    other = await _course(records, "Physics")

    async def make(n: int, course_id: int = course) -> bool:
        made = await tokens.create_api_token(
            f"h{course_id}-{n}",
            course_id=course_id,
            label=f"attn_{n}…",
            scope=ApiScope.READ,
            created_by=1001,
            now=T0,
            limit=5,
        )
        return made is not None

    assert all([await make(n) for n in range(2)])
    results = await asyncio.gather(*(make(n) for n in range(2, 14)))
    assert sorted(results) == [False] * 9 + [True] * 3
    assert len(await tokens.course_api_tokens(course)) == 5
    # The cap is per course, and a revoked token frees its place.
    assert await make(1, other)
    first = (await tokens.course_api_tokens(course))[0]
    assert await tokens.revoke_api_token(course, token_id=first.id, by=1001, at=T1) is not None
    assert await make(99)
    assert not await make(100)
    changes = await records.course_admin.course_changes(course)
    assert sum(c.action is CourseAction.API_TOKEN_NEW for c in changes) == 6


async def test_a_token_is_found_by_hash_until_revoked(records: RecordStores) -> None:
    tokens = records.api_tokens
    course = await _course(records)
    made = await tokens.create_api_token(
        "h1",
        course_id=course,
        label="attn_abc…",
        scope=ApiScope.READ,
        created_by=1001,
        now=T0,
        limit=20,
    )
    assert made is not None
    assert (made.course_id, made.label, made.scope, made.last_used_at) == (
        course,
        "attn_abc…",
        ApiScope.READ,
        None,
    )
    assert await tokens.use_api_token("nope", T0) is None
    # Read as before the touch; the touch shows on the next read, at most once a minute.
    first = await tokens.use_api_token("h1", T0)
    assert first is not None and first.last_used_at is None
    again = await tokens.use_api_token("h1", T0 + timedelta(seconds=30))
    assert again is not None and again.last_used_at == T0
    later = await tokens.use_api_token("h1", T0 + timedelta(seconds=61))
    assert later is not None and later.last_used_at == T0
    [listed] = await tokens.course_api_tokens(course)
    assert listed.last_used_at == T0 + timedelta(seconds=61)

    other = await _course(records, "Physics")
    assert await tokens.revoke_api_token(other, token_id=made.id, by=1001, at=T1) is None
    revoked = await tokens.revoke_api_token(course, token_id=made.id, by=1001, at=T1)
    assert revoked is not None and revoked.revoked_at == T1
    assert await tokens.revoke_api_token(course, token_id=made.id, by=1001, at=T1) is None
    assert await tokens.use_api_token("h1", T1) is None
    assert await tokens.course_api_tokens(course) == []
    changes = await records.course_admin.course_changes(course)
    assert [(c.action, c.changed_by, c.old_value, c.new_value) for c in changes] == [
        (CourseAction.API_TOKEN_NEW, 1001, None, f"{made.id} read attn_abc…"),
        (CourseAction.API_TOKEN_REVOKE, 1001, f"{made.id} read attn_abc…", None),
    ]


async def test_pages_of_sessions_and_records_in_order(records: RecordStores) -> None:
    course = await _course(records)
    other = await _course(records, "Physics")
    await records.users.upsert_profiles(
        [
            UserProfile(7, "Ann", "Lee", username="ann", full_name=None, student_number="S7"),
            UserProfile(8, "Bob", username="bob", full_name="Robert Roe"),
            UserProfile(9, "", username="only_username"),
        ]
    )
    early, late = T0, T0 + timedelta(days=1)
    for sid, at, course_id in (("b1", late, course), ("a1", early, course), ("z1", T0, other)):
        marks = [
            checkin(sid, 7, started_at=at),
            checkin(sid, 8, None, AttendanceStatus.ABSENT, at),
            checkin(sid, 9, 12, AttendanceStatus.LATE, at),
        ]
        await records.sessions.persist_session(
            session(sid, started_at=at, course_id=course_id), marks
        )
    await records.attendance.correct_status(
        "a1", 8, status=AttendanceStatus.EXCUSED, changed_by=1001, now=T1
    )

    reads = records.api_reads
    first = await reads.session_page(course, after=None, limit=1)
    assert [(s.id, s.present, s.late, s.excused, s.absent) for s in first] == [("a1", 1, 1, 1, 0)]
    rest = await reads.session_page(course, after=(first[0].started_at, "a1"), limit=5)
    assert [s.id for s in rest] == ["b1"]
    assert await reads.course_session(course, "z1") is None
    found = await reads.course_session(course, "b1")
    assert found is not None and (found.title, found.absent) == ("Lecture", 1)

    page = await reads.record_page(course, session_id=None, after=None, limit=4)
    assert [(r.session_id, r.student_id) for r in page] == [
        ("a1", 7),
        ("a1", 8),
        ("a1", 9),
        ("b1", 7),
    ]
    ann, bob, nameless = page[:3]
    assert (ann.student_number, ann.name, ann.status) == ("S7", "Ann Lee", AttendanceStatus.PRESENT)
    assert ann.checked_in_at == T0 + timedelta(minutes=1) and ann.corrections == ()
    assert (bob.name, bob.status, bob.checked_in_at) == (
        "Robert Roe",
        AttendanceStatus.EXCUSED,
        None,
    )
    assert bob.corrections == (
        ApiCorrection(T1, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED),
    )
    assert nameless.name is None  # never the username
    last = page[-1]
    after = (last.session_started_at, last.session_id, last.student_id)
    tail = await reads.record_page(course, session_id=None, after=after, limit=10)
    assert [(r.session_id, r.student_id) for r in tail] == [("b1", 8), ("b1", 9)]
    one = await reads.record_page(course, session_id="b1", after=None, limit=10)
    assert [r.student_id for r in one] == [7, 8, 9]
    assert await reads.record_page(course, session_id="z1", after=None, limit=10) == []


async def test_the_dashboard_reads_every_cell_and_one_students_records(
    records: RecordStores,
) -> None:
    course = await _course(records)
    other = await _course(records, "Physics")
    await records.users.upsert_profiles([UserProfile(8, "Bob", full_name="Robert Roe")])
    early, late = T0, T0 + timedelta(days=1)
    for sid, at, course_id in (("b1", late, course), ("a1", early, course), ("z1", T0, other)):
        marks = [checkin(sid, 7, started_at=at), checkin(sid, 8, None, AttendanceStatus.ABSENT, at)]
        await records.sessions.persist_session(
            session(sid, started_at=at, course_id=course_id), marks
        )
    await records.attendance.correct_status(
        "b1", 8, status=AttendanceStatus.LATE, changed_by=1001, now=T1
    )
    reads = records.api_reads
    cells = {
        student: sorted(zip(sessions, statuses, strict=True))
        for student, sessions, statuses in await reads.course_cells(course)
    }
    assert cells == {
        7: [("a1", AttendanceStatus.PRESENT), ("b1", AttendanceStatus.PRESENT)],
        8: [("a1", AttendanceStatus.ABSENT), ("b1", AttendanceStatus.LATE)],
    }
    bob = await reads.student_records(course, student_id=8)
    assert [(r.session_id, r.status, r.name) for r in bob] == [
        ("a1", AttendanceStatus.ABSENT, "Robert Roe"),
        ("b1", AttendanceStatus.LATE, "Robert Roe"),
    ]
    assert bob[0].corrections == ()
    assert bob[1].corrections == (
        ApiCorrection(T1, AttendanceStatus.ABSENT, AttendanceStatus.LATE),
    )
    assert await reads.student_records(other, student_id=8) != []
    assert await reads.student_records(course, student_id=99) == []

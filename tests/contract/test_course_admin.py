"""CourseAdmin: each change and its audit row, the same on PostgreSQL and in memory."""

from __future__ import annotations

from datetime import timedelta

from services.models import CourseAction, CourseChange, UserProfile
from services.ports import RecordStores
from services.ports.api import ApiScope
from services.ports.courses import Handover
from tests.contract.backends import T0

T1 = T0 + timedelta(minutes=1)


async def test_rename_archive_and_their_audit(records: RecordStores) -> None:
    admin = records.course_admin
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    d = await records.courses.create_course(1001, name="Art", join_code="J2", invite_token="I2")
    assert c is not None and d is not None
    assert not await admin.rename_course(c.id, name="Art", by=1001, at=T0)  # taken
    assert not await admin.rename_course(999, name="X", by=1001, at=T0)  # no such course
    assert await admin.rename_course(c.id, name="Algebra", by=1001, at=T0)
    assert await admin.set_course_archived(c.id, archived=True, by=1001, at=T1)
    assert not await admin.set_course_archived(c.id, archived=True, by=1001, at=T1)
    course = await records.courses.course(c.id)
    assert course is not None and course.name == "Algebra" and course.archived
    assert [x.archived for x in await records.courses.teacher_courses(1001)] == [True, False]
    assert await admin.set_course_archived(c.id, archived=False, by=1001, at=T1)
    course = await records.courses.course(c.id)
    assert course is not None and not course.archived
    assert await admin.course_changes(c.id) == [
        CourseChange(c.id, 1001, T0, CourseAction.RENAME, "Maths", "Algebra"),
        CourseChange(c.id, 1001, T1, CourseAction.ARCHIVE, None, None),
        CourseChange(c.id, 1001, T1, CourseAction.UNARCHIVE, None, None),
    ]
    assert await admin.course_changes(d.id) == []


async def test_unenrol_keeps_nothing_but_the_audit(records: RecordStores) -> None:
    admin = records.course_admin
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    assert c is not None
    await records.courses.enrol(c.id, UserProfile(2, "Ann", last_seen=T0))
    await records.courses.enrol(c.id, UserProfile(3, "Bob", last_seen=T0))
    assert await admin.unenrol(
        c.id, student_id=2, action=CourseAction.REMOVE_STUDENT, by=1001, at=T0
    )
    assert not await admin.unenrol(
        c.id, student_id=2, action=CourseAction.REMOVE_STUDENT, by=1001, at=T0
    )
    assert await admin.unenrol(c.id, student_id=3, action=CourseAction.LEAVE, by=3, at=T1)
    assert await records.courses.roster(c.id) == []
    assert await admin.course_changes(c.id) == [
        CourseChange(c.id, 1001, T0, CourseAction.REMOVE_STUDENT, "2", None),
        CourseChange(c.id, 3, T1, CourseAction.LEAVE, "3", None),
    ]


async def test_new_join_code_and_transfer(records: RecordStores) -> None:
    admin = records.course_admin
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    d = await records.courses.create_course(7, name="Maths", join_code="J2", invite_token="I2")
    assert c is not None and d is not None
    assert not await admin.replace_join_code(
        c.id, join_code="J2", invite_token="I9", by=1001, at=T0
    )
    assert not await admin.replace_join_code(
        c.id, join_code="J9", invite_token="I2", by=1001, at=T0
    )
    assert await admin.replace_join_code(c.id, join_code="J3", invite_token="I3", by=1001, at=T0)
    assert await records.courses.course_by_join_code("J1") is None
    assert await records.courses.course_by_invite("I1") is None
    found = await records.courses.course_by_invite("I3")
    assert found is not None and found.id == c.id and found.join_code == "J3"
    assert not await admin.transfer_course(c.id, teacher_id=7, by=9001, at=T1)  # name clash
    assert await admin.transfer_course(c.id, teacher_id=8, by=9001, at=T1) == Handover(0, False)
    assert [x.id for x in await records.courses.teacher_courses(8)] == [c.id]
    assert await records.courses.teacher_courses(1001) == []
    assert await admin.course_changes(c.id) == [
        CourseChange(c.id, 1001, T0, CourseAction.NEW_JOIN_CODE, "J1", "J3"),
        CourseChange(c.id, 9001, T1, CourseAction.TRANSFER, "1001", "8"),
    ]


async def test_a_transfer_revokes_the_tokens_and_removes_the_webhook(
    records: RecordStores,
) -> None:
    """The former owner holds the secrets: in the transfer's step every token of the course
    still in force is revoked and its webhook removed, audited as /api_tokens and /webhook
    audit them; a refused transfer and another course keep theirs."""
    admin, tokens, hooks = records.course_admin, records.api_tokens, records.webhooks
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    d = await records.courses.create_course(7, name="Maths", join_code="J2", invite_token="I2")
    assert c is not None and d is not None
    made = {}
    for course_id, name in ((c.id, "a"), (c.id, "b"), (c.id, "c"), (d.id, "d")):
        token = await tokens.create_api_token(
            f"h-{name}",
            course_id=course_id,
            label=f"attn_{name}…",
            scope=ApiScope.READ,
            created_by=1001,
            now=T0,
            limit=5,
        )
        assert token is not None
        made[name] = token
    assert await tokens.revoke_api_token(c.id, token_id=made["c"].id, by=1001, at=T0)
    await hooks.set_course_webhook(c.id, url="https://a.example/h", secret="s1", by=1001, now=T0)
    await hooks.set_course_webhook(d.id, url="https://d.example/h", secret="s2", by=7, now=T0)

    assert await admin.transfer_course(c.id, teacher_id=7, by=9001, at=T1) is None  # name clash
    assert await tokens.use_api_token("h-a", T1) is not None
    assert await hooks.course_webhook(c.id) is not None

    assert await admin.transfer_course(c.id, teacher_id=8, by=9001, at=T1) == Handover(2, True)
    for name in "abc":
        assert await tokens.use_api_token(f"h-{name}", T1) is None
    assert await tokens.course_api_tokens(c.id) == []
    assert await hooks.course_webhook(c.id) is None
    assert await hooks.webhook_status(c.id) is None
    assert await tokens.use_api_token("h-d", T1) is not None  # another course's: kept
    assert await hooks.course_webhook(d.id) is not None
    changes = [
        (x.changed_by, x.action, x.old_value, x.new_value)
        for x in await admin.course_changes(c.id)
        if x.changed_at == T1
    ]
    assert changes == [
        (9001, CourseAction.TRANSFER, "1001", "8"),
        (9001, CourseAction.API_TOKEN_REVOKE, f"{made['a'].id} read attn_a…", None),
        (9001, CourseAction.API_TOKEN_REVOKE, f"{made['b'].id} read attn_b…", None),
        (9001, CourseAction.WEBHOOK_CLEAR, "https://a.example/h", None),
    ]
    # Nothing more to switch off the next time.
    assert await admin.transfer_course(c.id, teacher_id=1001, by=9001, at=T1) == Handover()

"""UserRecords, RoleRecords and PrivacyRecords on PostgreSQL and in memory."""

from __future__ import annotations

from datetime import timedelta

from services.models import AttendanceStatus, CourseAction, Preferences, UserProfile
from services.ports import RecordStores
from tests.contract.backends import T0, checkin, session


async def test_cached_names_never_erase_a_registration(records: RecordStores) -> None:
    await records.users.save_registration(
        UserProfile(2, "Ann", last_seen=T0), full_name="Ann Lee", student_number="S2"
    )
    later = T0 + timedelta(hours=1)
    await records.users.upsert_profiles([UserProfile(2, "Annie", username="ann", last_seen=later)])
    await records.users.upsert_profiles([UserProfile(2, "Annie", username="ann", last_seen=T0)])
    saved = await records.users.load_profile(2)
    assert saved == UserProfile(2, "Annie", None, "ann", "Ann Lee", "S2", later)
    await records.users.add_new_users([UserProfile(2, "X"), UserProfile(3, "Bo", last_seen=T0)])
    loaded = await records.users.load_profiles([2, 3, 4])
    assert sorted(loaded) == [2, 3] and loaded[2].first_name == "Annie"
    assert loaded[3] == UserProfile(3, "Bo", last_seen=T0)
    assert await records.users.user_by_username("ANN") == 2
    assert await records.users.user_by_username("nobody") is None
    await records.users.upsert_profiles([])


async def test_language_code_and_choice_are_saved(records: RecordStores) -> None:
    """The Telegram language is refreshed by each upsert, never erased by a profile without
    one; the choice is set (and reset) only by save_language."""
    await records.users.save_language(7, language="es")  # chosen before any row was saved
    assert await records.users.load_profile(7) == UserProfile(7, "", language="es")
    await records.users.upsert_profiles([UserProfile(7, "Eve", language_code="ru", last_seen=T0)])
    await records.users.upsert_profiles([UserProfile(7, "Eve", last_seen=T0)])
    saved = await records.users.load_profile(7)
    assert saved == UserProfile(7, "Eve", last_seen=T0, language_code="ru", language="es")
    await records.users.save_language(7, language=None)
    assert (await records.users.load_profiles([7]))[7].language is None
    await records.users.add_new_users([UserProfile(8, "Bo", language_code="fa", last_seen=T0)])
    assert await records.users.load_profile(8) == UserProfile(
        8, "Bo", last_seen=T0, language_code="fa"
    )


async def test_preferences_default_until_saved_then_replaced_whole(records: RecordStores) -> None:
    assert await records.users.load_preferences(8) == Preferences()
    chosen = Preferences(nudges=False, session_minutes=45, rotation_seconds=0)
    await records.users.save_preferences(8, chosen)  # no users row needed
    assert await records.users.load_preferences(8) == chosen
    await records.users.save_preferences(8, Preferences(session_minutes=90))
    assert await records.users.load_preferences(8) == Preferences(True, 90, None)
    assert await records.users.load_preferences(9) == Preferences()


async def test_names_read_before_forgetme_are_not_written_back(records: RecordStores) -> None:
    await records.privacy.forget_user(2, pseudonym=-22, now=T0)
    await records.users.upsert_profiles([UserProfile(2, "Ann", last_seen=T0)])
    await records.users.add_new_users([UserProfile(2, "Ann", last_seen=T0 - timedelta(1))])
    assert await records.users.load_profile(2) is None
    await records.users.add_new_users([UserProfile(2, "Ann", last_seen=T0 + timedelta(1))])
    assert await records.users.load_profile(2) == UserProfile(2, "Ann", last_seen=T0 + timedelta(1))


async def test_teacher_invites_are_spent_once_before_expiry(records: RecordStores) -> None:
    await records.users.upsert_profiles([UserProfile(5, "Tea", full_name="Dr Tea")])
    await records.roles.create_teacher_invite(
        "h1", created_by=9001, now=T0, expires_at=T0 + timedelta(hours=1)
    )
    await records.roles.create_teacher_invite(
        "h2", created_by=9001, now=T0, expires_at=T0 + timedelta(hours=1)
    )
    assert not await records.roles.use_teacher_invite("h2", 6, T0 + timedelta(hours=1))
    assert not await records.roles.use_teacher_invite("nope", 6, T0)
    assert await records.roles.use_teacher_invite("h1", 5, T0)
    assert not await records.roles.use_teacher_invite("h1", 6, T0)
    assert await records.roles.is_teacher(5) and not await records.roles.is_teacher(6)
    assert await records.roles.teachers() == [UserProfile(5, "Tea", full_name="Dr Tea")]
    assert await records.roles.remove_teacher(5)
    assert not await records.roles.remove_teacher(5)
    assert await records.roles.teachers() == []


async def test_forget_moves_records_and_clears_the_rest(records: RecordStores) -> None:
    course = await records.courses.create_course(
        1001, name="Maths", join_code="J1", invite_token="I1"
    )
    assert course is not None
    await records.courses.enrol(course.id, UserProfile(2, "Ann"))
    await records.sessions.persist_session(session("s1", course_id=course.id), [checkin("s1", 2)])
    await records.attendance.audit_live_correction(
        "s1", 2, changed_by=1001, now=T0, old=None, new=AttendanceStatus.LATE
    )
    await records.reachability.set_unreachable(2, "blocked", T0)
    data = await records.privacy.personal_data(2)
    assert (data.courses, data.attendance_records, data.is_teacher) == (["Maths"], 1, False)
    assert data.profile is not None and data.profile.first_name == "Ann"
    await records.privacy.forget_user(2, pseudonym=-22, now=T0)
    await records.privacy.forget_user(
        2, pseudonym=-23, now=T0 + timedelta(1)
    )  # repeated: fresh pseudonym
    data = await records.privacy.personal_data(2)
    assert (data.profile, data.courses, data.attendance_records) == (None, [], 0)
    assert (await records.privacy.personal_data(-22)).attendance_records == 1
    assert await records.courses.roster(course.id) == []
    assert await records.reachability.awaited_users() == set()
    # Retention: the session (and its records) go; -22 still has them until then, -23 none.
    assert await records.privacy.delete_older_than(cutoff=T0, forgotten_cutoff=T0) == 0
    assert await records.users.load_profile(-23) is not None
    deleted = await records.privacy.delete_older_than(
        cutoff=T0 + timedelta(1), forgotten_cutoff=T0 + timedelta(2)
    )
    assert deleted == 1
    assert await records.users.load_profiles([-22, -23]) == {}
    assert await records.sessions.persisted_session("s1") is None
    assert await records.summaries.outbox_pending() == {"summary": 0, "nudge": 0}


async def test_course_audit_follows_forgetme_and_retention(records: RecordStores) -> None:
    """/forgetme pseudonymises a student in the course audit (removed: the old value; left:
    who and the old value), as the attendance audit does; the teacher's own rows stay; rows
    older than the retention period go."""
    course = await records.courses.create_course(
        1001, name="Maths", join_code="JOIN1", invite_token="inv1"
    )
    assert course is not None
    for uid in (2, 3):
        await records.courses.enrol(course.id, UserProfile(uid, f"s{uid}"))
    await records.course_admin.rename_course(course.id, name="Algebra", by=1001, at=T0)
    await records.course_admin.unenrol(
        course.id, student_id=2, action=CourseAction.REMOVE_STUDENT, by=1001, at=T0
    )
    later = T0 + timedelta(days=10)
    await records.course_admin.unenrol(
        course.id, student_id=3, action=CourseAction.LEAVE, by=3, at=later
    )
    for uid, pseudonym in ((2, -22), (3, -33)):
        await records.privacy.forget_user(uid, pseudonym=pseudonym, now=later)
    changes = await records.course_admin.course_changes(course.id)
    assert [(c.action, c.changed_by, c.old_value) for c in changes] == [
        (CourseAction.RENAME, 1001, "Maths"),
        (CourseAction.REMOVE_STUDENT, 1001, "-22"),
        (CourseAction.LEAVE, -33, "-33"),
    ]
    await records.privacy.delete_older_than(cutoff=T0 + timedelta(days=1), forgotten_cutoff=T0)
    changes = await records.course_admin.course_changes(course.id)
    assert [(c.action, c.changed_by) for c in changes] == [(CourseAction.LEAVE, -33)]

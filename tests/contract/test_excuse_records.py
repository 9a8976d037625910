"""ExcuseRecords (and the privacy rules of excuse requests) on PostgreSQL and in memory."""

from __future__ import annotations

from datetime import timedelta

from services.models import AttendanceStatus, UserProfile
from services.ports import RecordStores
from services.ports.excuses import Attachment, DocumentKind, ExcuseState, ExcuseTarget
from tests.contract.backends import T0, checkin, session

STUDENT, OTHER, TEACHER = 5001, 5002, 1001


async def course_with_sessions(records: RecordStores) -> int:
    course = await records.courses.create_course(
        TEACHER, name="Bio", join_code="BIO12345", invite_token="tok-bio"
    )
    assert course is not None
    for number, status in enumerate((AttendanceStatus.ABSENT, AttendanceStatus.LATE)):
        started = T0 + timedelta(days=number)
        await records.sessions.persist_session(
            session(f"s{number:011d}", started_at=started, course_id=course.id, title=f"L{number}"),
            [checkin(f"s{number:011d}", STUDENT, None, status, started_at=started)],
        )
    return course.id


async def test_one_pending_request_per_session_decided_once(records: RecordStores) -> None:
    course_id = await course_with_sessions(records)
    excuses = records.excuses
    saved = await excuses.saved_records(course_id, student_id=STUDENT)
    assert [(r.session_id, r.title, r.status) for r in saved] == [
        ("s00000000001", "L1", AttendanceStatus.LATE),
        ("s00000000000", "L0", AttendanceStatus.ABSENT),
    ]
    assert await excuses.saved_records(course_id, student_id=OTHER) == []
    target = ExcuseTarget("s00000000000", course_id, "L0", T0)
    photo = Attachment("AgACAgIAAxkBAAI", DocumentKind.PHOTO)
    first = await excuses.add_request(
        target, student_id=STUDENT, reason="Flu", attachment=photo, now=T0
    )
    assert first is not None and first.state == ExcuseState.PENDING
    assert (first.target, first.attachment, first.reason) == (target, photo, "Flu")
    again = await excuses.add_request(
        target, student_id=STUDENT, reason="Flu!", attachment=None, now=T0
    )
    assert again is None
    other = await excuses.add_request(
        target, student_id=OTHER, reason="Bus", attachment=None, now=T0 + timedelta(seconds=1)
    )
    assert other is not None and other.id != first.id and other.attachment is None
    assert [r.id for r in await excuses.pending_requests([course_id])] == [first.id, other.id]
    assert await excuses.pending_requests([course_id + 1]) == []

    later = T0 + timedelta(hours=1)
    decided = await excuses.decide(first.id, approve=True, decided_by=TEACHER, now=later)
    assert decided is not None
    assert (decided.state, decided.decided_by, decided.decided_at) == (
        ExcuseState.APPROVED,
        TEACHER,
        later,
    )
    assert await excuses.decide(first.id, approve=False, decided_by=TEACHER, now=later) is None
    assert await excuses.request(first.id) == decided
    # An approval whose correction failed is given back, by its decider only.
    await excuses.reopen(first.id, decided_by=TEACHER + 1)
    assert (await excuses.request(first.id)) == decided
    await excuses.reopen(first.id, decided_by=TEACHER)
    reopened = await excuses.request(first.id)
    assert reopened is not None and reopened.state == ExcuseState.PENDING
    assert reopened.decided_by is None and reopened.decided_at is None
    declined = await excuses.decide(other.id, approve=False, decided_by=TEACHER, now=later)
    assert declined is not None and declined.state == ExcuseState.DECLINED
    # Decided, a new request for the same session may be made.
    assert await excuses.add_request(
        target, student_id=OTHER, reason="Bus again", attachment=None, now=later
    )
    assert await excuses.request(999) is None


async def test_requests_follow_mydata_forgetme_and_retention(records: RecordStores) -> None:
    course_id = await course_with_sessions(records)
    await records.users.save_registration(
        UserProfile(STUDENT, "Ann"), full_name="Ann Lee", student_number="S1"
    )
    old = ExcuseTarget("s00000000000", course_id, "L0", T0)
    new = ExcuseTarget("s00000000001", course_id, "L1", T0 + timedelta(days=1))
    for target in (old, new):
        await records.excuses.add_request(
            target, student_id=STUDENT, reason="r", attachment=None, now=T0
        )
    await records.excuses.add_request(old, student_id=OTHER, reason="r", attachment=None, now=T0)
    assert (await records.privacy.personal_data(STUDENT)).excuse_requests == 2
    # Retention: a request goes with the session it is about.
    await records.privacy.delete_older_than(
        cutoff=T0 + timedelta(hours=1), forgotten_cutoff=T0 - timedelta(days=9)
    )
    assert (await records.privacy.personal_data(STUDENT)).excuse_requests == 1
    [left] = await records.excuses.pending_requests([course_id])
    assert (left.student_id, left.target) == (STUDENT, new)
    # /forgetme: the student's requests go (reasons and documents are theirs).
    await records.privacy.forget_user(STUDENT, pseudonym=-77, now=T0 + timedelta(days=2))
    assert await records.excuses.pending_requests([course_id]) == []
    assert (await records.privacy.personal_data(STUDENT)).excuse_requests == 0


async def test_a_coming_class_request_moves_to_its_session_once(records: RecordStores) -> None:
    course_id = await course_with_sessions(records)
    slot = ExcuseTarget("slot:1:1788343200", course_id, "Bio", T0 + timedelta(days=7))
    request = await records.excuses.add_request(
        slot, student_id=STUDENT, reason="Dentist", attachment=None, now=T0
    )
    assert request is not None
    assert await records.excuses.approved_premarks() == []  # pending, not approved
    await records.excuses.decide(request.id, approve=True, decided_by=TEACHER, now=T0)
    [premark] = await records.excuses.approved_premarks()
    assert premark.id == request.id and premark.target == slot
    moved = await records.excuses.move_request(
        request.id, from_session=slot.session_id, to_session="abcdef012345"
    )
    assert moved
    assert not await records.excuses.move_request(
        request.id, from_session=slot.session_id, to_session="abcdef012345"
    )
    assert await records.excuses.approved_premarks() == []
    saved = await records.excuses.request(request.id)
    assert saved is not None and saved.target.session_id == "abcdef012345"

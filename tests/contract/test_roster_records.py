"""RosterPlaces: imported places, claims and their effect on rosters, the same on PostgreSQL
and in memory (with /forgetme and retention, which release and age places out)."""

from __future__ import annotations

from datetime import timedelta

from services.models import AttendanceStatus, CourseAction, CourseChange, UserProfile
from services.places import ClaimResult, PlaceRow
from services.ports import RecordStores
from tests.contract.backends import T0, checkin, session

T1 = T0 + timedelta(minutes=1)
ROWS = [
    PlaceRow(2, "1001", "Ada Lovelace", "ada@uni.example", "G1"),
    PlaceRow(3, "1002", "Alan Turing"),
]


async def test_places_are_idempotent_and_stand_in_the_roster(records: RecordStores) -> None:
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    assert c is not None
    places = records.places
    assert not await places.has_places(c.id)
    first = await places.add_places(c.id, ROWS, by=1001, at=T0)
    assert (first.added, first.already_there) == (2, [])
    again = await places.add_places(c.id, [*ROWS, PlaceRow(4, "1003", "Grace")], by=1001, at=T1)
    assert (again.added, sorted(again.already_there)) == (1, ["1001", "1002"])
    listed = await places.places(c.id)
    assert [(p.student_number, p.full_name, p.email, p.group) for p in listed] == [
        ("1001", "Ada Lovelace", "ada@uni.example", "G1"),
        ("1002", "Alan Turing", None, None),
        ("1003", "Grace", None, None),
    ]
    assert all(p.stand_in is not None and p.stand_in < 0 and p.claimed_by is None for p in listed)
    stand_ins = {p.stand_in for p in listed}
    assert set(await records.courses.roster(c.id)) == stand_ins
    course = await records.courses.course(c.id)
    assert course is not None and course.roster_size == 3
    names = sorted(p.display_name for p in await records.courses.roster_profiles(c.id))
    assert names == ["Ada Lovelace", "Alan Turing", "Grace"]
    standings = await records.attendance.course_standings(c.id)
    assert [(s.name, s.student_number, s.sessions) for s in standings] == [
        ("Ada Lovelace", "1001", 0),
        ("Alan Turing", "1002", 0),
        ("Grace", "1003", 0),
    ]
    grace = listed[2].stand_in
    assert grace is not None
    assert await places.remove_place(c.id, stand_in=grace, by=1001, at=T1)
    assert not await places.remove_place(c.id, stand_in=grace, by=1001, at=T1)
    assert [p.student_number for p in await places.places(c.id)] == ["1001", "1002"]
    assert len(await records.courses.roster(c.id)) == 2


async def test_a_claim_takes_a_free_place_once(records: RecordStores) -> None:
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    assert c is not None
    places = records.places
    await places.add_places(c.id, ROWS, by=1001, at=T0)
    ann, bob = UserProfile(2, "Ann", last_seen=T0), UserProfile(3, "Bob", last_seen=T0)
    assert await places.claim_place(c.id, student_number="9999", student=ann, at=T1) == (
        ClaimResult.NO_PLACE,
        None,
    )
    result, place = await places.claim_place(c.id, student_number="1001", student=ann, at=T1)
    assert result is ClaimResult.CLAIMED and place is not None and place.full_name == "Ada Lovelace"
    result, place = await places.claim_place(c.id, student_number="1001", student=bob, at=T1)
    assert result is ClaimResult.TAKEN and place is not None and place.claimed_by == 2
    mine = await places.claimed_place(c.id, student_id=2)
    assert mine is not None and mine.student_number == "1001" and mine.stand_in is None
    assert 2 in await records.courses.roster(c.id) and len(await records.courses.roster(c.id)) == 2
    profile = await records.users.load_profile(2)
    assert profile is not None and profile.full_name == "Ada Lovelace"
    assert profile.student_number == "1001"
    assert [(name, p.student_number) for name, p in await places.student_places(2)] == [
        ("Maths", "1001")
    ]

    request = await places.request_claim(c.id, student_id=3, student_number="1001", at=T0)
    replaced = await places.request_claim(c.id, student_id=3, student_number="1009", at=T1)
    assert replaced.id == request.id and replaced.student_number == "1009"
    assert await places.claim_request(request.id) == replaced
    other = await places.request_claim(c.id, student_id=4, student_number="1002", at=T0)
    assert await places.claim_requests(c.id) == [other, replaced]  # oldest first
    assert await places.claim_requests(c.id + 1) == []
    assert await places.take_claim_request(other.id, approved=False, by=1001, at=T1) == other
    taken = await places.take_claim_request(request.id, approved=False, by=1001, at=T1)
    assert taken == replaced
    assert await places.take_claim_request(request.id, approved=True, by=1001, at=T1) is None
    assert await places.claim_request(request.id) is None
    # Import, claim and decision are audited (a refused claim is not).
    assert await records.course_admin.course_changes(c.id) == [
        CourseChange(c.id, 1001, T0, CourseAction.ROSTER_IMPORT, None, "2 new, 0 unchanged"),
        CourseChange(c.id, 2, T1, CourseAction.CLAIM_PLACE, None, "1001"),
        CourseChange(c.id, 1001, T1, CourseAction.DECLINE_CLAIM, "1002", "4"),
        CourseChange(c.id, 1001, T1, CourseAction.DECLINE_CLAIM, "1009", "3"),
    ]


async def test_forgetme_releases_and_retention_ages_out(records: RecordStores) -> None:
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    assert c is not None
    places = records.places
    await places.add_places(c.id, ROWS, by=1001, at=T0)
    ann = UserProfile(2, "Ann", last_seen=T0)
    await places.claim_place(c.id, student_number="1001", student=ann, at=T1)
    await places.request_claim(c.id, student_id=2, student_number="1002", at=T1)
    await records.privacy.forget_user(2, pseudonym=-77, now=T1)
    released = {p.student_number: p for p in await places.places(c.id)}
    assert released["1001"].claimed_by is None and released["1001"].stand_in is not None
    assert await places.student_places(2) == []
    assert len(await records.courses.roster(c.id)) == 2
    # Retention: places older than the cutoff that no kept session counts go.
    await records.privacy.delete_older_than(
        cutoff=T1 + timedelta(days=1), forgotten_cutoff=T1 + timedelta(days=1)
    )
    assert await places.places(c.id) == []
    assert await records.courses.roster(c.id) == []


async def test_students_enrolled_before_the_import_take_their_places(
    records: RecordStores,
) -> None:
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    assert c is not None
    await records.courses.enrol(c.id, UserProfile(2, "Ann", last_seen=T0))
    await records.users.save_registration(
        UserProfile(2, "Ann"), full_name="Ann Early", student_number="s1002"
    )
    await records.courses.enrol(c.id, UserProfile(3, "Bob", last_seen=T0))  # no number
    outcome = await records.places.add_places(
        c.id, [*ROWS, PlaceRow(4, "S1002", "Ann Registry")], by=1001, at=T1
    )
    assert (outcome.added, outcome.linked) == (3, 1)
    mine = await records.places.claimed_place(c.id, student_id=2)
    assert mine is not None and mine.student_number == "S1002"
    assert sorted(await records.courses.roster(c.id))[-2:] == [2, 3]
    assert len(await records.courses.roster(c.id)) == 4  # Ann, Bob and two stand-ins
    profile = await records.users.load_profile(2)
    assert profile is not None and profile.full_name == "Ann Early"  # her own name stays
    changes = await records.course_admin.course_changes(c.id)
    assert [(x.action, x.old_value, x.new_value) for x in changes] == [
        (CourseAction.ROSTER_IMPORT, None, "3 new, 0 unchanged"),
        (CourseAction.LINK_PLACE, "2", "S1002"),
    ]


async def test_an_enrolled_student_claims_a_place_their_own_records_winning(
    records: RecordStores,
) -> None:
    """An approved mismatch claims the free place later: the place's absences become the
    student's, except for a session the student has a record of (theirs stays)."""
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    assert c is not None
    await records.places.add_places(c.id, ROWS, by=1001, at=T0)
    ann = UserProfile(2, "Ann", last_seen=T0)
    await records.courses.enrol(c.id, ann)
    ada, alan = [p.stand_in for p in await records.places.places(c.id)]
    assert ada is not None and alan is not None
    absent = AttendanceStatus.ABSENT
    await records.sessions.persist_session(
        session("s1", course_id=c.id),
        [checkin("s1", 2), checkin("s1", ada, None, absent), checkin("s1", alan, None, absent)],
    )
    later = T0 + timedelta(days=7)
    await records.sessions.persist_session(
        session("s2", course_id=c.id, started_at=later),
        [checkin("s2", ada, None, absent), checkin("s2", alan, None, absent)],
    )
    result, place = await records.places.claim_place(
        c.id, student_number="1001", student=ann, at=T1
    )
    assert result is ClaimResult.CLAIMED and place is not None and place.stand_in == ada
    standings = {s.student_id: s for s in await records.attendance.course_standings(c.id)}
    assert set(standings) == {2, alan}
    mine = standings[2]
    assert (mine.name, mine.sessions, mine.present, mine.absent) == ("Ada Lovelace", 2, 1, 1)
    assert sorted(await records.courses.roster(c.id)) == sorted([2, alan])
    changes = await records.course_admin.course_changes(c.id)
    assert (changes[-1].action, changes[-1].new_value) == (CourseAction.CLAIM_PLACE, "1001")

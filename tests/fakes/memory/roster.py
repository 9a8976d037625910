"""In-memory `RosterPlaces`: imported places and claims, as storage/postgres/roster.py."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from services.models import CourseAction, UserProfile
from services.places import ClaimRequest, ClaimResult, ImportOutcome, Place, PlaceRow
from tests.fakes.memory.database import ClaimRow, CourseAuditRow, MemoryDatabase, now
from tests.fakes.memory.database import PlaceRow as StoredPlace
from tests.fakes.memory.users import upsert_profiles


def new_stand_in() -> int:
    return -(secrets.randbelow(2**62) + 1)


def add_stand_in_user(db: MemoryDatabase, stand_in: int, row: StoredPlace) -> None:
    """The stand-in's `users` row, named as the registry names the place."""
    db.users.setdefault(
        stand_in,
        UserProfile(
            user_id=stand_in,
            first_name="",
            full_name=row.full_name,
            student_number=row.student_number,
        ),
    )


def _place(place_id: int, row: StoredPlace) -> Place:
    return Place(
        id=place_id,
        course_id=row.course_id,
        student_number=row.student_number,
        full_name=row.full_name,
        email=row.email,
        group=row.group_name,
        stand_in=row.stand_in,
        claimed_by=row.claimed_by,
    )


def _request(request_id: int, row: ClaimRow) -> ClaimRequest:
    return ClaimRequest(
        request_id, row.course_id, row.student_id, row.student_number, row.requested_at
    )


def _audit(
    db: MemoryDatabase,
    course_id: int,
    action: CourseAction,
    old_new: tuple[str | None, str | None],
    *,
    by: int,
    at: datetime,
) -> None:
    db.course_audit[next(db.course_audit_ids)] = CourseAuditRow(
        course_id, by, at, action.value, *old_new
    )


def _take(db: MemoryDatabase, row: StoredPlace, user: int, at: datetime) -> None:
    """storage/postgres/roster.py `_take_place`: records move, the stand-in goes, enrolled."""
    stand_in = row.stand_in
    for sid, st in [key for key in db.attendance if key[1] == stand_in]:
        moved = db.attendance.pop((sid, st))
        db.attendance.setdefault((sid, user), moved)
    for audit in db.attendance_audit.values():
        if audit.student_id == stand_in:
            audit.student_id = user
    if stand_in is not None:
        db.users.pop(stand_in, None)
    row.stand_in, row.claimed_by, row.claimed_at = None, user, at
    db.enrolments.setdefault((row.course_id, user), now())
    stored = db.users.get(user)
    if stored is not None and not stored.full_name:
        db.users[user] = replace(stored, full_name=row.full_name, student_number=row.student_number)
    for request_id in [
        i
        for i, c in db.roster_claims.items()
        if (c.course_id, c.student_id) == (row.course_id, user)
    ]:
        del db.roster_claims[request_id]


class MemoryRosterPlaces:
    """Places unique by (course, number) and by (course, claimer); claims one per student."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def _find(self, course_id: int, number: str) -> tuple[int, StoredPlace] | None:
        for place_id, row in self._db.roster_places.items():
            if (row.course_id, row.student_number) == (course_id, number):
                return place_id, row
        return None

    def _claimed(self, course_id: int, student_id: int) -> Place | None:
        for place_id, row in self._db.roster_places.items():
            if (row.course_id, row.claimed_by) == (course_id, student_id):
                return _place(place_id, row)
        return None

    async def add_places(
        self, course_id: int, rows: Sequence[PlaceRow], *, by: int, at: datetime
    ) -> ImportOutcome:
        db = self._db
        db.check()
        added, there = 0, []
        for r in rows:
            if self._find(course_id, r.student_number) is not None:
                there.append(r.student_number)
                continue
            row = StoredPlace(
                course_id, r.student_number, r.full_name, r.email, r.group, by, at, new_stand_in()
            )
            db.roster_places[next(db.place_ids)] = row
            assert row.stand_in is not None
            add_stand_in_user(db, row.stand_in, row)
            added += 1
        summary = f"{added} new, {len(there)} unchanged"
        _audit(db, course_id, CourseAction.ROSTER_IMPORT, (None, summary), by=by, at=at)
        return ImportOutcome(added, there, self._link_enrolled(course_id, by=by, at=at))

    def _link_enrolled(self, course_id: int, *, by: int, at: datetime) -> int:
        """MATCH_ENROLLED: students enrolled before the import take the free place of the
        number they registered (the earliest enrolled first, one place each)."""
        db = self._db
        enrolled = sorted(
            ((when, s) for (c, s), when in db.enrolments.items() if c == course_id),
        )
        linked: set[int] = set()
        for place_id in sorted(db.roster_places):
            row = db.roster_places[place_id]
            if row.course_id != course_id or row.stand_in is None:
                continue
            for _, student in enrolled:
                user = db.users.get(student)
                number = (user.student_number or "").strip().upper() if user else ""
                if (
                    number == row.student_number
                    and student not in linked
                    and self._claimed(course_id, student) is None
                ):
                    linked.add(student)
                    _take(db, row, student, at)
                    old_new = (str(student), row.student_number)
                    _audit(db, course_id, CourseAction.LINK_PLACE, old_new, by=by, at=at)
                    break
        return len(linked)

    async def places(self, course_id: int) -> list[Place]:
        self._db.check()
        found = [
            _place(i, r) for i, r in self._db.roster_places.items() if r.course_id == course_id
        ]
        return sorted(found, key=lambda p: (p.full_name.lower(), p.student_number))

    async def has_places(self, course_id: int) -> bool:
        self._db.check()
        return any(r.course_id == course_id for r in self._db.roster_places.values())

    async def claimed_place(self, course_id: int, *, student_id: int) -> Place | None:
        self._db.check()
        return self._claimed(course_id, student_id)

    async def claim_place(
        self, course_id: int, *, student_number: str, student: UserProfile, at: datetime
    ) -> tuple[ClaimResult, Place | None]:
        db = self._db
        db.check()
        own = self._claimed(course_id, student.user_id)
        if own is not None:
            return ClaimResult.CLAIMED, own
        found = self._find(course_id, student_number)
        if found is None:
            return ClaimResult.NO_PLACE, None
        place_id, row = found
        stand_in = row.stand_in
        if stand_in is None:
            return ClaimResult.TAKEN, _place(place_id, row)
        place = _place(place_id, row)
        upsert_profiles(db, [student])
        user = student.user_id
        _take(db, row, user, at)
        _audit(db, course_id, CourseAction.CLAIM_PLACE, (None, row.student_number), by=user, at=at)
        return ClaimResult.CLAIMED, place

    async def request_claim(
        self, course_id: int, *, student_id: int, student_number: str, at: datetime
    ) -> ClaimRequest:
        db = self._db
        db.check()
        for request_id, row in db.roster_claims.items():
            if (row.course_id, row.student_id) == (course_id, student_id):
                row.student_number, row.requested_at = student_number, at
                return _request(request_id, row)
        request_id = next(db.claim_ids)
        db.roster_claims[request_id] = ClaimRow(course_id, student_id, student_number, at)
        return _request(request_id, db.roster_claims[request_id])

    async def claim_request(self, request_id: int) -> ClaimRequest | None:
        self._db.check()
        row = self._db.roster_claims.get(request_id)
        return _request(request_id, row) if row else None

    async def claim_requests(self, course_id: int) -> list[ClaimRequest]:
        self._db.check()
        found = [
            _request(request_id, row)
            for request_id, row in self._db.roster_claims.items()
            if row.course_id == course_id
        ]
        return sorted(found, key=lambda r: (r.requested_at, r.id))

    async def take_claim_request(
        self, request_id: int, *, approved: bool, by: int, at: datetime
    ) -> ClaimRequest | None:
        db = self._db
        db.check()
        row = db.roster_claims.pop(request_id, None)
        if row is None:
            return None
        action = CourseAction.APPROVE_CLAIM if approved else CourseAction.DECLINE_CLAIM
        old_new = (row.student_number, str(row.student_id))
        _audit(db, row.course_id, action, old_new, by=by, at=at)
        return _request(request_id, row)

    async def student_places(self, student_id: int) -> list[tuple[str, Place]]:
        db = self._db
        db.check()
        found = [
            (db.courses[r.course_id].name, _place(i, r))
            for i, r in db.roster_places.items()
            if r.claimed_by == student_id
        ]
        return sorted(found, key=lambda pair: pair[0])

    async def remove_place(self, course_id: int, *, stand_in: int, by: int, at: datetime) -> bool:
        db = self._db
        db.check()
        for place_id, row in db.roster_places.items():
            if (row.course_id, row.stand_in) == (course_id, stand_in):
                del db.roster_places[place_id]
                old_new = (row.student_number, None)
                _audit(db, course_id, CourseAction.REMOVE_STUDENT, old_new, by=by, at=at)
                return True
        return False

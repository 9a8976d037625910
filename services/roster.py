"""The official roster: imported from a file, each place claimed by its student.

A course with imported places asks a joining student for their student number: a free place
with that number is theirs at once (its records so far move to them); a number that matches
no place, or a place someone already claimed, waits for the teacher's approval.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from services.clock import Clock
from services.course_access import CourseAccess, Permission
from services.courses import admit_to_live_session, asks_for_number
from services.errors import InvalidArgument
from services.models import Course, UserProfile
from services.places import ClaimRequest, ClaimResult, Place, clean_student_number
from services.ports import (
    ChatStateStore,
    CourseRecords,
    LiveSessionStore,
    RosterPlaces,
    UserRecords,
)
from services.roster_file import RosterFile, read_roster


@dataclass(frozen=True, slots=True)
class RosterImport:
    """What an import did: the file's verdicts and how many places are new."""

    course: Course
    file: RosterFile
    added: int
    already_there: int
    #: Students enrolled before the import who got the place of the number they registered.
    linked: int = 0


@dataclass(frozen=True, slots=True)
class Claim:
    """A student's claim: their place (claimed), or the request now waiting for the teacher."""

    course: Course
    result: ClaimResult
    place: Place | None = None
    request: ClaimRequest | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The teacher's answer to a claim; `place` is the place the student got, if any."""

    course: Course
    request: ClaimRequest
    approved: bool
    place: Place | None = None


class RosterService:
    """Imports rosters (teachers), claims places (students), decides claims (teachers)."""

    def __init__(
        self,
        *,
        courses: CourseRecords,
        places: RosterPlaces,
        sessions: LiveSessionStore,
        users: UserRecords,
        chat_state: ChatStateStore,
        access: CourseAccess,
        clock: Clock,
    ) -> None:
        self._access = access
        self._chat_state = chat_state
        self._courses = courses
        self._places = places
        self._sessions = sessions
        self._users = users
        self._clock = clock

    async def _own_course(self, teacher_id: int, course_id: int) -> Course:
        """The course, if the user may change its roster (its owner or a co-teacher)."""
        return await self._access.course(teacher_id, course_id, Permission.MANAGE)

    async def offer_file(self, teacher_id: int, *, file_id: str, filename: str) -> str:
        """Keep a sent file while the teacher picks its course; the token for the buttons
        (Telegram's file ids do not fit in a button's 64 bytes). Taken by the first press."""
        await self._access.require_any(teacher_id, Permission.MANAGE)
        token = secrets.token_hex(6)
        value = json.dumps({"file_id": file_id, "filename": filename})
        await self._chat_state.put_start_choice(teacher_id, token=f"roster-{token}", value=value)
        return token

    async def take_file(self, teacher_id: int, token: str) -> tuple[str, str] | None:
        """(file id, file name) kept with `token`, for the first press only."""
        value = await self._chat_state.take_start_choice(teacher_id, f"roster-{token}")
        if value is None:
            return None
        stored = json.loads(value)
        return str(stored["file_id"]), str(stored["filename"])

    async def import_roster(
        self, teacher_id: int, course_id: int, content: bytes, filename: str = ""
    ) -> RosterImport:
        """Read the file and add its valid rows as places; numbers already on the course's
        roster are left alone (importing the same file again adds nothing).

        Raises:
            NotATeacher, NotYours, NotPermitted: not the course's owner or co-teacher.
            InvalidArgument: ("roster_file", ...) the file cannot be read at all.
        """
        course = await self._own_course(teacher_id, course_id)
        return await self.import_roster_as(course, content, filename, by=teacher_id)

    async def import_roster_as(
        self, course: Course, content: bytes, filename: str = "", *, by: int
    ) -> RosterImport:
        """`import_roster` once the caller's right is settled (the REST API's read-write
        token, `by` its creator, who is audited as the importer).

        Raises:
            InvalidArgument: the course is archived, or the file cannot be read at all.
        """
        if course.archived:
            raise InvalidArgument("course", "archived")
        verdicts = read_roster(content, filename)
        outcome = await self._places.add_places(
            course.id, verdicts.rows, by=by, at=self._clock.now()
        )
        reloaded = await self._courses.course(course.id)
        assert reloaded is not None
        return RosterImport(
            reloaded, verdicts, outcome.added, len(outcome.already_there), outcome.linked
        )

    async def unclaimed(self, course_id: int) -> list[Place]:
        """The course's places nobody claimed yet (counted absent), by name."""
        return [p for p in await self._places.places(course_id) if p.stand_in is not None]

    async def claim(self, profile: UserProfile, course_id: int, number_text: str) -> Claim:
        """Claim the place with this student number, or ask the teacher.

        Raises:
            InvalidArgument: ("student_number", "format") not a student number;
                ("course", "unknown") the course is gone.
        """
        number = clean_student_number(number_text)
        if number is None:
            raise InvalidArgument("student_number", "format")
        course = await self._courses.course(course_id)
        if course is None:
            raise InvalidArgument("course", "unknown")
        result, place = await self._places.claim_place(
            course.id, student_number=number, student=profile, at=self._clock.now()
        )
        if result is ClaimResult.CLAIMED:
            stand_in = place.stand_in if place is not None else None
            await admit_to_live_session(
                self._sessions, self._access, course, profile.user_id, stand_in
            )
            return Claim(course, result, place)
        await self._users.upsert_profiles([profile])
        request = await self._places.request_claim(
            course.id, student_id=profile.user_id, student_number=number, at=self._clock.now()
        )
        return Claim(course, result, place, request)

    async def request_for_teacher(
        self, teacher_id: int, request_id: int
    ) -> tuple[ClaimRequest, Course, UserProfile | None] | None:
        """A waiting claim of one of the teacher's courses, with the student's profile."""
        request = await self._places.claim_request(request_id)
        if request is None:
            return None
        course = await self._own_course(teacher_id, request.course_id)
        return request, course, await self._users.load_profile(request.student_id)

    async def waiting_claims(
        self, teacher_id: int, course_id: int
    ) -> list[tuple[ClaimRequest, UserProfile | None]]:
        """The course's claims waiting for a decision, oldest first, each with the student's
        profile, for whoever may decide them (the owner and co-teachers: MANAGE).

        Raises:
            NotATeacher, NotYours, NotPermitted: not the course's owner or co-teacher.
        """
        course = await self._own_course(teacher_id, course_id)
        requests = await self._places.claim_requests(course.id)
        profiles = await self._users.load_profiles([r.student_id for r in requests])
        return [(r, profiles.get(r.student_id)) for r in requests]

    async def decide(self, teacher_id: int, request_id: int, *, approve: bool) -> Decision | None:
        """Approve (the student joins; the place with their number is theirs if still free)
        or decline a claim; None when it was already decided (a second tap)."""
        waiting = await self._places.claim_request(request_id)
        if waiting is None:
            return None
        course = await self._own_course(teacher_id, waiting.course_id)
        request = await self._places.take_claim_request(
            request_id, approved=approve, by=teacher_id, at=self._clock.now()
        )
        if request is None:
            return None
        if not approve:
            return Decision(course, request, approved=False)
        profile = await self._users.load_profile(request.student_id) or UserProfile(
            user_id=request.student_id, first_name=""
        )
        result, place = await self._places.claim_place(
            course.id, student_number=request.student_number, student=profile, at=self._clock.now()
        )
        if result is not ClaimResult.CLAIMED:
            place = None
            await self._courses.enrol(course.id, profile)
        stand_in = place.stand_in if place is not None else None
        await admit_to_live_session(
            self._sessions, self._access, course, request.student_id, stand_in
        )
        return Decision(course, request, approved=True, place=place)

    async def needs_number(self, course: Course, student_id: int) -> bool:
        """Whether joining this course asks for a student number (services/courses.py)."""
        return await asks_for_number(self._places, self._courses, course.id, student_id)

    async def student_places(self, student_id: int) -> list[tuple[str, Place]]:
        return await self._places.student_places(student_id)

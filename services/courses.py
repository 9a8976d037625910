"""Courses, their rosters and how students join them."""

from __future__ import annotations

import functools
import secrets
import unicodedata
import zoneinfo
from dataclasses import dataclass

from services.codes import CodeGenerator, normalize_code, random_code
from services.course_access import CourseAccess, Permission, match_course
from services.errors import InvalidArgument
from services.models import Course, UserProfile
from services.numbers import LATE_AFTER_MINUTES, WARN_BELOW_PERCENT, check_range, parse_number
from services.ports import CourseRecords, LiveSessionStore, RosterPlaces, UserRecords
from services.roles import RoleService
from services.session_options import MAX_TITLE_LENGTH, clean_title

COURSE_CODE_LENGTH = 8
INVITE_PREFIX = "join_"
_DRAWS = 20


@dataclass(frozen=True, slots=True)
class Enrolment:
    """The answer to a join: the course, whether it is new, and whether a name is still needed."""

    course: Course
    newly_enrolled: bool
    needs_name: bool
    #: The course has an imported roster: the student claims a place by number first.
    needs_number: bool = False


def parse_course_setting(word: str, text: str) -> int:
    """The value typed after `late` (minutes, 0-240) or `warn` (percent, 0-100).

    Raises:
        NumberOutOfRange: not ASCII digits, or outside the setting's range.
    """
    if word == "late":
        return parse_number(text, "late_after", *LATE_AFTER_MINUTES)
    return parse_number(text, "warn_below", *WARN_BELOW_PERCENT)


async def name_clashes(
    courses: CourseRecords, teacher_id: int, name: str, *, except_course: int | None = None
) -> bool:
    """Whether the teacher has another course whose name differs from `name` only in letter
    case. Why: courses are found by name ignoring case, so "physics" beside "Physics" would
    make every typed command act on whichever comes first."""
    folded = name.casefold()
    return any(
        c.name.casefold() == folded and c.id != except_course
        for c in await courses.teacher_courses(teacher_id)
    )


#: Typed instead of a zone name: the course follows the installation's zone again.
DEFAULT_ZONE_WORDS = frozenset({"default", "reset"})
#: Files of the zone database that are not zones: the host's own link and placeholders.
NOT_COURSE_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    """Every IANA name the machine knows, by its lower-case spelling (read once)."""
    return {
        name.casefold(): name
        for name in zoneinfo.available_timezones()
        if name not in NOT_COURSE_ZONES
    }


def parse_time_zone(text: str) -> str:
    """The IANA zone typed after `tz` (any letter case: `europe/madrid` is `Europe/Madrid`);
    "" for `default`, which returns the course to the installation's zone.

    Raises:
        InvalidArgument: not a zone the time zone database knows.
    """
    # A right-to-left keyboard may put direction marks around the Latin name: they are no
    # part of it (nor any other invisible format character).
    word = "".join(c for c in text if unicodedata.category(c) != "Cf").strip()
    if word.casefold() in DEFAULT_ZONE_WORDS:
        return ""
    name = _zones_by_folded_name().get(word.casefold())
    if name is None:
        raise InvalidArgument("time_zone", "unknown")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidArgument("time_zone", "unknown") from exc
    return name


async def admit_to_live_session(
    sessions: LiveSessionStore,
    access: CourseAccess,
    course: Course,
    student_id: int,
    stand_in: int | None = None,
) -> None:
    """Joining during the course's open session (started by its owner, a co-teacher or an
    assistant) lets the student check in right away; a student who claimed a roster place
    takes its `stand_in`'s seat (the place is not recorded absent beside them)."""
    for starter in [course.teacher_id, *await access.staff_ids(course)]:
        session_id = await sessions.teacher_current_session(starter)
        if session_id is None:
            continue
        session = await sessions.session(session_id)
        if session is None or session.course_id != course.id:
            continue
        if stand_in is not None:  # its seat in the session is the student's now
            await sessions.remove_from_roster(session_id, stand_in)
        await sessions.add_to_roster(session_id, student_id)


async def asks_for_number(
    places: RosterPlaces, courses: CourseRecords, course_id: int, student_id: int
) -> bool:
    """Whether joining asks for a student number: the course has imported places and the
    student is not on it yet, or is on it without a place while a place is still free (an
    approved mismatch, a student enrolled before the import: they may still claim theirs)."""
    if not await places.has_places(course_id):
        return False
    if student_id not in await courses.roster(course_id):
        return True
    if await places.claimed_place(course_id, student_id=student_id) is not None:
        return False
    return any(p.stand_in is not None for p in await places.places(course_id))


class CourseService:
    """Creates courses and enrols students; every teacher action is checked here."""

    def __init__(
        self,
        *,
        courses: CourseRecords,
        users: UserRecords,
        sessions: LiveSessionStore,
        places: RosterPlaces,
        roles: RoleService,
        access: CourseAccess,
        code_generator: CodeGenerator = random_code,
    ) -> None:
        self._courses = courses
        self._users = users
        self._sessions = sessions
        self._places = places
        self._roles = roles
        self._access = access
        self._new_code = code_generator

    async def new_course(self, teacher_id: int, name_text: str) -> Course:
        """Create a course with a fresh join code and invite token.

        Raises:
            NotATeacher: the user may not create courses.
            InvalidArgument: the name is empty, too long, or already one of theirs.
        """
        await self._roles.require_teacher(teacher_id)
        name = clean_title(name_text)
        if not name:
            raise InvalidArgument("course_name", "missing")
        if await self._courses.course_name_taken(teacher_id, name) or await name_clashes(
            self._courses, teacher_id, name
        ):
            raise InvalidArgument("course_name", "taken")
        for _ in range(_DRAWS):
            course = await self._courses.create_course(
                teacher_id,
                name=name,
                join_code=self._new_code(COURSE_CODE_LENGTH),
                invite_token=secrets.token_urlsafe(12),
            )
            if course is not None:
                return course
        raise RuntimeError("could not draw a free course code")

    async def teacher_courses(
        self, teacher_id: int, permission: Permission = Permission.VIEW
    ) -> list[Course]:
        """The courses the user may do `permission` on: their own and those they are staff
        of (archived ones too).

        Raises:
            NotATeacher, NotPermitted: neither teacher nor staff allowed to (see
            `CourseAccess.require_any`).
        """
        await self._access.require_any(teacher_id, permission)
        return await self._access.courses(teacher_id, permission)

    async def find_teacher_course(
        self, teacher_id: int, words: list[str], permission: Permission = Permission.VIEW
    ) -> tuple[Course, int]:
        """The user's course named by the first words (or its join code), on which they may
        do `permission`.

        Returns the course and how many words its name took. Raises InvalidArgument when no
        course matches, NotPermitted when their role there does not allow it.
        """
        return await self._access.find(teacher_id, words, permission)

    async def course_for_teacher(
        self, teacher_id: int, course_id: int, permission: Permission = Permission.VIEW
    ) -> Course:
        """A course by id, only if the user may do `permission` on it (forged button data
        gets nothing)."""
        return await self._access.course(teacher_id, course_id, permission)

    async def join_by_code(self, profile: UserProfile, code_text: str) -> Enrolment:
        """Enrol with a course's join code; InvalidArgument for a malformed or unknown one."""
        try:
            code = normalize_code(code_text, COURSE_CODE_LENGTH)
        except InvalidArgument:
            raise InvalidArgument("join_code", "format") from None
        course = await self._courses.course_by_join_code(code)
        if course is None:
            raise InvalidArgument("join_code", "unknown")
        return await self._enrol(course, profile)

    async def join_by_invite(self, profile: UserProfile, token: str) -> Enrolment:
        """Enrol from an invite deep link."""
        if not token or len(token) > 64:
            raise InvalidArgument("invite", "unknown")
        course = await self._courses.course_by_invite(token)
        if course is None:
            raise InvalidArgument("invite", "unknown")
        return await self._enrol(course, profile)

    async def _enrol(self, course: Course, profile: UserProfile) -> Enrolment:
        """Enrol, or, for a course with an imported roster, ask for the student number first
        (the claim enrols: services/roster.py)."""
        if await asks_for_number(self._places, self._courses, course.id, profile.user_id):
            return Enrolment(course, newly_enrolled=False, needs_name=False, needs_number=True)
        new = await self._courses.enrol(course.id, profile)
        if new:
            await admit_to_live_session(self._sessions, self._access, course, profile.user_id)
        stored = await self._users.load_profile(profile.user_id)
        needs_name = stored is None or not stored.full_name
        return Enrolment(course, new, needs_name)

    async def student_courses(self, student_id: int) -> list[Course]:
        return await self._courses.student_courses(student_id)

    async def update_settings(
        self,
        teacher_id: int,
        course: Course,
        late_after_minutes: int | None,
        warn_below_percent: int | None,
        *,
        time_zone: str | None = None,
    ) -> Course:
        """Change a course's late threshold, warning level and time zone (None: unchanged;
        a zone of "" returns the course to the installation's zone).

        Raises:
            InvalidArgument: a value out of range, or a zone the database does not know.
        """
        await self._access.require(teacher_id, course, Permission.SETTINGS)
        late = course.late_after_minutes if late_after_minutes is None else late_after_minutes
        warn = course.warn_below_percent if warn_below_percent is None else warn_below_percent
        check_range(late, "late_after", *LATE_AFTER_MINUTES)
        check_range(warn, "warn_below", *WARN_BELOW_PERCENT)
        zone = course.time_zone
        if time_zone is not None:
            zone = parse_time_zone(time_zone) if time_zone else None
        await self._courses.update_course_settings(
            course.id, late_after_minutes=late, warn_below_percent=warn, time_zone=zone
        )
        updated = await self._courses.course(course.id)
        assert updated is not None
        return updated


__all__ = [
    "INVITE_PREFIX",
    "MAX_TITLE_LENGTH",
    "CourseService",
    "Enrolment",
    "match_course",
    "parse_time_zone",
]

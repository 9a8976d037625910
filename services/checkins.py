"""A student's check-in (by code, then by location when the session asks for it), and who
has checked in so far."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime, timedelta

from services.clock import Clock
from services.codes import normalize_code
from services.errors import InvalidArgument
from services.geo import distance_m, rounded_10, valid_point
from services.models import (
    CheckIn,
    CheckInOutcome,
    CheckInResult,
    UserProfile,
)
from services.ports import (
    CheckInStore,
    CourseRecords,
    GuessLimit,
    LiveSessionStore,
    ProfileCache,
    UserRecords,
    Visit,
)
from services.sessions import SessionService
from services.users import UserService

WRONG_CODE_LIMIT = 5
WRONG_CODE_WINDOW_SECONDS = 600
LOCK_SECONDS = 600
_GUESSES = GuessLimit(WRONG_CODE_WINDOW_SECONDS, WRONG_CODE_LIMIT, LOCK_SECONDS)
# How long a valid code stays bound to its session while the bot waits for the student's
# location (the prompt itself expires with the pending action, 5 minutes).
CODE_BINDING = timedelta(minutes=5)
_LOCKED_OUT = CheckInResult(CheckInOutcome.LOCKED_OUT)


async def _answered(result: CheckInResult) -> CheckInResult:
    """An answer known without asking the store, as the awaitable `check_in` returns."""
    return result


class CheckInService:
    """Judges the codes students send, and lists a live session's check-ins for its teacher."""

    def __init__(
        self,
        *,
        sessions: LiveSessionStore,
        checkins: CheckInStore,
        profiles: ProfileCache,
        users: UserRecords,
        courses: CourseRecords,
        lifecycle: SessionService,
        clock: Clock,
        geo_radius_m: int = 150,
        visitors: UserService | None = None,
    ) -> None:
        self._sessions = sessions
        self._checkins = checkins
        self._profiles = profiles
        self._users = users
        self._courses = courses
        # Only for `teacher_session`: who may see a session's check-ins.
        self._lifecycle = lifecycle
        self._clock = clock
        self._geo_radius_m = geo_radius_m
        # Only for `check_in_on_arrival`: the visit of an update that checks in.
        self._visitors = visitors

    def check_in(
        self,
        student_id: int,
        code_text: str,
        locked_until: datetime | None = None,
        session_id: str | None = None,
    ) -> Awaitable[CheckInResult]:
        """Check the student in with the code they typed (or scanned); one atomic Redis step.

        `locked_until` comes from the user's visit: a student who sent too many wrong codes
        is refused without a lookup. At most five codes are judged per student in any ten
        minutes, however many arrive at once or through however many bot processes (the
        store counts them in the same atomic step that judges the code, see
        `CheckInStore.check_in`). The fifth wrong code locks the student out for ten minutes;
        a LOCKED_OUT answer says nothing about the session the code named.

        (A plain function handing over the store's coroutine: on the hottest path every
        coroutine level costs a little. Await it where it is called: unlike a coroutine
        function, it raises InvalidArgument at the call, not at the await.)

        Raises:
            InvalidArgument: the text cannot be a code at all.
        """
        now = self._clock.now()
        if locked_until is not None and locked_until > now:
            return _answered(_LOCKED_OUT)
        return self._checkins.check_in(
            normalize_code(code_text), student_id, now, session_id=session_id, guard=_GUESSES
        )

    async def check_in_on_arrival(
        self,
        profile: UserProfile,
        update_id: int | None,
        code_text: str,
        session_id: str | None = None,
    ) -> tuple[Visit, CheckInResult | None]:
        """A /checkin update from its start: its visit (claim, profile, lock-out, as
        `UserService.seen`) and the check-in (as `check_in`), in one atomic Redis step where
        the store can (one server), else in two. None in place of the result when the update
        was already handled (a duplicate delivery): nothing was judged. `update_id` None: a
        request that is no Telegram update (the Mini App's), nothing to claim.

        Raises:
            InvalidArgument: the text cannot be a code at all (the visit is recorded first).
        """
        assert self._visitors is not None, "built without the visitors' service"
        now = self._clock.now()
        arrival = replace(profile, last_seen=now)
        try:
            code: str | None = normalize_code(code_text)
        except InvalidArgument:
            code = None
        both = None
        if code is not None:
            both = await self._checkins.visit_and_check_in(
                arrival, update_id, code, now, session_id=session_id, guard=_GUESSES
            )
        if both is None:  # two steps: Redis Cluster, or text that cannot be a code
            visit = await self._visitors.seen(profile, update_id)
            if visit.duplicate:
                return visit, None
            return visit, await self.check_in(
                profile.user_id, code_text, visit.locked_until, session_id
            )
        visit, result = both
        self._visitors.visited(arrival, visit)
        return visit, result  # (a LOCKED_OUT from the store names no session)

    async def classroom_location_missing(self, session_id: str) -> bool:
        """True when a location-checked session has no classroom location yet (students
        would be refused: they are told so before they share theirs)."""
        session = await self._sessions.session(session_id)
        return session is not None and session.geo and session.anchor is None

    async def check_in_at(
        self,
        student_id: int,
        session_id: str,
        code: str,
        latitude: float,
        longitude: float,
        sent_at: datetime,
        forwarded: bool,
        locked_until: datetime | None = None,
        bound_at: datetime | None = None,
    ) -> CheckInResult:
        """Finish a location-checked check-in with the location the student just shared.

        A forwarded location, or one sent before the session started, is refused; outside
        the radius nothing is recorded. Only the distance rounded to 10 m is stored.

        `bound_at` is when the atomic check-in found the student's code valid and asked for
        the location: within `CODE_BINDING` of it the code is bound to the session, so a
        rotation while the student finds the location button does not refuse them.
        """
        now = self._clock.now()
        if locked_until is not None and locked_until > now:
            return CheckInResult(CheckInOutcome.LOCKED_OUT)
        session = await self._sessions.session(session_id)
        if session is None or not session.is_open(now):
            return CheckInResult(CheckInOutcome.CLOSED, session_id)
        title = session.title
        if forwarded or sent_at < session.started_at or not valid_point(latitude, longitude):
            return CheckInResult(CheckInOutcome.LOCATION_REFUSED, session_id, title)
        if session.anchor is None:
            return CheckInResult(CheckInOutcome.LOCATION_NOT_READY, session_id, title)
        metres = rounded_10(distance_m(session.anchor, (latitude, longitude)))
        if metres > self._geo_radius_m:
            return CheckInResult(
                CheckInOutcome.LOCATION_OUTSIDE, session_id, title, distance_m=metres
            )
        if bound_at is not None and timedelta(0) <= now - bound_at <= CODE_BINDING:
            # The code was judged valid at `bound_at` (by the atomic step that asked for the
            # location); the session's current code stands for it now. Everything else
            # (open, enrolled, not yet checked in) is judged again, atomically.
            code = session.code
        result = await self._checkins.check_in(
            normalize_code(code), student_id, now, metres=metres, session_id=session_id
        )
        return result._replace(distance_m=metres)

    async def missing_students(self, teacher_id: int, session_id: str) -> list[UserProfile]:
        """Enrolled students of the session's course who have not checked in (yet)."""
        session = await self._lifecycle.teacher_session(teacher_id, session_id)
        if session.course_id is None:
            return []
        present = await self._checkins.checked_in(session.id)
        roster = await self._sessions.roster(session.id)
        profiles = {p.user_id: p for p in await self._courses.roster_profiles(session.course_id)}
        missing = [profiles.get(s, UserProfile(s, "")) for s in roster - set(present)]
        return sorted(missing, key=lambda p: p.display_name.lower())

    async def checked_in_students(
        self, teacher_id: int, session_id: str
    ) -> list[tuple[UserProfile, CheckIn]]:
        """Who checked in so far, in order, with their names."""
        session = await self._lifecycle.teacher_session(teacher_id, session_id)
        present = await self._checkins.checked_in(session.id)
        cached = await self._profiles.cached_profiles(list(present))
        lines = []
        for student, checkin in present.items():
            profile = cached.get(student) or await self._users.load_profile(student)
            lines.append((profile or UserProfile(student, ""), checkin))
        return sorted(lines, key=lambda pair: pair[1].checked_in_at or session.started_at)

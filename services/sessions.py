"""Opening, extending and ending a teacher's attendance session (check-ins are in
`services.checkins`, cards in `services.cards`, rotating codes in `services.rotation`)."""

from __future__ import annotations

import asyncio
import math
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.clock import Clock, from_ms
from services.codes import CodeGenerator, random_code
from services.course_access import CourseAccess, Permission
from services.errors import InvalidArgument, NoOpenSession, NotYours, SessionAlreadyOpen
from services.geo import valid_point
from services.models import Course, Session, SessionState
from services.numbers import EXTEND_MINUTES, ROTATION_MAX_SECONDS, check_range
from services.ports import ChatStateStore, CourseRecords, LiveSessionStore
from services.roles import RoleService
from services.session_options import MAX_MINUTES, MIN_MINUTES, StartOptions, clean_title

_CODE_ATTEMPTS = 20
# How long a valid code stays bound to its session while the bot waits for the student's
# location (the prompt itself expires with the pending action, 5 minutes).
CODE_BINDING = timedelta(minutes=5)
_CLAIM_ATTEMPTS = 3
# A start that claimed the teacher's slot stores its session within milliseconds; a holder
# younger than this whose session is missing is a start in progress, not a dead one.
_STARTING_WINDOW = timedelta(seconds=30)
_STARTING_POLLS = 30
_STARTING_POLL_SECONDS = 0.1


def _parse_slot(value: str) -> tuple[str, datetime | None]:
    """(session id, when it was claimed) from a teacher slot's "<sid> <ends> [<claimed>]"."""
    parts = value.split()
    claimed = from_ms(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    return parts[0], claimed


class SessionService:
    """The teacher's session lifecycle: one open session per teacher, its time and place."""

    def __init__(
        self,
        *,
        sessions: LiveSessionStore,
        chat_state: ChatStateStore,
        courses: CourseRecords,
        roles: RoleService,
        access: CourseAccess,
        clock: Clock,
        default_minutes: int,
        code_generator: CodeGenerator = random_code,
        rotation_seconds: int = 0,
        grace_seconds: int = 5,
        card_refresh_seconds: float = 5.0,
    ) -> None:
        # A code must stay on the projected card at least one card refresh plus its grace
        # period, or most of the time the code on the wall is already dead.
        self.min_rotation_seconds = math.ceil(card_refresh_seconds) + grace_seconds
        self._sessions = sessions
        self._chat_state = chat_state
        self._courses = courses
        self._roles = roles
        self._access = access
        self._rotation_seconds = rotation_seconds
        self._grace_seconds = grace_seconds
        self._clock = clock
        self._default_minutes = default_minutes
        self._new_code = code_generator

    @property
    def default_minutes(self) -> int:
        """A session's length when its teacher names none (ATTN_SESSION_MINUTES)."""
        return self._default_minutes

    @property
    def default_rotation_seconds(self) -> int:
        """Code rotation when its teacher names none: 0 fixed, else seconds."""
        return self._rotation_seconds

    async def start_session(
        self,
        teacher_id: int,
        chat_id: int,
        minutes: int | None = None,
        title: str = "",
        course: Course | None = None,
        rotation_seconds: int | None = None,
        geo: bool = False,
        *,
        until: datetime | None = None,
        late_from: datetime | None = None,
    ) -> Session:
        """Open a session for the teacher, with a fresh code unique among live sessions.

        A course session admits only the course's roster and marks check-ins after the
        course's late threshold as late. A timetabled session passes `until` (its slot's
        end, instead of `minutes`) and `late_from` (the slot's start: a session opened early
        for arrivals counts lateness from the class's start, not from its opening).

        The session is the starter's (their slot, their card, their summary), whether they
        own the course, co-teach it or assist in it.

        Raises:
            NotATeacher: the user may not run sessions (or has no role in the course).
            NotPermitted: their role in the course does not run sessions.
            SessionAlreadyOpen: the teacher has an open session (only one at a time).
            InvalidArgument: the length or title is out of bounds, or the course is archived.
        """
        if course is None:  # a session without a course is a teacher's alone
            await self._roles.require_teacher(teacher_id)
        else:
            await self._access.require(teacher_id, course, Permission.RUN_SESSIONS)
        if course is not None and course.archived:
            raise InvalidArgument("course", "archived")
        length = minutes if minutes is not None else self._default_minutes
        if until is None:
            check_range(length, "minutes", MIN_MINUTES, MAX_MINUTES)
        self.check_rotation(rotation_seconds)
        cleaned = clean_title(title)
        roster: list[int] = []
        if course is not None:
            roster = await self._courses.roster(course.id)
        now = self._clock.now()
        # A course's session is named after the day it is in the course's own zone.
        day = now.astimezone(ZoneInfo(course.time_zone)) if course and course.time_zone else now
        default_title = (
            f"{course.name} {day:%Y-%m-%d}" if course else f"Session {now:%Y-%m-%d %H:%M}"
        )
        session = Session(
            id=secrets.token_hex(6),
            teacher_id=teacher_id,
            chat_id=chat_id,
            title=cleaned or default_title,
            code="",
            started_at=now,
            ends_at=until if until is not None else now + timedelta(minutes=length),
            late_at=(late_from or now) + timedelta(minutes=course.late_after_minutes)
            if course
            else None,
            course_id=course.id if course else None,
            course_name=course.name if course else None,
            time_zone=course.time_zone if course else None,
            roster_size=len(roster),
            rotation_seconds=self._rotation_seconds
            if rotation_seconds is None
            else rotation_seconds,
            grace_seconds=self._grace_seconds,
            code_since=now,
            geo=geo,
        )
        await self._claim_slot(session, now)
        try:
            for _ in range(_CODE_ATTEMPTS):
                candidate = replace(session, code=self._new_code(6))
                if await self._sessions.create_session(candidate, roster):
                    return candidate
        except BaseException:
            await self._sessions.release_teacher_slot(teacher_id, session.id)
            raise
        await self._sessions.release_teacher_slot(teacher_id, session.id)
        raise RuntimeError("could not draw a free session code")

    def check_rotation(self, rotation_seconds: int | None) -> None:
        """A chosen rotation is 0 (fixed code) or from `min_rotation_seconds` to an hour.

        Raises:
            NumberOutOfRange: any other value.
        """
        if rotation_seconds:
            check_range(
                rotation_seconds, "rotation", self.min_rotation_seconds, ROTATION_MAX_SECONDS
            )

    async def offer_start_choice(self, teacher_id: int, options: StartOptions) -> str:
        """Keep the typed options while the teacher picks the course; the token for the
        buttons. Each press of those buttons takes the options once (a double tap gets
        nothing the second time)."""
        await self._access.require_any(teacher_id, Permission.RUN_SESSIONS)
        token = secrets.token_hex(6)
        await self._chat_state.put_start_choice(teacher_id, token=token, value=options.to_json())
        return token

    async def take_start_choice(self, teacher_id: int, token: str) -> StartOptions | None:
        """The options stored with `token`, for the first press only; None afterwards or
        once they expired."""
        value = await self._chat_state.take_start_choice(teacher_id, token)
        return StartOptions.from_json(value) if value is not None else None

    async def _claim_slot(self, session: Session, now: datetime) -> None:
        """Make `session` the teacher's one session, or raise: one atomic Redis step decides.

        The slot may name a session that is over or gone (ended, swept, or a start that
        died half-way): it is taken over only by naming that exact holder, so of two starts
        that both found it stale exactly one wins. A holder whose session does not exist yet
        but was claimed moments ago is a start still being created (a double tap): it is
        waited for briefly and reported as the open session, never taken over.

        Raises:
            SessionAlreadyOpen: the teacher has an open session (or one being opened).
        """
        stale = ""
        for _ in range(_CLAIM_ATTEMPTS):
            holder = await self._sessions.claim_teacher_slot(session, now, stale)
            if holder is None:
                return
            holder_id, claimed = _parse_slot(holder)
            existing = await self._sessions.session(holder_id)
            if existing is None and claimed is not None and now - claimed < _STARTING_WINDOW:
                existing = await self._wait_for_session(holder_id)
                if existing is None:
                    raise SessionAlreadyOpen(None)
            if existing is not None and existing.is_open(now):
                raise SessionAlreadyOpen(existing)
            stale = holder
        raise SessionAlreadyOpen(None)

    async def _wait_for_session(self, session_id: str) -> Session | None:
        """A concurrent start of the same teacher is storing this session: let it finish."""
        for _ in range(_STARTING_POLLS):
            await asyncio.sleep(_STARTING_POLL_SECONDS)
            existing = await self._sessions.session(session_id)
            if existing is not None:
                return existing
        return None

    async def discard_session(self, session: Session) -> None:
        """Remove a session nobody could have used (its code was never delivered): no
        record, no summary, and the teacher's slot is free again at once."""
        await self._sessions.discard_session(session)

    async def open_session(self, teacher_id: int) -> Session | None:
        """The teacher's session if it is still open."""
        session_id = await self._sessions.teacher_current_session(teacher_id)
        if session_id is None:
            return None
        session = await self._sessions.session(session_id)
        if session is None or not session.is_open(self._clock.now()):
            return None
        return session

    async def end_session(self, teacher_id: int) -> Session:
        """End the teacher's open session now; the sweep then persists it and sends the summary.

        Raises:
            NotATeacher: the user may not run sessions.
            NoOpenSession: nothing is open (never started, already ended or time is up).
        """
        await self._access.require_any(teacher_id, Permission.RUN_SESSIONS)
        session = await self.open_session(teacher_id)
        if session is None:
            raise NoOpenSession()
        now = self._clock.now()
        if not await self._sessions.end_session(session.id, now):
            raise NoOpenSession()
        await self._sessions.release_teacher_slot(teacher_id, session.id)
        return replace(session, ends_at=now, state=SessionState.ENDED)

    async def set_location(
        self, teacher_id: int, latitude: float, longitude: float, forwarded: bool
    ) -> Session:
        """The teacher shares where the class is, for their open location-checked session.

        Raises:
            NoOpenSession: nothing open, or the open session has no location check.
            InvalidArgument: a forwarded or impossible location.
        """
        await self._access.require_any(teacher_id, Permission.RUN_SESSIONS)
        session = await self.open_session(teacher_id)
        if session is None or not session.geo:
            raise NoOpenSession()
        if forwarded or not valid_point(latitude, longitude):
            raise InvalidArgument("location", "forwarded")
        await self._sessions.set_anchor(session.id, latitude=latitude, longitude=longitude)
        return session

    def now(self) -> datetime:
        """The services' clock (handlers judge "still open" by it)."""
        return self._clock.now()

    async def teacher_session(self, teacher_id: int, session_id: str) -> Session:
        """A live session this user may run (for buttons, whose data can be forged): one
        they started, or one of a course whose role lets them run sessions.

        Raises:
            NotATeacher: neither teacher nor staff; NotYours: not a session they may run.
            NoOpenSession: the session is not live any more.
        """
        await self._access.require_any(teacher_id, Permission.RUN_SESSIONS)
        session = await self._sessions.session(session_id)
        if session is None:
            raise NoOpenSession()
        if not await self._access.may_act_on_session(teacher_id, session, Permission.RUN_SESSIONS):
            raise NotYours("session")
        return session

    async def extend_session(
        self, teacher_id: int, minutes: int = 5, session_id: str | None = None
    ) -> Session:
        """Give the teacher's open session more time.

        A session never lasts more than `MAX_SESSION_HOURS` from its start (enforced in the
        same atomic step that moves its end), so it always ends, and is saved, long before
        its Redis keys' safety TTL.

        Raises:
            NotATeacher, NoOpenSession, NumberOutOfRange (minutes out of 1-240, or past the
            longest a session may last: the range then names the minutes still allowed).
        """
        check_range(minutes, "extend_minutes", *EXTEND_MINUTES)
        if session_id is None:
            await self._access.require_any(teacher_id, Permission.RUN_SESSIONS)
            session = await self.open_session(teacher_id)
        else:
            session = await self.teacher_session(teacher_id, session_id)
        if session is None:
            raise NoOpenSession()
        ends = await self._sessions.extend_session(session.id, self._clock.now(), minutes * 60)
        if ends is None:
            raise NoOpenSession()
        return replace(session, ends_at=ends)

    async def end_session_by_id(self, teacher_id: int, session_id: str) -> Session:
        """End a session now (the card's End button): the starter's slot is freed."""
        session = await self.teacher_session(teacher_id, session_id)
        now = self._clock.now()
        if not await self._sessions.end_session(session.id, now):
            raise NoOpenSession()
        await self._sessions.release_teacher_slot(session.teacher_id, session.id)
        return replace(session, ends_at=now, state=SessionState.ENDED)

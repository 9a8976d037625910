"""Opening, ending and checking in to attendance sessions."""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.clock import Clock, from_ms
from services.codes import CodeGenerator, normalize_code, random_code
from services.errors import InvalidArgument, NoOpenSession, NotATeacher, SessionAlreadyOpen
from services.geo import distance_m, rounded_10, valid_point
from services.models import (
    AttendanceStatus,
    CardState,
    CheckIn,
    CheckInOutcome,
    CheckInResult,
    Course,
    Session,
    SessionState,
    UserProfile,
)
from services.numbers import (
    EXTEND_MINUTES,
    ROTATION_MAX_SECONDS,
    SESSION_MINUTES,
    check_range,
    parse_number,
)
from services.ports import GuessLimit, LiveStore, RecordStore
from services.roles import RoleService

WRONG_CODE_LIMIT = 5
WRONG_CODE_WINDOW_SECONDS = 600
LOCK_SECONDS = 600
_GUESSES = GuessLimit(WRONG_CODE_WINDOW_SECONDS, WRONG_CODE_LIMIT, LOCK_SECONDS)
MIN_MINUTES, MAX_MINUTES = SESSION_MINUTES
MAX_TITLE_LENGTH = 80
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


def clean_title(text: str) -> str:
    """A title safe to show anywhere: printable characters only, spaces collapsed, capped."""
    printable = "".join(
        ch if unicodedata.category(ch)[0] not in "CZ" or ch == " " else " " for ch in text
    )
    title = " ".join(printable.split())
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidArgument("title", "too_long")
    return title


def parse_minutes(text: str) -> int:
    """A session length typed by a teacher (ASCII digits), within sane bounds.

    Raises:
        NumberOutOfRange: not a number of 1-240 minutes.
    """
    return parse_number(text, "minutes", MIN_MINUTES, MAX_MINUTES)


def parse_extension(text: str) -> int:
    """Minutes to add to a session, typed by its teacher (ASCII digits, 1-240).

    Raises:
        NumberOutOfRange: not a number of 1-240 minutes.
    """
    return parse_number(text, "extend_minutes", *EXTEND_MINUTES)


# What `parse_rotation` gives for text that is no ASCII number: `start_session` refuses it
# with the allowed range (which depends on the settings, so only the service can name it).
NOT_A_ROTATION = -1


def parse_rotation(text: str) -> int:
    """The seconds of `rotate=N` when N is ASCII digits, else `NOT_A_ROTATION`; the bounds
    are checked by `SessionService.check_rotation`."""
    word = text.strip()
    return int(word) if word.isascii() and word.isdigit() and len(word) <= 9 else NOT_A_ROTATION


@dataclass(frozen=True)
class StartOptions:
    """What a teacher typed with /start_session besides the course: kept server-side while
    the course is picked from buttons (callback data holds only a course id and a token)."""

    minutes: int | None = None
    title: str = ""
    rotation_seconds: int | None = None
    geo: bool = False
    chat_id: int | None = None  # where /start_session was sent: the card goes there

    def to_json(self) -> str:
        return json.dumps(
            {
                "minutes": self.minutes,
                "title": self.title,
                "rotation": self.rotation_seconds,
                "geo": self.geo,
                "chat": self.chat_id,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> StartOptions:
        data = json.loads(text)
        return cls(
            minutes=data.get("minutes"),
            title=str(data.get("title") or ""),
            rotation_seconds=data.get("rotation"),
            geo=bool(data.get("geo")),
            chat_id=data.get("chat"),
        )


class SessionService:
    """The teacher's session lifecycle and the student's check-in."""

    def __init__(
        self,
        live: LiveStore,
        records: RecordStore,
        roles: RoleService,
        clock: Clock,
        default_minutes: int,
        code_generator: CodeGenerator = random_code,
        rotation_seconds: int = 0,
        grace_seconds: int = 5,
        geo_radius_m: int = 150,
        card_refresh_seconds: float = 5.0,
    ) -> None:
        # A code must stay on the projected card at least one card refresh plus its grace
        # period, or most of the time the code on the wall is already dead.
        self.min_rotation_seconds = math.ceil(card_refresh_seconds) + grace_seconds
        self._geo_radius_m = geo_radius_m
        self._live = live
        self._records = records
        self._roles = roles
        self._rotation_seconds = rotation_seconds
        self._grace_seconds = grace_seconds
        self._clock = clock
        self._default_minutes = default_minutes
        self._new_code = code_generator

    async def start_session(
        self,
        teacher_id: int,
        chat_id: int,
        minutes: int | None = None,
        title: str = "",
        course: Course | None = None,
        rotation_seconds: int | None = None,
        geo: bool = False,
    ) -> Session:
        """Open a session for the teacher, with a fresh code unique among live sessions.

        A course session admits only the course's roster and marks check-ins after the
        course's late threshold as late.

        Raises:
            NotATeacher: the user may not run sessions (or the course is not theirs).
            SessionAlreadyOpen: the teacher has an open session (only one at a time).
            InvalidArgument: the length or title is out of bounds.
        """
        await self._roles.require_teacher(teacher_id)
        if course is not None and course.teacher_id != teacher_id:
            raise NotATeacher()
        length = minutes if minutes is not None else self._default_minutes
        check_range(length, "minutes", MIN_MINUTES, MAX_MINUTES)
        self.check_rotation(rotation_seconds)
        cleaned = clean_title(title)
        roster: list[int] = []
        if course is not None:
            roster = await self._records.roster(course.id)
        now = self._clock.now()
        default_title = (
            f"{course.name} {now:%Y-%m-%d}" if course else f"Session {now:%Y-%m-%d %H:%M}"
        )
        session = Session(
            id=secrets.token_hex(6),
            teacher_id=teacher_id,
            chat_id=chat_id,
            title=cleaned or default_title,
            code="",
            started_at=now,
            ends_at=now + timedelta(minutes=length),
            late_at=now + timedelta(minutes=course.late_after_minutes) if course else None,
            course_id=course.id if course else None,
            course_name=course.name if course else None,
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
                if await self._live.create_session(candidate, roster):
                    return candidate
        except BaseException:
            await self._live.release_teacher_slot(teacher_id, session.id)
            raise
        await self._live.release_teacher_slot(teacher_id, session.id)
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
        await self._roles.require_teacher(teacher_id)
        token = secrets.token_hex(6)
        await self._live.put_start_choice(teacher_id, token, options.to_json())
        return token

    async def take_start_choice(self, teacher_id: int, token: str) -> StartOptions | None:
        """The options stored with `token`, for the first press only; None afterwards or
        once they expired."""
        value = await self._live.take_start_choice(teacher_id, token)
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
            holder = await self._live.claim_teacher_slot(session, now, stale)
            if holder is None:
                return
            holder_id, claimed = _parse_slot(holder)
            existing = await self._live.session(holder_id)
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
            existing = await self._live.session(session_id)
            if existing is not None:
                return existing
        return None

    async def discard_session(self, session: Session) -> None:
        """Remove a session nobody could have used (its code was never delivered): no
        record, no summary, and the teacher's slot is free again at once."""
        await self._live.discard_session(session)

    async def open_session(self, teacher_id: int) -> Session | None:
        """The teacher's session if it is still open."""
        session_id = await self._live.teacher_current_session(teacher_id)
        if session_id is None:
            return None
        session = await self._live.session(session_id)
        if session is None or not session.is_open(self._clock.now()):
            return None
        return session

    async def end_session(self, teacher_id: int) -> Session:
        """End the teacher's open session now; the sweep then persists it and sends the summary.

        Raises:
            NotATeacher: the user may not run sessions.
            NoOpenSession: nothing is open (never started, already ended or time is up).
        """
        await self._roles.require_teacher(teacher_id)
        session = await self.open_session(teacher_id)
        if session is None:
            raise NoOpenSession()
        now = self._clock.now()
        if not await self._live.end_session(session.id, now):
            raise NoOpenSession()
        await self._live.release_teacher_slot(teacher_id, session.id)
        return replace(session, ends_at=now, state=SessionState.ENDED)

    async def check_in(
        self,
        student_id: int,
        code_text: str,
        locked_until: datetime | None = None,
        session_id: str | None = None,
    ) -> CheckInResult:
        """Check the student in with the code they typed (or scanned); one atomic Redis step.

        `locked_until` comes from the user's visit: a student who sent too many wrong codes
        is refused without a lookup. At most five codes are judged per student in any ten
        minutes, however many arrive at once or through however many bot processes (the
        store counts them in the same atomic step that judges the code, see
        `LiveStore.check_in`). The fifth wrong code locks the student out for ten minutes.

        Raises:
            InvalidArgument: the text cannot be a code at all.
        """
        now = self._clock.now()
        if locked_until is not None and locked_until > now:
            return CheckInResult(CheckInOutcome.LOCKED_OUT)
        code = normalize_code(code_text)
        raw = await self._live.check_in(
            code, student_id, now, session_id=session_id, guard=_GUESSES
        )
        if raw.outcome is CheckInOutcome.LOCKED_OUT:
            return CheckInResult(CheckInOutcome.LOCKED_OUT)
        status = None
        if raw.outcome in (CheckInOutcome.RECORDED, CheckInOutcome.DUPLICATE):
            status = AttendanceStatus.LATE if raw.late else AttendanceStatus.PRESENT
        return CheckInResult(
            outcome=raw.outcome,
            session_id=raw.session_id,
            session_title=raw.session_title,
            checked_in_at=raw.checked_in_at,
            status=status,
            checked_in_count=raw.count,
        )

    async def set_location(
        self, teacher_id: int, latitude: float, longitude: float, forwarded: bool
    ) -> Session:
        """The teacher shares where the class is, for their open location-checked session.

        Raises:
            NoOpenSession: nothing open, or the open session has no location check.
            InvalidArgument: a forwarded or impossible location.
        """
        await self._roles.require_teacher(teacher_id)
        session = await self.open_session(teacher_id)
        if session is None or not session.geo:
            raise NoOpenSession()
        if forwarded or not valid_point(latitude, longitude):
            raise InvalidArgument("location", "forwarded")
        await self._live.set_anchor(session.id, latitude, longitude)
        return session

    async def classroom_location_missing(self, session_id: str) -> bool:
        """True when a location-checked session has no classroom location yet (students
        would be refused: they are told so before they share theirs)."""
        session = await self._live.session(session_id)
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
        session = await self._live.session(session_id)
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
        raw = await self._live.check_in(
            normalize_code(code), student_id, now, metres=metres, session_id=session_id
        )
        status = None
        if raw.outcome in (CheckInOutcome.RECORDED, CheckInOutcome.DUPLICATE):
            status = AttendanceStatus.LATE if raw.late else AttendanceStatus.PRESENT
        return CheckInResult(
            raw.outcome,
            raw.session_id,
            raw.session_title,
            raw.checked_in_at,
            status,
            raw.count,
            distance_m=metres,
        )

    # --- the live session card -------------------------------------------------------------

    async def attach_card(
        self, session: Session, chat_id: int, message_id: int, fingerprint: str
    ) -> None:
        """The card was posted (showing `fingerprint`): keep it fresh until the session ends."""
        await self._live.attach_card(
            session.id, chat_id, message_id, fingerprint, self._clock.now()
        )

    async def attach_code_card(
        self, session: Session, chat_id: int, message_id: int, fingerprint: str
    ) -> None:
        """The code card of a group session went to the teacher privately: keep it fresh."""
        await self._live.attach_code_card(
            session.id, chat_id, message_id, fingerprint, self._clock.now()
        )

    async def card_states(self) -> list[CardState]:
        """Every card to keep fresh, with what it should show now."""
        return await self._live.card_states(1000)

    def now(self) -> datetime:
        """The services' clock (cards show time left by it)."""
        return self._clock.now()

    async def may_edit_card(
        self, session_id: str, fingerprint: str, interval_s: float, card: str = "card"
    ) -> str | None:
        """The previous fingerprint, for exactly one process, when the card's content changed
        and its last edit is at least `interval_s` old; otherwise None. `card` is "card" or
        "code_card" (a group session's private code card).

        A new code is not paced by `interval_s` (which spaces count and time changes): the
        rotation minimum assumes the projector shows a new code at once. Only a refused edit's
        retry time (`card_edit_failed`) holds it back.
        """
        answer, previous = await self._live.claim_card_edit(
            session_id, self._clock.now(), interval_s, fingerprint, card
        )
        return previous if answer == "edit" else None

    async def card_edit_failed(
        self,
        session_id: str,
        previous: str,
        *,
        card: str = "card",
        claimed: str = "",
        retry_after: float = 0.0,
    ) -> None:
        """Telegram refused the edit `may_edit_card` allowed (the render `claimed`): the card
        still shows `previous`, so a later refresh tries again instead of believing the card
        current, which would leave an old code and QR on the projector. Not before
        `retry_after` seconds (a flood wait), nor within a second (Telegram's pace for one
        chat), so an edit refused for good is not fired at every check-in."""
        retry_at = self._clock.now() + timedelta(seconds=max(retry_after, 1.0))
        await self._live.release_card_edit(session_id, card, claimed, previous, retry_at)

    async def card_done(self, session_id: str, card: str | None = None) -> None:
        """Stop refreshing the session's `card` ("card" or "code_card"): it shows its final
        state, or Telegram will not let the bot edit it any more (deleted, the bot removed
        from the group, the teacher blocked it). The session's other card stays fresh. With
        no `card`, every card of the session is let go."""
        if card is None:
            await self._live.drop_card(session_id)
        else:
            await self._live.drop_one_card(session_id, card)

    async def teacher_session(self, teacher_id: int, session_id: str) -> Session:
        """A live session of this teacher (for buttons, whose data can be forged).

        Raises:
            NotATeacher: not a teacher, or not this teacher's session.
            NoOpenSession: the session is not live any more.
        """
        await self._roles.require_teacher(teacher_id)
        session = await self._live.session(session_id)
        if session is None:
            raise NoOpenSession()
        if session.teacher_id != teacher_id:
            raise NotATeacher()
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
            await self._roles.require_teacher(teacher_id)
            session = await self.open_session(teacher_id)
        else:
            session = await self.teacher_session(teacher_id, session_id)
        if session is None:
            raise NoOpenSession()
        ends = await self._live.extend_session(session.id, self._clock.now(), minutes * 60)
        if ends is None:
            raise NoOpenSession()
        return replace(session, ends_at=ends)

    async def end_session_by_id(self, teacher_id: int, session_id: str) -> Session:
        """End one of the teacher's sessions now (the card's End button)."""
        session = await self.teacher_session(teacher_id, session_id)
        now = self._clock.now()
        if not await self._live.end_session(session.id, now):
            raise NoOpenSession()
        await self._live.release_teacher_slot(teacher_id, session.id)
        return replace(session, ends_at=now, state=SessionState.ENDED)

    async def missing_students(self, teacher_id: int, session_id: str) -> list[UserProfile]:
        """Enrolled students of the session's course who have not checked in (yet)."""
        session = await self.teacher_session(teacher_id, session_id)
        if session.course_id is None:
            return []
        present = await self._live.checked_in(session.id)
        roster = await self._live.roster(session.id)
        profiles = {p.user_id: p for p in await self._records.roster_profiles(session.course_id)}
        missing = [profiles.get(s, UserProfile(s, "")) for s in roster - set(present)]
        return sorted(missing, key=lambda p: p.display_name.lower())

    async def checked_in_students(
        self, teacher_id: int, session_id: str
    ) -> list[tuple[UserProfile, CheckIn]]:
        """Who checked in so far, in order, with their names."""
        session = await self.teacher_session(teacher_id, session_id)
        present = await self._live.checked_in(session.id)
        cached = await self._live.cached_profiles(list(present))
        lines = []
        for student, checkin in present.items():
            profile = cached.get(student) or await self._records.load_profile(student)
            lines.append((profile or UserProfile(student, ""), checkin))
        return sorted(lines, key=lambda pair: pair[1].checked_in_at or session.started_at)

    async def rotate_due_codes(self) -> dict[str, str]:
        """Give every session whose rotation is due a fresh code; {session id: new code}.

        Safe in several processes at once: a rotation happens only if still due, and each
        new code is reserved globally before use. A session whose drawn code was taken is
        simply retried on the next call.
        """
        now = self._clock.now()
        due = await self._live.due_rotations(now, 1000)
        if not due:
            return {}
        return await self._live.rotate_codes(now, {sid: self._new_code(6) for sid in due})

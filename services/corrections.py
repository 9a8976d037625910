"""A teacher's corrections of attendance records, always audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from services.clock import Clock
from services.course_access import CourseAccess, Permission
from services.errors import DomainError, InvalidArgument, NotYours
from services.models import AttendanceStatus, Session, UserProfile
from services.ports import (
    AttendanceRecords,
    CheckInStore,
    CourseRecords,
    LiveSessionStore,
    SessionRecords,
)

STATUS_WORDS = {status.value: status for status in AttendanceStatus}
_MARK_ATTEMPTS = 3
log = logging.getLogger(__name__)


@dataclass
class AmbiguousStudent(DomainError):
    """More than one enrolled student matches; the teacher picks with a more precise word."""

    candidates: list[UserProfile]


@dataclass
class StudentNotFound(DomainError):
    """No enrolled student matches what the teacher typed."""

    query: str


class SessionBusy(DomainError):
    """The session is being saved right now; a correction can be made a moment later."""


class NoRoster(DomainError):
    """Corrections name enrolled students, so they need a course session."""


@dataclass(frozen=True, slots=True)
class Correction:
    session: Session
    student: UserProfile
    old: AttendanceStatus | None
    new: AttendanceStatus


@dataclass(frozen=True, slots=True)
class SessionChoice:
    """A session a teacher can correct, as a button shows it."""

    id: str
    title: str
    course_name: str
    started_at: datetime
    live: bool
    time_zone: str | None = None  # the course's zone (None: the installation's)


def match_students(profiles: list[UserProfile], query: str) -> list[UserProfile]:
    """Students matching a student number, an @username, or a name prefix (case-insensitive).

    An exact number or username wins outright; otherwise every name starting with the query,
    or with a word of it, is a candidate.
    """
    text = query.strip()
    if not text:
        return []
    if text.startswith("@"):
        handle = text[1:].lower()
        return [p for p in profiles if p.username and p.username.lower() == handle]
    by_number = [p for p in profiles if p.student_number and p.student_number == text]
    if by_number:
        return by_number
    prefix = " ".join(text.lower().split())
    exact = [p for p in profiles if p.display_name.lower() == prefix]
    if exact:
        return exact
    return [p for p in profiles if p.display_name.lower().startswith(prefix)]


class CorrectionService:
    """`/mark`: change one student's status in the open or a persisted session."""

    def __init__(
        self,
        *,
        sessions: LiveSessionStore,
        checkins: CheckInStore,
        session_records: SessionRecords,
        attendance: AttendanceRecords,
        courses: CourseRecords,
        access: CourseAccess,
        clock: Clock,
    ) -> None:
        self._access = access
        self._sessions = sessions
        self._checkins = checkins
        self._session_records = session_records
        self._attendance = attendance
        self._courses = courses
        self._clock = clock

    async def _target_session(
        self, teacher_id: int, session_id: str | None
    ) -> tuple[Session, bool]:
        """The session to correct and whether it is still live in Redis: one the user
        started, or one of a course whose role lets them mark."""
        if session_id is not None:
            live = await self._sessions.session(session_id)
            if live is not None:
                if not await self._access.may_act_on_session(teacher_id, live, Permission.MARK):
                    raise NotYours("session")
                return live, True
            stored = await self._session_records.persisted_session(session_id)
            if stored is None:
                raise InvalidArgument("session", "unknown")
            if not await self._access.may_act_on_session(teacher_id, stored, Permission.MARK):
                raise NotYours("session")
            return stored, False
        current = await self._sessions.teacher_current_session(teacher_id)
        if current is not None:
            live = await self._sessions.session(current)
            if live is not None:
                return live, True
        # A co-teacher or assistant marking in the session a colleague is running now.
        others = await self._live_course_sessions(teacher_id)
        if others:
            return others[0], True
        latest = await self._session_records.latest_session(teacher_id)
        if latest is None:
            raise InvalidArgument("session", "none")
        return latest, False

    async def mark(
        self, teacher_id: int, student_query: str, status_word: str, session_id: str | None = None
    ) -> Correction:
        """Set a student's status, record who changed what, and return the change.

        Raises:
            NotATeacher, InvalidArgument, NoRoster, StudentNotFound, AmbiguousStudent,
            SessionBusy.
        """
        await self._access.require_any(teacher_id, Permission.MARK)
        status = STATUS_WORDS.get(status_word.strip().lower())
        if status is None:
            raise InvalidArgument("status", "unknown")
        session, is_live = await self._target_session(teacher_id, session_id)
        if session.course_id is None:
            raise NoRoster()
        profiles = await self._courses.roster_profiles(session.course_id)
        candidates = match_students(profiles, student_query)
        if not candidates:
            raise StudentNotFound(student_query[:64])
        if len(candidates) > 1:
            raise AmbiguousStudent(sorted(candidates, key=lambda p: p.display_name.lower()))
        return await self._apply(session, is_live, candidates[0], status, teacher_id)

    async def mark_student(
        self, teacher_id: int, *, session_id: str, student_id: int, status_word: str
    ) -> Correction:
        """`mark` for a student picked from buttons: by id, checked again against the
        session's teacher and roster (button data can be forged), with the same audit."""
        await self._access.require_any(teacher_id, Permission.MARK)
        status = STATUS_WORDS.get(status_word.strip().lower())
        if status is None:
            raise InvalidArgument("status", "unknown")
        session, is_live = await self._target_session(teacher_id, session_id)
        if session.course_id is None:
            raise NoRoster()
        roster = await self._courses.roster_profiles(session.course_id)
        student = next((p for p in roster if p.user_id == student_id), None)
        if student is None:
            raise StudentNotFound("")
        return await self._apply(session, is_live, student, status, teacher_id)

    async def excuse(self, *, session_id: str, student_id: int, changed_by: int) -> Correction:
        """An approved excuse request: the record becomes `excused`, audited like `/mark`
        (live or saved). The caller (ExcuseService) has checked that `changed_by` decides
        for the session's course, so the session's own teacher is not required here."""
        live = await self._sessions.session(session_id)
        if live is not None:
            session, is_live = live, True
        else:
            stored = await self._session_records.persisted_session(session_id)
            if stored is None:
                raise InvalidArgument("session", "unknown")
            session, is_live = stored, False
        student = UserProfile(user_id=student_id, first_name="")
        return await self._apply(session, is_live, student, AttendanceStatus.EXCUSED, changed_by)

    async def markable_sessions(self, teacher_id: int) -> list[SessionChoice]:
        """The sessions the user may correct: their live one first, then the saved sessions
        of every course whose role lets them mark, newest first."""
        await self._access.require_any(teacher_id, Permission.MARK)
        current = await self._sessions.teacher_current_session(teacher_id)
        mine = await self._sessions.session(current) if current else None
        lives = [mine] if mine is not None and mine.course_id is not None else []
        lives += await self._live_course_sessions(teacher_id)
        choices = [
            SessionChoice(
                live.id, live.title, live.course_name or "", live.started_at, True, live.time_zone
            )
            for live in lives
        ]
        shown = {live.id for live in lives}
        saved: list[SessionChoice] = []
        for course in await self._access.courses(teacher_id, Permission.MARK):
            for row in await self._attendance.course_sessions(course.id):
                if row[0] not in shown:
                    saved.append(
                        SessionChoice(row[0], row[1], course.name, row[2], False, course.time_zone)
                    )
        saved.sort(key=lambda c: c.started_at, reverse=True)
        return choices + saved

    async def _live_course_sessions(self, user_id: int) -> list[Session]:
        """Open sessions of the courses the user may mark that someone else started (the
        owner, a co-teacher or an assistant), newest first."""
        found: dict[str, Session] = {}
        now = self._clock.now()
        for course in await self._access.courses(user_id, Permission.MARK):
            for starter in [course.teacher_id, *await self._access.staff_ids(course)]:
                if starter == user_id:
                    continue
                current = await self._sessions.teacher_current_session(starter)
                live = await self._sessions.session(current) if current else None
                if live is not None and live.course_id == course.id and live.is_open(now):
                    found[live.id] = live
        return sorted(found.values(), key=lambda s: s.started_at, reverse=True)

    async def session_roster(
        self, teacher_id: int, session_id: str
    ) -> tuple[Session, list[UserProfile]]:
        """A session of this teacher and its course's students, by name (NotATeacher for
        anyone else's session)."""
        await self._access.require_any(teacher_id, Permission.MARK)
        session, _ = await self._target_session(teacher_id, session_id)
        course_id = session.course_id
        if course_id is None:
            raise NoRoster()
        if not session.course_name:  # a saved session is read back without its course's name
            course = await self._courses.course(course_id)
            session = replace(session, course_name=course.name if course else "")
        profiles = await self._courses.roster_profiles(course_id)
        return session, sorted(profiles, key=lambda p: (p.display_name.lower(), p.user_id))

    async def _apply(
        self,
        session: Session,
        is_live: bool,
        student: UserProfile,
        status: AttendanceStatus,
        teacher_id: int,
    ) -> Correction:
        """Make the correction, audited, in Redis while the session is live, else stored."""
        now = self._clock.now()
        if is_live:
            done = await self._mark_live_audited(session, student, status, teacher_id)
            if done is not None:
                return done
            # "gone": swept between our reads; the record is in PostgreSQL now.
        old = await self._attendance.correct_status(
            session.id, student.user_id, status=status, changed_by=teacher_id, now=now
        )
        return Correction(session, student, old, status)

    async def _mark_live_audited(
        self, session: Session, student: UserProfile, status: AttendanceStatus, teacher_id: int
    ) -> Correction | None:
        """Correct a live session, audit first: read the current status, write the audit row,
        then change Redis only if the status is still the audited one. A refusal, or a
        failure, withdraws the audit row, so the change and its audit are stored together or
        not at all (PostgreSQL down: neither). None when the session has left Redis.

        Raises:
            SessionBusy: a sweep is saving the session right now.
            StorageUnavailable: Redis or PostgreSQL is away (nothing is changed).
        """
        for _ in range(_MARK_ATTEMPTS):
            outcome, current = await self._checkins.live_status(session.id, student.user_id)
            if outcome == "sealed":
                raise SessionBusy()
            if outcome == "gone":
                return None
            # An enrolled student with no check-in and no mark would be swept as absent.
            old = current or AttendanceStatus.ABSENT
            audit_id = await self._attendance.audit_live_correction(
                session.id,
                student.user_id,
                changed_by=teacher_id,
                now=self._clock.now(),
                old=old,
                new=status,
            )
            try:
                outcome, _ = await self._checkins.mark_live(
                    session.id, student.user_id, status=status, expected=current
                )
            except Exception:
                # The write may have reached Redis before the connection failed: look.
                if await self._made(session.id, student.user_id, current, status):
                    return Correction(session, student, old, status)
                await self._withdraw_audit(audit_id)
                raise
            if outcome == "ok":
                return Correction(session, student, old, status)
            await self._withdraw_audit(audit_id)
            if outcome == "sealed":
                raise SessionBusy()
            if outcome == "gone":
                return None
            # "changed": another correction came in between; audit again with its result.
        raise SessionBusy()

    async def _made(
        self,
        session_id: str,
        student_id: int,
        before: AttendanceStatus | None,
        status: AttendanceStatus,
    ) -> bool:
        """Whether a correction whose answer was lost was made (False when Redis cannot say,
        which is what a refused connection means: the command never left)."""
        if before is status:
            return False
        try:
            outcome, current = await self._checkins.live_status(session_id, student_id)
        except Exception:
            return False
        return outcome == "ok" and current is status

    async def _withdraw_audit(self, audit_id: int) -> None:
        try:
            await self._attendance.delete_audit(audit_id)
        except Exception:
            # The correction was not made; an audit row of an attempt is the lesser harm
            # than a change without one, so this is only logged.
            log.warning("could not withdraw audit row %d of a correction not made", audit_id)

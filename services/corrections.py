"""A teacher's corrections of attendance records, always audited."""

from __future__ import annotations

from dataclasses import dataclass

from services.clock import Clock
from services.errors import DomainError, InvalidArgument, NotATeacher
from services.models import AttendanceStatus, Session, UserProfile
from services.ports import LiveStore, RecordStore
from services.roles import RoleService

STATUS_WORDS = {status.value: status for status in AttendanceStatus}


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
        self, live: LiveStore, records: RecordStore, roles: RoleService, clock: Clock
    ) -> None:
        self._live = live
        self._records = records
        self._roles = roles
        self._clock = clock

    async def _target_session(
        self, teacher_id: int, session_id: str | None
    ) -> tuple[Session, bool]:
        """The session to correct and whether it is still live in Redis."""
        if session_id is not None:
            live = await self._live.session(session_id)
            if live is not None:
                if live.teacher_id != teacher_id:
                    raise NotATeacher()
                return live, True
            stored = await self._records.persisted_session(session_id)
            if stored is None:
                raise InvalidArgument("session", "unknown")
            if stored.teacher_id != teacher_id:
                raise NotATeacher()
            return stored, False
        current = await self._live.teacher_current_session(teacher_id)
        if current is not None:
            live = await self._live.session(current)
            if live is not None:
                return live, True
        latest = await self._records.latest_session(teacher_id)
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
        await self._roles.require_teacher(teacher_id)
        status = STATUS_WORDS.get(status_word.strip().lower())
        if status is None:
            raise InvalidArgument("status", "unknown")
        session, is_live = await self._target_session(teacher_id, session_id)
        if session.course_id is None:
            raise NoRoster()
        profiles = await self._records.roster_profiles(session.course_id)
        candidates = match_students(profiles, student_query)
        if not candidates:
            raise StudentNotFound(student_query[:64])
        if len(candidates) > 1:
            raise AmbiguousStudent(sorted(candidates, key=lambda p: p.display_name.lower()))
        student = candidates[0]
        now = self._clock.now()
        if is_live:
            outcome, old = await self._live.mark_live(session.id, student.user_id, status)
            if outcome == "sealed":
                raise SessionBusy()
            if outcome == "ok":
                # An enrolled student with no check-in and no mark would be swept as absent.
                old = old or AttendanceStatus.ABSENT
                await self._records.audit_live_correction(
                    session.id, student.user_id, teacher_id, now, old, status
                )
                return Correction(session, student, old, status)
            # "gone": swept between our two reads; the record is in PostgreSQL now.
        old = await self._records.correct_status(
            session.id, student.user_id, status, teacher_id, now
        )
        return Correction(session, student, old, status)

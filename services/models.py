"""Domain types shared by the bot, the services and the stores (here, below everything else, so
that `storage` can build them and `bot` can read them without either importing the other)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from services.clock import from_ms


class AttendanceStatus(StrEnum):
    """The status of one student in one session, as stored in PostgreSQL."""

    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"


class CheckInOutcome(StrEnum):
    """Every distinct answer the atomic check-in can give."""

    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    WRONG_CODE = "wrong_code"
    EXPIRED_CODE = "expired_code"
    CLOSED = "closed"
    NOT_ENROLLED = "not_enrolled"
    ROSTER_FULL = "roster_full"
    LOCKED_OUT = "locked_out"
    NEEDS_LOCATION = "needs_location"
    LOCATION_OUTSIDE = "location_outside"
    LOCATION_REFUSED = "location_refused"
    LOCATION_NOT_READY = "location_not_ready"


class SessionState(StrEnum):
    """Lifecycle of a live session in Redis: open, ended (by time or teacher), sealed by a sweep."""

    OPEN = "open"
    ENDED = "ended"
    SEALED = "sealed"


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What we know about a Telegram user: their Telegram names and the name they registered,
    their Telegram app's language and the language they chose (what they are written in)."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    full_name: str | None = None
    student_number: str | None = None
    last_seen: datetime | None = None
    #: The IETF tag Telegram sends with each update (`ru`, `pt-br`); None when not sent.
    language_code: str | None = None
    #: The language the user chose (a catalog's code); None: follow `language_code`.
    language: str | None = None

    @property
    def display_name(self) -> str:
        """The name a teacher reads: the registered one, else the Telegram one."""
        if self.full_name:
            return self.full_name
        parts = [self.first_name, self.last_name or ""]
        name = " ".join(p for p in parts if p).strip()
        return name or (f"@{self.username}" if self.username else f"user {self.user_id}")


@dataclass(frozen=True, slots=True)
class Session:
    """A live attendance session as held in Redis until it is swept."""

    id: str
    teacher_id: int
    chat_id: int
    title: str
    code: str
    started_at: datetime
    ends_at: datetime
    state: SessionState = SessionState.OPEN
    late_at: datetime | None = None
    course_id: int | None = None
    course_name: str | None = None
    roster_size: int = 0
    rotation_seconds: int = 0
    grace_seconds: int = 0
    code_since: datetime | None = None
    geo: bool = False
    anchor: tuple[float, float] | None = None
    card_chat_id: int | None = None
    card_message_id: int | None = None
    # A session started in a group has a second card: the code card in the teacher's private
    # chat (the group's card never carries the code). Kept fresh like the first one.
    code_card_chat_id: int | None = None
    code_card_message_id: int | None = None
    # The course's IANA time zone when it set one (None: the installation's), so the card
    # and the student's replies show times in the course's zone.
    time_zone: str | None = None
    # What the signature of its projector links covers: a new link (the card's button)
    # raises it, so every link given out before stops working (services/projector.py).
    projector_generation: int = 0

    @property
    def has_roster(self) -> bool:
        """Course sessions admit only enrolled students."""
        return self.course_id is not None

    def is_open(self, now: datetime) -> bool:
        """Open means not ended by the teacher and its stored end time not reached."""
        return self.state is SessionState.OPEN and now < self.ends_at


@dataclass(frozen=True, slots=True)
class Course:
    """A teacher's course: a roster, a join code and invite link, and attendance rules."""

    id: int
    teacher_id: int
    name: str
    join_code: str
    invite_token: str
    late_after_minutes: int = 10
    warn_below_percent: int = 70
    roster_size: int = 0
    # IANA name (`Europe/Madrid`); None: the installation's zone, decided when read.
    time_zone: str | None = None
    archived: bool = False  # no new sessions, hidden from choosers; records stay in reports


class CourseAction(StrEnum):
    """What a course's audit row records (the stored text never changes)."""

    RENAME = "rename"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    REMOVE_STUDENT = "remove_student"
    LEAVE = "leave"
    NEW_JOIN_CODE = "new_join_code"
    TRANSFER = "transfer"
    ADD_STAFF = "add_staff"  # by: who joined; new value: their role (old: a role replaced)
    REMOVE_STAFF = "remove_staff"  # by: the owner; old value: "<user id> <role>"
    ROSTER_IMPORT = "roster_import"  # new value: "<new places> new, <numbers> unchanged"
    CLAIM_PLACE = "claim_place"  # by: the student; new value: the place's student number
    LINK_PLACE = "link_place"  # by: the importer; old: the enrolled student's id; new: number
    APPROVE_CLAIM = "approve_claim"  # old value: the number asked; new value: the student id
    DECLINE_CLAIM = "decline_claim"  # the same
    API_TOKEN_NEW = "api_token_new"  # new value: "<token id> <scope> <label>"
    API_TOKEN_REVOKE = "api_token_revoke"  # old value: "<token id> <scope> <label>"
    WEBHOOK_SET = "webhook_set"  # old value: the URL replaced (if any); new: the URL set
    WEBHOOK_CLEAR = "webhook_clear"  # old value: the URL removed


class CourseRole(StrEnum):
    """Someone's part in one course (stored by value in `course_staff.role`, except the
    owner, who is the course's `teacher_id`)."""

    OWNER = "owner"
    CO_TEACHER = "co_teacher"
    ASSISTANT = "assistant"


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A co-teacher or assistant of a course, as the owner's /staff lists them."""

    profile: UserProfile
    role: CourseRole
    added_at: datetime


@dataclass(frozen=True, slots=True)
class StaffInvite:
    """What an unused, unexpired staff link offers: a role in a course."""

    course_id: int
    role: CourseRole
    created_by: int


@dataclass(frozen=True, slots=True)
class CourseChange:
    """One audited change to a course: who, what, when, from what to what."""

    course_id: int
    changed_by: int
    changed_at: datetime
    action: CourseAction
    old_value: str | None
    new_value: str | None


class CheckIn(NamedTuple):
    """One student's record in one session (no check-in time for an absent one). A named
    tuple with the time in ms as Redis holds it: a sweep moves thousands of these at once, and
    a dataclass and a datetime for each were most of its own cost."""

    session_id: str
    student_id: int
    checked_in_ms: int | None
    status: AttendanceStatus
    distance_m: int | None = None

    @property
    def checked_in_at(self) -> datetime | None:
        return from_ms(self.checked_in_ms) if self.checked_in_ms is not None else None


class CheckInResult(NamedTuple):
    """One check-in's answer (session fields set when the code named one); a tuple as `CheckIn`."""

    outcome: CheckInOutcome
    session_id: str | None = None
    session_title: str | None = None
    checked_in_ms: int | None = None
    status: AttendanceStatus | None = None
    checked_in_count: int = 0
    distance_m: int | None = None
    time_zone: str | None = None  # the session's course zone, to show `checked_in_at` in

    @property
    def checked_in_at(self) -> datetime | None:
        return from_ms(self.checked_in_ms) if self.checked_in_ms is not None else None


@dataclass(frozen=True, slots=True)
class AttendanceLine:
    """One row of a summary or export: a student and what happened to them in a session."""

    student_id: int
    name: str
    status: AttendanceStatus
    checked_in_at: datetime | None


@dataclass(frozen=True, slots=True)
class StudentStanding:
    """One student's attendance in one course so far."""

    student_id: int
    name: str
    student_number: str | None
    sessions: int
    present: int
    late: int
    excused: int
    absent: int
    # False: removed from the course or left it; their records are kept and still reported.
    enrolled: bool = True

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def percent(self) -> float:
        """(present + late) / (sessions - excused) x 100; 100 when nothing counts yet."""
        counted = self.sessions - self.excused
        return 100.0 if counted <= 0 else 100.0 * self.attended / counted


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What the teacher receives once a session is persisted."""

    session_id: str
    teacher_id: int
    chat_id: int
    title: str
    started_at: datetime
    ends_at: datetime
    lines: list[AttendanceLine] = field(default_factory=list)
    course_name: str | None = None
    at_risk: list[StudentStanding] = field(default_factory=list)
    card_chat_id: int | None = None
    card_message_id: int | None = None
    roster_size: int = 0
    time_zone: str | None = None  # the course's zone (None: the installation's)
    #: Who started it, when that is not the course's owner (a co-teacher or an assistant).
    started_by: str | None = None

    def with_status(self, status: AttendanceStatus) -> list[AttendanceLine]:
        return sorted(
            (line for line in self.lines if line.status is status), key=lambda x: x.name.lower()
        )

    @property
    def checked_in(self) -> list[AttendanceLine]:
        """Students who checked in (present or late), in check-in order."""
        attended = [
            line
            for line in self.lines
            if line.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
        ]
        return sorted(attended, key=lambda line: line.checked_in_at or self.started_at)


class SummaryPart(StrEnum):
    """The messages a summary is made of, in the order they are sent (stored by name in
    the outbox's `parts_sent`)."""

    TEXT = "text"  # the summary itself, to the teacher privately
    CARD = "card"  # the session card made final
    CSV = "csv"  # the file of every record


@dataclass(frozen=True, slots=True)
class SummaryProgress:
    """Which parts of one queued summary Telegram already took, and how to record another.

    Telegram has no idempotency key: a summary whose text went through but whose CSV upload
    failed must, when tried again, send only the CSV, or the teacher reads the text twice.
    """

    done: frozenset[SummaryPart]
    record: Callable[[SummaryPart], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One attendance record as `attn export` prints it."""

    session_id: str
    session_title: str
    teacher_id: int
    student_id: int
    student_name: str
    checked_in_at: datetime | None
    status: AttendanceStatus


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a user set in /settings besides the language; the defaults for everyone else."""

    #: Low-attendance nudges wanted (a student may switch them off).
    nudges: bool = True
    #: A teacher's /start_session length when none is typed (None: the installation's).
    session_minutes: int | None = None
    #: A teacher's code rotation when none is typed: 0 fixed, else seconds (None: installation's).
    rotation_seconds: int | None = None
    #: Absence alerts and (teachers) the weekly digest wanted.
    alerts: bool = True


@dataclass(frozen=True, slots=True)
class Nudge:
    """A private warning to a student whose attendance fell below the course threshold."""

    session_id: str
    student_id: int
    course_name: str
    percent: float
    threshold: int
    attempts: int = 0  # this delivery attempt (1 = first), as counted by the outbox


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep run did, for logs, metrics and tests."""

    sessions_persisted: int = 0
    rows_written: int = 0
    sessions_skipped: int = 0
    failures: int = 0


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Everything ATTN stores about one user, for /mydata."""

    profile: UserProfile | None
    courses: list[str]
    attendance_records: int
    is_teacher: bool
    cached_profile: UserProfile | None = None
    #: The courses they co-teach or assist in, by name, with that role.
    staff_of: list[tuple[str, CourseRole]] = field(default_factory=list)
    excuse_requests: int = 0  # with their reasons and documents' Telegram file ids
    #: What they set in /settings besides the language (None: nothing stored, the defaults).
    preferences: Preferences | None = None


@dataclass(frozen=True, slots=True)
class CardState:
    """What a live session card shows: read in one batch for every card being kept fresh."""

    session: Session
    checked_in: int
    # False once that card cannot be edited any more (deleted, the bot removed or blocked):
    # a group session's card and its private code card are let go one by one.
    card_live: bool = True
    code_card_live: bool = True

"""The REST API for integrations (issue 16): per-course tokens, the pages of records it reads,
and the request budget of each token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from services.models import AttendanceStatus


class ApiScope(StrEnum):
    """What a token may do (stored by value in `api_tokens.scope`)."""

    READ = "read"
    READ_WRITE = "read_write"


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A course's API token as stored: never the token itself, which only its creator saw."""

    id: int
    course_id: int
    label: str
    scope: ApiScope
    created_by: int
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiSessionRow:
    """A saved session of a course with its counts by status."""

    id: str
    title: str
    started_at: datetime
    ends_at: datetime
    present: int
    late: int
    excused: int
    absent: int


@dataclass(frozen=True, slots=True)
class ApiCorrection:
    """One manual change of a record (who made it is left out: a teacher's Telegram id)."""

    changed_at: datetime
    old_status: AttendanceStatus | None
    new_status: AttendanceStatus


@dataclass(frozen=True, slots=True)
class ApiRecordRow:
    """One student's record of one saved session, in the API's order (session start, session,
    student). `student_id` orders the pages only: it is never shown (a Telegram id)."""

    session_id: str
    session_started_at: datetime
    student_id: int
    student_number: str | None
    name: str | None
    status: AttendanceStatus
    checked_in_at: datetime | None
    corrections: tuple[ApiCorrection, ...] = ()


def registry_name(
    full_name: str | None, first_name: str | None, last_name: str | None
) -> str | None:
    """The name the API gives: the registered (or imported) one, else the Telegram first and
    last name, else None; never the username."""
    if full_name:
        return full_name
    name = " ".join(p for p in (first_name, last_name) if p).strip()
    return name or None


def audit_value(token: ApiToken) -> str:
    """How an audit row names a token: "<id> <scope> <label>"."""
    return f"{token.id} {token.scope.value} {token.label}"


#: Where a page of sessions continues: after this (started_at, session id).
SessionKey = tuple[datetime, str]
#: Where a page of records continues: after this (session started_at, session id, student id).
RecordKey = tuple[datetime, str, int]


class ApiTokenRecords(Protocol):
    """Per-course API tokens, stored by hash; making and revoking one is audited."""

    async def create_api_token(
        self,
        token_hash: str,
        *,
        course_id: int,
        label: str,
        scope: ApiScope,
        created_by: int,
        now: datetime,
        limit: int,
    ) -> ApiToken | None:
        """The new token; None (nothing made) when the course has `limit` tokens in force
        already. Atomic: of two makings at once on a course with one place left, one wins."""
        ...

    async def course_api_tokens(self, course_id: int) -> list[ApiToken]: ...
    async def revoke_api_token(
        self, course_id: int, *, token_id: int, by: int, at: datetime
    ) -> ApiToken | None: ...
    async def use_api_token(self, token_hash: str, now: datetime) -> ApiToken | None: ...


class ApiReadRecords(Protocol):
    """Keyset pages of a course's saved sessions and records (no offsets: stable under
    inserts, and as fast on the last page as on the first)."""

    async def session_page(
        self, course_id: int, *, after: SessionKey | None, limit: int
    ) -> list[ApiSessionRow]: ...
    async def course_session(self, course_id: int, session_id: str) -> ApiSessionRow | None: ...
    async def record_page(
        self, course_id: int, *, session_id: str | None, after: RecordKey | None, limit: int
    ) -> list[ApiRecordRow]: ...
    async def course_cells(
        self, course_id: int
    ) -> list[tuple[int, list[str], list[AttendanceStatus]]]:
        """Every saved record of the course, per student: (student id, session ids, their
        statuses), the teacher dashboard's table in one read (no names, no audit: those
        come per student). One row per student keeps a 300 x 40 course at 300 rows."""
        ...

    async def student_records(self, course_id: int, *, student_id: int) -> list[ApiRecordRow]:
        """One student's saved records of the course with their corrections, by session
        start (the dashboard's student page)."""
        ...


class ApiRequestBudget(Protocol):
    """Requests per token and fixed window, shared by every process."""

    async def take_api_request(
        self, token_id: int, *, limit: int, window_seconds: int, now: datetime
    ) -> float | None:
        """None when the request is within the budget, else the seconds until it refills."""
        ...

"""Excuse requests: a student's reason (and Telegram file id) for missing a session, and the
teacher's one decision on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from services.models import AttendanceStatus


class ExcuseState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class DocumentKind(StrEnum):
    """How Telegram knows the attached file: it is sent back with the same method."""

    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class ExcuseTarget:
    """The session a request is about: saved, or the course's live one."""

    session_id: str
    course_id: int
    title: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    """A photo or PDF the student sent: only Telegram's id for it is kept, never the file."""

    file_id: str
    kind: DocumentKind


@dataclass(frozen=True, slots=True)
class ExcuseRequest:
    id: int
    target: ExcuseTarget
    student_id: int
    reason: str
    attachment: Attachment | None
    state: ExcuseState
    created_at: datetime
    decided_by: int | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SavedRecord:
    """A student's stored record of one saved session of a course."""

    session_id: str
    title: str
    started_at: datetime
    status: AttendanceStatus


class ExcuseRecords(Protocol):
    """Excuse requests in the system of record; each is decided at most once."""

    async def add_request(
        self,
        target: ExcuseTarget,
        *,
        student_id: int,
        reason: str,
        attachment: Attachment | None,
        now: datetime,
    ) -> ExcuseRequest | None:
        """None when the student has a request for that session still pending."""
        ...

    async def request(self, request_id: int) -> ExcuseRequest | None: ...
    async def decide(
        self, request_id: int, *, approve: bool, decided_by: int, now: datetime
    ) -> ExcuseRequest | None:
        """The request decided, or None when it was not pending (decided already)."""
        ...

    async def reopen(self, request_id: int, *, decided_by: int) -> None:
        """Give back a decision whose correction could not be made (pending again)."""
        ...

    async def pending_requests(self, course_ids: Sequence[int]) -> list[ExcuseRequest]:
        """Requests of these courses still waiting for a decision, oldest first."""
        ...

    async def saved_records(self, course_id: int, *, student_id: int) -> list[SavedRecord]:
        """The student's records of the course's saved sessions, newest first."""
        ...

    async def approved_premarks(self) -> list[ExcuseRequest]:
        """Approved requests for a coming class (session id `slot:...`) not yet applied."""
        ...

    async def move_request(self, request_id: int, *, from_session: str, to_session: str) -> bool:
        """Point a request at another session id if it still names `from_session` (a coming
        class's request at the session opened for it, or back); False when it did not."""
        ...

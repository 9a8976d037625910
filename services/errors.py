"""Domain errors. They carry data, never user-facing text: the bot layer words the replies."""

from __future__ import annotations

from dataclasses import dataclass

from services.models import Session


class DomainError(Exception):
    """Base of every error a handler turns into a short reply."""


class NotATeacher(DomainError):
    """A teacher-only action by someone who is not (or no longer) a teacher."""


@dataclass
class NotYours(NotATeacher):
    """A teacher acting on another teacher's session or course (`what`: "session" or
    "course"), typically a forged or stale button: a teacher, so "only teachers…" would be
    wrong; the reply says whose it is not, and nothing changes."""

    what: str


@dataclass
class SessionAlreadyOpen(DomainError):
    """The teacher already has an open session; only one at a time. `session` is None when
    that session is still being opened (a concurrent start of the same teacher)."""

    session: Session | None


class NoOpenSession(DomainError):
    """The teacher has no open session to end or extend."""


@dataclass
class OpenSessionBlocksForget(DomainError):
    """/forgetme by a teacher whose session is still open: their check-ins, roster and
    summary are in flight, so nothing is forgotten until the session ends."""

    session: Session


@dataclass
class InvalidArgument(DomainError):
    """A command argument failed validation; `field` names it, `problem` says how."""

    field: str
    problem: str


@dataclass
class StorageUnavailable(DomainError):
    """Redis or PostgreSQL cannot be reached right now; the caller should try again later."""

    backend: str

    def __str__(self) -> str:
        return f"{self.backend} unavailable"

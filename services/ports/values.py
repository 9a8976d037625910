"""Values that cross a port: what a store answers that is not a domain model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.models import AttendanceStatus, CheckIn, Session


@dataclass(frozen=True, slots=True)
class GuessLimit:
    """At most `limit` codes judged per student in any `window_seconds`; the limit-th wrong
    one locks them out for `lock_seconds`."""

    window_seconds: int
    limit: int
    lock_seconds: int


@dataclass(frozen=True, slots=True)
class SweepClaim:
    """A session claimed for sweeping: sealed against new check-ins, with all its check-ins."""

    session: Session
    checkins: list[CheckIn]
    token: str
    roster: list[int] = field(default_factory=list)
    marks: dict[int, AttendanceStatus] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)
    # How many times the session has been claimed, this claim included. Counted before any
    # write to PostgreSQL, so 1 means no earlier sweep of it can have committed (unless the
    # live store lost the count: the records' unique keys catch that case).
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class Visit:
    """What refreshing a user's cached profile told us: was it cached, any lock-out, the
    language the user chose (read in the same round trip, so each reply can use it) and the
    version of the command menu last set in their private chat ("" none; None not read)."""

    cached: bool
    locked_until: datetime | None = None
    duplicate: bool = False
    language: str | None = None
    menu: str | None = None


@dataclass(frozen=True, slots=True)
class SendSlot:
    """The shared pacer's answer for one message.

    Reserved: the slot is the caller's; it sleeps `wait_seconds` and sends without asking
    again (`due_ms`: the slot on the shared clock, in ms). Not reserved: the chat is not free
    yet and no slot was taken; ask again after `wait_seconds`."""

    reserved: bool
    wait_seconds: float
    due_ms: int = 0

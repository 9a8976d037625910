"""What the REST API for integrations reads and writes (issue 16, build point 2); `bot/web/api.py`
turns it into HTTP.

A token belongs to one course: every read is of that course, and anything else (another
course, a session of another course) is "not found", so a token cannot even learn what exists
elsewhere. Each request looks its token up in PostgreSQL (no cache: a revoked token is refused
from the next request on), then takes one request from the token's budget in Redis.

Pages continue with an opaque cursor: the last row's key, sealed with a keyed stream cipher
and a MAC (`seal_cursor`) so it neither shows the Telegram ids the order uses nor can be forged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from services.clock import Clock
from services.errors import DomainError
from services.grading import Grade
from services.models import Course, StudentStanding
from services.ports import ApiReadRecords, ApiRequestBudget, ApiTokenRecords, CourseRecords
from services.ports.api import ApiRecordRow, ApiScope, ApiSessionRow, ApiToken
from services.ports.grading import GradingPolicy
from services.reports import ReportService
from services.roles import hash_token
from services.roster import RosterImport, RosterService

#: The largest page a client may ask for, and the page it gets when it asks for none.
MAX_PAGE = 500
DEFAULT_PAGE = 100
#: The budget's window.
WINDOW_SECONDS = 60

Row = TypeVar("Row")


class TokenRefused(DomainError):
    """No token, an unknown one, or a revoked one (HTTP 401)."""


class ScopeRefused(DomainError):
    """A read token asked to write (HTTP 403)."""


@dataclass
class NotFound(DomainError):
    """Not the token's course, or no such session in it (HTTP 404); `what` names which."""

    what: str


@dataclass
class BadCursor(DomainError):
    """A cursor this API did not give, or gave for another list (HTTP 400)."""


@dataclass
class RateLimited(DomainError):
    """The token spent its budget for this window (HTTP 429)."""

    retry_after: float


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    """One page of a list and the cursor of the next (None: this was the last)."""

    items: list[Row]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class GradedStanding:
    """A student's rate and grade in the course, as /report and /history give them."""

    standing: StudentStanding
    grade: Grade


@dataclass(frozen=True, slots=True)
class Standings:
    """A page of the course's students with rates and grades, and the policy that graded."""

    policy: GradingPolicy
    threshold: int
    page: Page[GradedStanding]


def cursor_key(secret: str) -> bytes:
    """The key sealing cursors, derived from a server secret (the bot token), so every
    process of a deployment reads the others' cursors."""
    return hmac.new(secret.encode("utf-8"), b"attn api cursor", hashlib.sha256).digest()


def _stream(key: bytes, nonce: bytes, size: int) -> bytes:
    blocks = (
        hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest()
        for i in range(-(-size // 32))
    )
    return b"".join(blocks)[:size]


def seal_cursor(key: bytes, kind: str, values: list[Any]) -> str:
    """An opaque cursor for list `kind`: JSON of the values, encrypted (HMAC-SHA-256 in
    counter mode, a fresh nonce each time) and authenticated (HMAC-SHA-256, 16 bytes)."""
    plain = json.dumps([kind, *values], separators=(",", ":")).encode("utf-8")
    nonce = secrets.token_bytes(12)
    body = bytes(a ^ b for a, b in zip(plain, _stream(key, nonce, len(plain)), strict=True))
    tag = hmac.new(key, b"tag" + nonce + body, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(nonce + body + tag).decode("ascii").rstrip("=")


def open_cursor(key: bytes, kind: str, cursor: str) -> list[Any]:
    """The values sealed in `cursor` for list `kind`.

    Raises:
        BadCursor: not one of ours, altered, or of another list.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError as exc:
        raise BadCursor() from exc
    if len(raw) < 12 + 16 + 1 or len(cursor) > 1000:
        raise BadCursor()
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    expected = hmac.new(key, b"tag" + nonce + body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(tag, expected):
        raise BadCursor()
    plain = bytes(a ^ b for a, b in zip(body, _stream(key, nonce, len(body)), strict=True))
    values = json.loads(plain)
    if not isinstance(values, list) or not values or values[0] != kind:
        raise BadCursor()
    return values[1:]


class IntegrationApi:
    """The course data an API token may read, and the roster it may import (read-write)."""

    def __init__(
        self,
        *,
        tokens: ApiTokenRecords,
        reads: ApiReadRecords,
        budget: ApiRequestBudget,
        courses: CourseRecords,
        reports: ReportService,
        roster: RosterService,
        clock: Clock,
        key: bytes,
        requests_per_minute: int,
    ) -> None:
        self._tokens = tokens
        self._reads = reads
        self._budget = budget
        self._courses = courses
        self._reports = reports
        self._roster = roster
        self._clock = clock
        self._key = key
        #: Requests per token and minute (tests lower it to reach the limit).
        self.requests_per_minute = requests_per_minute

    async def authenticate(self, secret: str) -> ApiToken:
        """The token in force with this secret, one request taken from its budget.

        Raises:
            TokenRefused: unknown or revoked (checked in the database on every request).
            RateLimited: over its budget for this minute.
        """
        if not secret or len(secret) > 200:
            raise TokenRefused()
        now = self._clock.now()
        token = await self._tokens.use_api_token(hash_token(secret), now)
        if token is None:
            raise TokenRefused()
        wait = await self._budget.take_api_request(
            token.id, limit=self.requests_per_minute, window_seconds=WINDOW_SECONDS, now=now
        )
        if wait is not None:
            raise RateLimited(wait)
        return token

    async def course(self, token: ApiToken, course_id: int) -> Course:
        """The token's course, when `course_id` is it (else NotFound)."""
        course = await self._courses.course(course_id) if course_id == token.course_id else None
        if course is None:
            raise NotFound("course")
        return course

    async def sessions(
        self, token: ApiToken, course_id: int, *, cursor: str | None, limit: int
    ) -> Page[ApiSessionRow]:
        """The course's saved sessions by start (live ones appear once saved)."""
        course = await self.course(token, course_id)
        after = None
        if cursor is not None:
            at, sid = open_cursor(self._key, f"s{course.id}", cursor)
            after = (datetime.fromisoformat(at), str(sid))
        rows = await self._reads.session_page(course.id, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = (
            seal_cursor(self._key, f"s{course.id}", [rows[-1].started_at.isoformat(), rows[-1].id])
            if more
            else None
        )
        return Page(rows, next_cursor)

    async def session(self, token: ApiToken, course_id: int, session_id: str) -> ApiSessionRow:
        course = await self.course(token, course_id)
        found = await self._reads.course_session(course.id, session_id[:64])
        if found is None:
            raise NotFound("session")
        return found

    async def records(
        self,
        token: ApiToken,
        course_id: int,
        *,
        session_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page[ApiRecordRow]:
        """The course's records (or one session's), by session start, session and student."""
        course = await self.course(token, course_id)
        if session_id is not None:
            await self.session(token, course_id, session_id)
        kind = f"r{course.id}:{session_id or ''}"
        after = None
        if cursor is not None:
            at, sid, student = open_cursor(self._key, kind, cursor)
            after = (datetime.fromisoformat(at), str(sid), int(student))
        rows = await self._reads.record_page(
            course.id, session_id=session_id, after=after, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more:
            last = rows[-1]
            values = [last.session_started_at.isoformat(), last.session_id, last.student_id]
            next_cursor = seal_cursor(self._key, kind, values)
        return Page(rows, next_cursor)

    async def standings(
        self, token: ApiToken, course_id: int, *, cursor: str | None, limit: int
    ) -> Standings:
        """Every student's counts, rate and grade under the course's policy (as /report)."""
        course = await self.course(token, course_id)
        report = await self._reports.report_for(course)
        kind = f"g{course.id}"
        start = int(open_cursor(self._key, kind, cursor)[0]) if cursor is not None else 0
        chosen = report.standings[start : start + limit]
        end = start + len(chosen)
        next_cursor = seal_cursor(self._key, kind, [end]) if end < len(report.standings) else None
        graded = [GradedStanding(s, report.grade(s)) for s in chosen]
        return Standings(report.policy, course.warn_below_percent, Page(graded, next_cursor))

    async def import_roster(
        self, token: ApiToken, course_id: int, content: bytes, filename: str
    ) -> RosterImport:
        """Import a CSV or XLSX roster as the bot does (read-write tokens only; audited as
        an import by the token's creator).

        Raises:
            ScopeRefused, NotFound, InvalidArgument (the file, or an archived course).
        """
        course = await self.course(token, course_id)
        if token.scope is not ApiScope.READ_WRITE:
            raise ScopeRefused()
        return await self._roster.import_roster_as(course, content, filename, by=token.created_by)

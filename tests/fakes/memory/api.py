"""In-memory `ApiTokenRecords` and `ApiReadRecords`, row for row as storage/postgres/api.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.models import AttendanceStatus, CourseAction
from services.ports.api import (
    ApiCorrection,
    ApiRecordRow,
    ApiScope,
    ApiSessionRow,
    ApiToken,
    RecordKey,
    SessionKey,
    audit_value,
    registry_name,
)
from tests.fakes.memory.database import ApiTokenRow, CourseAuditRow, MemoryDatabase


def _token(token_id: int, row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=token_id,
        course_id=row.course_id,
        label=row.label,
        scope=ApiScope(row.scope),
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _audit(
    db: MemoryDatabase, token: ApiToken, action: CourseAction, by: int, at: datetime
) -> None:
    new = action is CourseAction.API_TOKEN_NEW
    db.course_audit[next(db.course_audit_ids)] = CourseAuditRow(
        course_id=token.course_id,
        changed_by=by,
        changed_at=at,
        action=action.value,
        old_value=None if new else audit_value(token),
        new_value=audit_value(token) if new else None,
    )


def revoke_course_tokens(db: MemoryDatabase, course_id: int, *, by: int, at: datetime) -> int:
    """REVOKE_COURSE_TOKENS and their audit rows (a transfer's): how many were in force."""
    revoked = 0
    for token_id, row in sorted(db.api_tokens.items()):
        if row.course_id == course_id and row.revoked_at is None:
            row.revoked_at, row.revoked_by = at, by
            _audit(db, _token(token_id, row), CourseAction.API_TOKEN_REVOKE, by, at)
            revoked += 1
    return revoked


class MemoryApiTokens:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def _audit(self, token: ApiToken, action: CourseAction, by: int, at: datetime) -> None:
        _audit(self._db, token, action, by, at)

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
        db = self._db
        db.check()
        if course_id not in db.courses or any(
            r.token_hash == token_hash for r in db.api_tokens.values()
        ):
            raise KeyError("api token refused")  # foreign key / unique hash
        if len(await self.course_api_tokens(course_id)) >= limit:
            return None
        token_id = next(db.api_token_ids)
        row = ApiTokenRow(token_hash, course_id, label, scope.value, created_by, now)
        db.api_tokens[token_id] = row
        token = _token(token_id, row)
        self._audit(token, CourseAction.API_TOKEN_NEW, created_by, now)
        return token

    async def course_api_tokens(self, course_id: int) -> list[ApiToken]:
        self._db.check()
        return [
            _token(i, r)
            for i, r in sorted(self._db.api_tokens.items())
            if r.course_id == course_id and r.revoked_at is None
        ]

    async def revoke_api_token(
        self, course_id: int, *, token_id: int, by: int, at: datetime
    ) -> ApiToken | None:
        self._db.check()
        row = self._db.api_tokens.get(token_id)
        if row is None or row.course_id != course_id or row.revoked_at is not None:
            return None
        row.revoked_at, row.revoked_by = at, by
        token = _token(token_id, row)
        self._audit(token, CourseAction.API_TOKEN_REVOKE, by, at)
        return token

    async def use_api_token(self, token_hash: str, now: datetime) -> ApiToken | None:
        self._db.check()
        for token_id, row in self._db.api_tokens.items():
            if row.token_hash == token_hash and row.revoked_at is None:
                found = _token(token_id, row)  # as read before the touch, like the SQL
                if row.last_used_at is None or row.last_used_at < now - timedelta(minutes=1):
                    row.last_used_at = now
                return found
        return None


class MemoryApiReads:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def _session(self, session_id: str) -> ApiSessionRow:
        s = self._db.sessions[session_id]
        statuses = [r.status for (sid, _), r in self._db.attendance.items() if sid == session_id]
        return ApiSessionRow(
            id=s.id,
            title=s.title,
            started_at=s.started_at,
            ends_at=s.ends_at,
            present=statuses.count(AttendanceStatus.PRESENT),
            late=statuses.count(AttendanceStatus.LATE),
            excused=statuses.count(AttendanceStatus.EXCUSED),
            absent=statuses.count(AttendanceStatus.ABSENT),
        )

    async def session_page(
        self, course_id: int, *, after: SessionKey | None, limit: int
    ) -> list[ApiSessionRow]:
        self._db.check()
        keys = sorted(
            (s.started_at, s.id) for s in self._db.sessions.values() if s.course_id == course_id
        )
        keys = [k for k in keys if after is None or k > after]
        return [self._session(sid) for _, sid in keys[:limit]]

    async def course_session(self, course_id: int, session_id: str) -> ApiSessionRow | None:
        self._db.check()
        s = self._db.sessions.get(session_id)
        return self._session(session_id) if s is not None and s.course_id == course_id else None

    async def record_page(
        self, course_id: int, *, session_id: str | None, after: RecordKey | None, limit: int
    ) -> list[ApiRecordRow]:
        db = self._db
        db.check()
        keyed: list[tuple[RecordKey, ApiRecordRow]] = []
        for (sid, student), row in db.attendance.items():
            s = db.sessions[sid]
            if s.course_id != course_id or (session_id is not None and sid != session_id):
                continue
            key = (s.started_at, sid, student)
            if after is not None and key <= after:
                continue
            user = db.users.get(student)
            corrections = tuple(
                ApiCorrection(a.changed_at, a.old_status, a.new_status)
                for _, a in sorted(db.attendance_audit.items())
                if a.session_id == sid and a.student_id == student
            )
            keyed.append(
                (
                    key,
                    ApiRecordRow(
                        session_id=sid,
                        session_started_at=s.started_at,
                        student_id=student,
                        student_number=user.student_number if user else None,
                        name=registry_name(user.full_name, user.first_name, user.last_name)
                        if user
                        else None,
                        status=row.status,
                        checked_in_at=row.checked_in_at,
                        corrections=corrections,
                    ),
                )
            )
        keyed.sort(key=lambda item: item[0])
        return [record for _, record in keyed[:limit]]

    async def course_cells(
        self, course_id: int
    ) -> list[tuple[int, list[str], list[AttendanceStatus]]]:
        db = self._db
        db.check()
        found: dict[int, tuple[list[str], list[AttendanceStatus]]] = {}
        for (sid, student), row in db.attendance.items():
            if db.sessions[sid].course_id == course_id:
                sessions, statuses = found.setdefault(student, ([], []))
                sessions.append(sid)
                statuses.append(row.status)
        return [(student, sessions, statuses) for student, (sessions, statuses) in found.items()]

    async def student_records(self, course_id: int, *, student_id: int) -> list[ApiRecordRow]:
        every = await self.record_page(course_id, session_id=None, after=None, limit=10**9)
        return [r for r in every if r.student_id == student_id]

"""In-memory `ExcuseRecords`, as storage/postgres/excuses.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from services.ports.excuses import (
    Attachment,
    ExcuseRequest,
    ExcuseState,
    ExcuseTarget,
    SavedRecord,
)
from tests.fakes.memory.database import MemoryDatabase


class MemoryExcuseRecords:
    """Requests keyed by id; one pending per student and session (the partial unique index)."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def add_request(
        self,
        target: ExcuseTarget,
        *,
        student_id: int,
        reason: str,
        attachment: Attachment | None,
        now: datetime,
    ) -> ExcuseRequest | None:
        db = self._db
        db.check()
        if student_id <= 0 or not 1 <= len(reason) <= 500 or target.course_id not in db.courses:
            raise ValueError("the table's constraints refuse this request")
        request_id = next(db.excuse_ids)  # bigserial: drawn even when the insert conflicts
        if any(
            r.target.session_id == target.session_id
            and r.student_id == student_id
            and r.state == ExcuseState.PENDING
            for r in db.excuse_requests.values()
        ):
            return None
        request = ExcuseRequest(
            id=request_id,
            target=target,
            student_id=student_id,
            reason=reason,
            attachment=attachment,
            state=ExcuseState.PENDING,
            created_at=now,
        )
        db.excuse_requests[request.id] = request
        return request

    async def request(self, request_id: int) -> ExcuseRequest | None:
        self._db.check()
        return self._db.excuse_requests.get(request_id)

    async def decide(
        self, request_id: int, *, approve: bool, decided_by: int, now: datetime
    ) -> ExcuseRequest | None:
        db = self._db
        db.check()
        request = db.excuse_requests.get(request_id)
        if request is None or request.state != ExcuseState.PENDING:
            return None
        state = ExcuseState.APPROVED if approve else ExcuseState.DECLINED
        decided = replace(request, state=state, decided_by=decided_by, decided_at=now)
        db.excuse_requests[request_id] = decided
        return decided

    async def reopen(self, request_id: int, *, decided_by: int) -> None:
        db = self._db
        db.check()
        request = db.excuse_requests.get(request_id)
        if (
            request is not None
            and request.state == ExcuseState.APPROVED
            and request.decided_by == decided_by
        ):
            db.excuse_requests[request_id] = replace(
                request, state=ExcuseState.PENDING, decided_by=None, decided_at=None
            )

    async def pending_requests(self, course_ids: Sequence[int]) -> list[ExcuseRequest]:
        db = self._db
        db.check()
        wanted = set(course_ids)
        found = [
            r
            for r in db.excuse_requests.values()
            if r.target.course_id in wanted and r.state == ExcuseState.PENDING
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id))

    async def saved_records(self, course_id: int, *, student_id: int) -> list[SavedRecord]:
        db = self._db
        db.check()
        found = [
            SavedRecord(s.id, s.title, s.started_at, row.status)
            for (sid, student), row in db.attendance.items()
            if student == student_id
            and (s := db.sessions.get(sid)) is not None
            and s.course_id == course_id
        ]
        return sorted(found, key=lambda r: (-r.started_at.timestamp(), r.session_id))

    async def approved_premarks(self) -> list[ExcuseRequest]:
        db = self._db
        db.check()
        found = [
            r
            for r in db.excuse_requests.values()
            if r.state == ExcuseState.APPROVED and r.target.session_id.startswith("slot:")
        ]
        return sorted(found, key=lambda r: (r.target.started_at, r.id))

    async def move_request(self, request_id: int, *, from_session: str, to_session: str) -> bool:
        db = self._db
        db.check()
        request = db.excuse_requests.get(request_id)
        if request is None or request.target.session_id != from_session:
            return False
        target = replace(request.target, session_id=to_session)
        db.excuse_requests[request_id] = replace(request, target=target)
        return True

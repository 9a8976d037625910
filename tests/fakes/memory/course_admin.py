"""In-memory `CourseAdmin`: course changes and their audit rows, as the SQL makes them."""

from __future__ import annotations

from datetime import datetime

from services.models import CourseAction, CourseChange
from services.ports.courses import Handover
from tests.fakes.memory.api import revoke_course_tokens
from tests.fakes.memory.database import CourseAuditRow, CourseRow, MemoryDatabase
from tests.fakes.memory.webhooks import remove_course_webhook


class MemoryCourseAdmin:
    """Each change refused where a unique constraint would refuse it, audited when made."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def _audit(
        self,
        course_id: int,
        action: CourseAction,
        old_new: tuple[str | None, str | None],
        *,
        by: int,
        at: datetime,
    ) -> None:
        row = CourseAuditRow(course_id, by, at, action.value, *old_new)
        self._db.course_audit[next(self._db.course_audit_ids)] = row

    def _others(self, course_id: int) -> list[CourseRow]:
        return [c for c in self._db.courses.values() if c.id != course_id]

    async def rename_course(self, course_id: int, *, name: str, by: int, at: datetime) -> bool:
        self._db.check()
        row = self._db.courses.get(course_id)
        if row is None or any(
            (c.teacher_id, c.name) == (row.teacher_id, name) for c in self._others(course_id)
        ):
            return False
        old, row.name = row.name, name
        self._audit(course_id, CourseAction.RENAME, (old, name), by=by, at=at)
        return True

    async def set_course_archived(
        self, course_id: int, *, archived: bool, by: int, at: datetime
    ) -> bool:
        self._db.check()
        row = self._db.courses.get(course_id)
        if row is None or (row.archived_at is not None) == archived:
            return False
        row.archived_at = at if archived else None
        action = CourseAction.ARCHIVE if archived else CourseAction.UNARCHIVE
        self._audit(course_id, action, (None, None), by=by, at=at)
        return True

    async def unenrol(
        self, course_id: int, *, student_id: int, action: CourseAction, by: int, at: datetime
    ) -> bool:
        self._db.check()
        if self._db.enrolments.pop((course_id, student_id), None) is None:
            return False
        self._audit(course_id, action, (str(student_id), None), by=by, at=at)
        return True

    async def replace_join_code(
        self, course_id: int, *, join_code: str, invite_token: str, by: int, at: datetime
    ) -> bool:
        self._db.check()
        row = self._db.courses.get(course_id)
        if row is None or any(
            c.join_code == join_code or c.invite_token == invite_token
            for c in self._others(course_id)
        ):
            return False
        old, row.join_code, row.invite_token = row.join_code, join_code, invite_token
        self._audit(course_id, CourseAction.NEW_JOIN_CODE, (old, join_code), by=by, at=at)
        return True

    async def transfer_course(
        self, course_id: int, *, teacher_id: int, by: int, at: datetime
    ) -> Handover | None:
        self._db.check()
        row = self._db.courses.get(course_id)
        if row is None or any(
            (c.teacher_id, c.name) == (teacher_id, row.name) for c in self._others(course_id)
        ):
            return None
        old, row.teacher_id = row.teacher_id, teacher_id
        self._audit(course_id, CourseAction.TRANSFER, (str(old), str(teacher_id)), by=by, at=at)
        return Handover(
            tokens_revoked=revoke_course_tokens(self._db, course_id, by=by, at=at),
            webhook_removed=remove_course_webhook(self._db, course_id, by=by, now=at),
        )

    async def course_changes(self, course_id: int) -> list[CourseChange]:
        self._db.check()
        return [
            CourseChange(
                course_id=r.course_id,
                changed_by=r.changed_by,
                changed_at=r.changed_at,
                action=CourseAction(r.action),
                old_value=r.old_value,
                new_value=r.new_value,
            )
            for _, r in sorted(self._db.course_audit.items())
            if r.course_id == course_id
        ]

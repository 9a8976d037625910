"""In-memory `RoleRecords`: teachers named in the database and their one-time links."""

from __future__ import annotations

from datetime import datetime

from services.models import UserProfile
from tests.fakes.memory.database import InviteRow, MemoryDatabase


class MemoryRoleRecords:
    """Teachers in the order they were added; invitations spent once, before they expire."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def is_teacher(self, user_id: int) -> bool:
        self._db.check()
        return user_id in self._db.teachers

    async def teachers(self) -> list[UserProfile]:
        db = self._db
        db.check()
        result = []
        for user_id in db.teachers:
            user = db.users.get(user_id)
            result.append(
                UserProfile(
                    user_id=user_id,
                    first_name=user.first_name if user else "",
                    last_name=user.last_name if user else None,
                    username=user.username if user else None,
                    full_name=user.full_name if user else None,
                )
            )
        return result

    async def create_teacher_invite(
        self, token_hash: str, *, created_by: int, now: datetime, expires_at: datetime
    ) -> None:
        self._db.check()
        if token_hash in self._db.teacher_invites:
            raise KeyError(f"duplicate teacher invite {token_hash!r}")  # a primary key
        self._db.teacher_invites[token_hash] = InviteRow(created_by, now, expires_at)

    async def use_teacher_invite(self, token_hash: str, user_id: int, now: datetime) -> bool:
        db = self._db
        db.check()
        invite = db.teacher_invites.get(token_hash)
        if invite is None or invite.used_at is not None or invite.expires_at <= now:
            return False
        invite.used_by, invite.used_at = user_id, now
        db.teachers.setdefault(user_id, invite.created_by)
        return True

    async def remove_teacher(self, user_id: int) -> bool:
        self._db.check()
        return self._db.teachers.pop(user_id, None) is not None

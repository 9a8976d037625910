"""Who may do what: admins from the settings; teachers from the settings or made by an admin."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from services.clock import Clock, SystemClock
from services.errors import DomainError, InvalidArgument, NotATeacher
from services.models import UserProfile
from services.ports import RoleRecords, UserRecords

INVITE_PREFIX = "teach_"
INVITE_HOURS = 24


class NotAnAdmin(DomainError):
    """An admin-only action by someone who is not an admin."""


@dataclass(frozen=True, slots=True)
class TeacherList:
    configured: list[int]
    invited: list[UserProfile]


def hash_token(token: str) -> str:
    """Invitations are stored only as this hash, so a database leak hands out no teacher role."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class RoleService:
    """Answers role questions; every teacher command and button asks it on the server side."""

    def __init__(
        self,
        teacher_ids: Iterable[int],
        admin_ids: Iterable[int],
        *,
        roles: RoleRecords | None = None,
        users: UserRecords | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._admins = frozenset(admin_ids)
        self._teachers = frozenset(teacher_ids) | self._admins
        self._records = roles
        self._users = users
        self._clock = clock or SystemClock()

    async def is_teacher(self, user_id: int) -> bool:
        if user_id in self._teachers:
            return True
        return self._records is not None and await self._records.is_teacher(user_id)

    def is_configured(self, user_id: int) -> bool:
        """True for a teacher or admin named in the settings (no storage needed to know)."""
        return user_id in self._teachers

    async def is_admin(self, user_id: int) -> bool:
        return user_id in self._admins

    async def require_teacher(self, user_id: int) -> None:
        """Raise `NotATeacher` unless the user may run teacher commands."""
        if not await self.is_teacher(user_id):
            raise NotATeacher()

    async def require_admin(self, user_id: int) -> None:
        if not await self.is_admin(user_id):
            raise NotAnAdmin()

    def _store(self) -> RoleRecords:
        assert self._records is not None, "teacher invitations need the role records"
        return self._records

    async def invite_teacher(self, admin_id: int) -> str:
        """A one-time invitation token, valid 24 hours; only its hash is stored."""
        await self.require_admin(admin_id)
        token = secrets.token_urlsafe(24)
        now = self._clock.now()
        await self._store().create_teacher_invite(
            hash_token(token),
            created_by=admin_id,
            now=now,
            expires_at=now + timedelta(hours=INVITE_HOURS),
        )
        return token

    async def accept_invite(self, user_id: int, token: str) -> bool:
        """Make the user a teacher if the token is valid, unused and not expired (spent now)."""
        if not token or len(token) > 64:
            return False
        return await self._store().use_teacher_invite(hash_token(token), user_id, self._clock.now())

    async def remove_teacher(self, admin_id: int, target: str) -> int:
        """Remove an invited teacher named by id or @username; returns their id.

        Raises:
            NotAnAdmin, InvalidArgument (unknown, or configured in ATTN_TEACHER_IDS).
        """
        await self.require_admin(admin_id)
        user_id = await self._resolve(target)
        if user_id in self._teachers:
            raise InvalidArgument("teacher", "configured")
        if not await self._store().remove_teacher(user_id):
            raise InvalidArgument("teacher", "unknown")
        return user_id

    async def resolve_user(self, target: str) -> int:
        """A user named by id or @username (one we have seen); InvalidArgument otherwise."""
        return await self._resolve(target)

    async def _resolve(self, target: str) -> int:
        text = target.strip()
        if re.fullmatch(r"-?[0-9]{1,18}", text):  # ASCII only: int() refuses `²`
            return int(text)
        if text.startswith("@") and 1 < len(text) <= 33:
            assert self._users is not None, "naming a teacher by @username needs the user records"
            found = await self._users.user_by_username(text[1:])
            if found is not None:
                return found
        raise InvalidArgument("teacher", "unknown")

    async def privileged_user_ids(self) -> list[int]:
        """Every configured or invited teacher and admin, for their command menus."""
        invited = [p.user_id for p in await self._store().teachers()] if self._records else []
        return sorted(self._teachers | set(invited))

    async def list_teachers(self, admin_id: int) -> TeacherList:
        await self.require_admin(admin_id)
        return TeacherList(sorted(self._teachers), await self._store().teachers())

"""Who may do what. Teachers and admins come from the settings for now."""

from __future__ import annotations

from collections.abc import Iterable

from services.errors import NotATeacher


class RoleService:
    """Answers role questions; every teacher command asks it on the server side."""

    def __init__(self, teacher_ids: Iterable[int], admin_ids: Iterable[int]) -> None:
        self._admins = frozenset(admin_ids)
        self._teachers = frozenset(teacher_ids) | self._admins

    async def is_teacher(self, user_id: int) -> bool:
        return user_id in self._teachers

    async def is_admin(self, user_id: int) -> bool:
        return user_id in self._admins

    async def require_teacher(self, user_id: int) -> None:
        """Raise `NotATeacher` unless the user may run teacher commands."""
        if not await self.is_teacher(user_id):
            raise NotATeacher()

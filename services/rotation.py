"""Rotating codes: a session with `rotation_seconds` shows a new code that often."""

from __future__ import annotations

from services.clock import Clock
from services.codes import CodeGenerator, random_code
from services.ports import CodeStore


class CodeRotation:
    """Draws the next code of every session whose rotation is due."""

    def __init__(
        self, *, codes: CodeStore, clock: Clock, code_generator: CodeGenerator = random_code
    ) -> None:
        self._codes = codes
        self._clock = clock
        self._new_code = code_generator

    async def rotate_due_codes(self) -> dict[str, str]:
        """Give every session whose rotation is due a fresh code; {session id: new code}.

        Safe in several processes at once: a rotation happens only if still due, and each
        new code is reserved globally before use. A session whose drawn code was taken is
        simply retried on the next call.
        """
        now = self._clock.now()
        due = await self._codes.due_rotations(now, 1000)
        if not due:
            return {}
        return await self._codes.rotate_codes(now, {sid: self._new_code(6) for sid in due})

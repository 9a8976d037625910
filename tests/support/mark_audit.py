"""A live /mark under test: a session with one checked-in student, and a correction
service whose store pulls a plug (or lets another /mark in) at the exact step under test.

Shared by tests/bot (the race between two /marks) and tests/integration (real outages).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.container import Services
from services.corrections import CorrectionService
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness

STUDENT = 81_001


class CutDuring:
    """Delegates to a real store; cuts a proxy as the named method is first called."""

    def __init__(self, store: Any, method: str, cut: Callable[[], Awaitable[None]]) -> None:
        self._store, self._method, self._cut, self.fired = store, method, cut, False

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name != self._method:
            return real

        async def cutting(*args: Any, **kwargs: Any) -> Any:
            if not self.fired:
                self.fired = True
                await self._cut()
            return await real(*args, **kwargs)

        return cutting


class CutAfter(CutDuring):
    """Delegates to a real store; cuts a proxy as soon as the named method has succeeded."""

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name != self._method:
            return real

        async def cutting(*args: Any, **kwargs: Any) -> Any:
            result = await real(*args, **kwargs)
            if not self.fired:
                self.fired = True
                await self._cut()
            return result

        return cutting


async def live_session_with_student(bot: BotHarness) -> str:
    [created] = await bot.send(TEACHER_ID, "/new_course Audit")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join, created
    await bot.send(STUDENT, f"/join {join[1]}")
    await bot.send(STUDENT, "Ada Lovelace 4711")
    [card] = await bot.send(TEACHER_ID, "/start_session Audit 30")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    [ok] = await bot.send(STUDENT, f"/checkin {code[1]}")
    assert "Checked in" in ok
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    return session.id


def corrections_with(services: Services, checkins: Any = None, attendance: Any = None) -> None:
    """Swap the bot's correction service for one whose live check-ins or attendance records
    are wrapped."""
    services.corrections = CorrectionService(
        sessions=services.live.sessions,
        checkins=checkins or services.live.checkins,
        session_records=services.records.sessions,
        attendance=attendance or services.records.attendance,
        courses=services.records.courses,
        access=services.access,
        clock=services.corrections._clock,  # type: ignore[attr-defined]
    )

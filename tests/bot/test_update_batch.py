"""A backlog of one user's updates arrives in one getUpdates batch (after a restart, say) and
is handled concurrently (concurrent_updates). A /checkin CODE claims its update in the
check-in's own round trip: were a route lookup to come first, the user's next updates would
claim theirs meanwhile and push the check-in's id below their 4-id window's floor, dropping
it as a duplicate (no check-in, no reply)."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update

from storage.redis.codes import CodeRoutes
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.telegram import message_update

STUDENT = 4712


async def test_a_checkin_in_a_batch_with_the_users_next_updates_is_handled(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh process: no code route cached yet.
    resolve = CodeRoutes.resolve

    async def uncached(self: CodeRoutes, code: str, fresh: bool) -> str | None:
        self._cache.clear()
        await asyncio.sleep(0.05)  # a slow lookup: the batch's other updates claim meanwhile
        return await resolve(self, code, fresh)

    monkeypatch.setattr(CodeRoutes, "cached", lambda self, code: None)
    monkeypatch.setattr(CodeRoutes, "resolve", uncached)
    await bot.send(TEACHER_ID, "/start_session 10 Batch")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    base = 9_000_000
    batch = [message_update(STUDENT, f"/checkin {session.code}", update_id=base)]
    batch += [message_update(STUDENT, "/help", update_id=base + i) for i in range(1, 6)]
    before = len(bot.request.calls)
    await asyncio.gather(
        *(bot.app.process_update(Update.de_json(raw, bot.app.bot)) for raw in batch)
    )
    await asyncio.sleep(0.2)
    replies = [c.text for c in bot.request.calls[before:] if c.method == "sendMessage"]
    assert sum("Checked in" in r for r in replies) == 1, replies
    assert sum("Commands" in r for r in replies) == 5
    present = await bot.services.checkins.checked_in_students(TEACHER_ID, session.id)
    assert [p.user_id for p, _ in present] == [STUDENT]

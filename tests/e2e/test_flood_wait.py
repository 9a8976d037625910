"""One flood wait on the card's edit, during a rotating session, holds only the card."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import TEACHER, BotProcess, bot_env, current_code, wait_until_polling
from tests.fakes.botapi import FakeBotApi

STUDENTS = list(range(45_001, 45_021))


def test_a_flood_wait_on_the_card_edit_does_not_hold_students_replies(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    """Telegram answers one edit of the projected card with 429 retry_after=20 (a flood wait
    for editing one message too often is per chat in real Telegram). Students who check in
    meanwhile in their own chats get their "Checked in" within a few seconds: the wait holds
    only the card's chat."""
    env = bot_env(
        fake,
        tmp_path / "data",
        ATTN_CODE_ROTATION_SECONDS="15",
        ATTN_CODE_GRACE_SECONDS="5",
        ATTN_CARD_REFRESH_SECONDS="2",
    )
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/start", first_name="Tess")
        fake.wait_for_messages(TEACHER, 1, timeout=30)
        fake.send_message(TEACHER, "/start_session 20 Lecture")
        fake.wait_for_messages(TEACHER, 2, timeout=30)
        fake.fail_next(
            "editMessageMedia",
            error_code=429,
            description="Too Many Requests: retry after 20",
            parameters={"retry_after": 20},
        )
        fake.wait_for(lambda f: any(c.fault for c in f.calls), timeout=40)
        code = current_code(fake, TEACHER)
        sent = time.monotonic()
        for s in STUDENTS:
            fake.send_message(s, f"/checkin {code}", first_name=f"S{s}")
        fake.wait_for(lambda f: all(f.texts_to(s) for s in STUDENTS), timeout=60)
        waited = time.monotonic() - sent
        assert waited < 8, f"the last student waited {waited:.1f} s for their reply"
    finally:
        bot.stop()

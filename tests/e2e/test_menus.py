"""Command menus reach teachers who first write after start-up (real `attn run`, fake Bot API).

Telegram refuses a chat-scoped menu for a user who has no private chat with the bot yet
("chat not found"); the fake does the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.text import available_languages
from tests.e2e.conftest import TEACHER, BotProcess, bot_env, wait_until_polling
from tests.fakes.botapi import Call, FakeBotApi

ADMIN = 7100
STUDENT = 40002


def menu_calls(fake: FakeBotApi, user_id: int, method: str = "setMyCommands") -> list[Call]:
    def scope(call: Call) -> Any:
        return call.params.get("scope") or {}

    return [
        c
        for c in fake.calls_of(method)
        if scope(c).get("type") == "chat" and int(scope(c).get("chat_id", 0)) == user_id
    ]


def names(call: Call) -> set[str]:
    return {c["command"] for c in call.params["commands"]}


def test_a_teacher_who_first_writes_after_start_up_gets_the_menu(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    env = bot_env(fake, tmp_path / "data", ATTN_ADMIN_IDS=str(ADMIN))
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.wait_for(lambda f: len(menu_calls(f, ADMIN)) == 1, timeout=30)
        # Neither has a private chat with the bot yet: Telegram says "chat not found".
        [refused] = menu_calls(fake, TEACHER)
        assert not refused.ok and "chat not found" in (refused.error or "")
        assert not menu_calls(fake, ADMIN)[0].ok

        fake.send_message(TEACHER, "/help")
        fake.wait_for(lambda f: any(c.ok for c in menu_calls(f, TEACHER)), timeout=30)
        given = [c for c in menu_calls(fake, TEACHER) if c.ok]
        assert len(given) == 1 and {"start_session", "end_session"} <= names(given[0])
        assert "remove_teacher" not in names(given[0])

        fake.send_message(ADMIN, "/start")
        fake.wait_for(lambda f: any(c.ok for c in menu_calls(f, ADMIN)), timeout=30)
        [admin_menu] = [c for c in menu_calls(fake, ADMIN) if c.ok]
        assert {"start_session", "remove_teacher"} <= names(admin_menu)

        # Once per user and menu version, not once per message.
        for _ in range(3):
            fake.send_message(TEACHER, "/help")
        fake.send_message(STUDENT, "/help")
        fake.wait_for(lambda f: len(f.texts_to(TEACHER)) >= 4 and f.texts_to(STUDENT), 30)
        assert len(menu_calls(fake, TEACHER)) == 2
        assert not menu_calls(fake, STUDENT) and not menu_calls(fake, STUDENT, "deleteMyCommands")
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]
    assert "could not set the command menus" not in bot.log()
    assert "start-up heap frozen" in bot.log()  # once started (bot/heap.py)

    # A restart sets the default menu again, and nobody's own: they have it already.
    calls_before = len(fake.calls_of("setMyCommands"))
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/help")
        fake.wait_for(lambda f: len(f.texts_to(TEACHER)) >= 5, timeout=30)
        later = fake.calls_of("setMyCommands")[calls_before:]
        # The default and group menus, once per language; nobody's own.
        scopes = [c.params.get("scope", {}).get("type", "default") for c in later]
        assert set(scopes) == {"default", "all_group_chats"}
        assert len(later) == 2 * (1 + len(available_languages()))
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]

    # Taken out of ATTN_TEACHER_IDS: their own menu goes at their next message.
    bot = BotProcess({**env, "ATTN_TEACHER_IDS": ""}, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/help")
        fake.wait_for(lambda f: bool(menu_calls(f, TEACHER, "deleteMyCommands")), timeout=30)
        [deleted] = menu_calls(fake, TEACHER, "deleteMyCommands")
        assert deleted.ok
        assert len(menu_calls(fake, TEACHER)) == 2  # no teacher menu set again
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]

"""Blocks and unblocks (`my_chat_member`), Telegram's errors as delivery outcomes."""

from __future__ import annotations

import time
from datetime import timedelta

import asyncpg
import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.notifier import delivery_failure
from services.delivery import DeliveryFailed
from tests.support.bot_harness import BOT_ID, BotHarness

STUDENT = 52_001


def member_update(user_id: int, old: str, new: str, chat_type: str = "private") -> Update:
    """What Telegram sends when a user blocks (`kicked`) or unblocks (`member`) the bot."""
    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "ATTN"}
    user = {"id": user_id, "is_bot": False, "first_name": "Ann"}
    chat_id = user_id if chat_type == "private" else -100_123
    data = {
        "update_id": int(time.monotonic_ns() % 2**31),
        "my_chat_member": {
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Ann", "title": "G"},
            "from": user,
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot_user, "until_date": 0},
            "new_chat_member": {"status": new, "user": bot_user, "until_date": 0},
        },
    }
    return Update.de_json(data, None)


async def unreachable(database: str) -> set[int]:
    conn = await asyncpg.connect(database)
    try:
        return {r[0] for r in await conn.fetch("SELECT user_id FROM unreachable_users")}
    finally:
        await conn.close()


async def test_blocking_and_unblocking_the_bot_is_recorded(
    bot: BotHarness, clean_database: str
) -> None:
    await bot.app.process_update(member_update(STUDENT, "member", "kicked"))
    assert await unreachable(clean_database) == {STUDENT}
    await bot.app.process_update(member_update(STUDENT, "kicked", "member"))
    assert await unreachable(clean_database) == set()


async def test_a_group_removing_the_bot_is_not_a_blocked_user(
    bot: BotHarness, clean_database: str
) -> None:
    await bot.app.process_update(member_update(STUDENT, "member", "kicked", "supergroup"))
    assert await unreachable(clean_database) == set()


async def test_a_user_who_writes_again_is_reachable_again(
    bot: BotHarness, clean_database: str
) -> None:
    await bot.app.process_update(member_update(STUDENT, "member", "kicked"))
    assert bot.services.delivery.awaits(STUDENT)
    [reply] = await bot.send(STUDENT, "/help")
    assert reply  # answered as usual
    assert await unreachable(clean_database) == set()
    assert not bot.services.delivery.awaits(STUDENT)


@pytest.mark.parametrize(
    ("error", "permanent", "unreachable_", "retry_after"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), True, True, None),
        (Forbidden("Forbidden: bot can't initiate conversation with a user"), True, True, None),
        (Forbidden("Forbidden: user is deactivated"), True, True, None),
        (BadRequest("Bad Request: chat not found"), True, True, None),
        (BadRequest("Bad Request: message is too long"), True, False, None),
        (RetryAfter(timedelta(seconds=42)), False, False, 42.0),
        (TimedOut(), False, False, None),
        (NetworkError("Connection reset by peer"), False, False, None),
    ],
)
def test_telegram_errors_become_delivery_outcomes(
    error: Exception, permanent: bool, unreachable_: bool, retry_after: float | None
) -> None:
    outcome = delivery_failure(error)  # type: ignore[arg-type]
    assert isinstance(outcome, DeliveryFailed)
    assert (outcome.permanent, outcome.unreachable, outcome.retry_after) == (
        permanent,
        unreachable_,
        retry_after,
    )
    assert type(error).__name__ in outcome.reason

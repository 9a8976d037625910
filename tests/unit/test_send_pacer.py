"""The shared pacer's schedule (send_slot.lua on fakeredis's Lua): evenly spaced grants for the
bot, a private chat and a group, reserved ahead of now, and no slot taken for a busy chat."""

from __future__ import annotations

from itertools import pairwise

import fakeredis

from services.ports import SendSlot
from storage.redis.pacing import BOT_GAP_MS, GROUP_GAP_MS, PRIVATE_CHAT_GAP_MS, RedisSendPacer
from storage.redis.scripts import Scripts


async def pacer() -> RedisSendPacer:
    scripts = Scripts(fakeredis.FakeAsyncRedis())
    await scripts.load()
    return RedisSendPacer(scripts)


async def test_grants_to_many_chats_are_spaced_evenly_and_reserved_ahead() -> None:
    shared = await pacer()
    slots = [await shared.reserve_send_slot(chat) for chat in range(1000, 1060)]
    assert all(slot.reserved for slot in slots)  # one call a message, however many wait
    due = [slot.due_ms for slot in slots]
    assert all(b - a >= BOT_GAP_MS for a, b in pairwise(due))
    assert max(sum(1 for t in due if start <= t < start + 1100) for start in due) <= 29
    assert slots[0].wait_seconds < 0.05
    assert due[-1] - due[0] >= 59 * BOT_GAP_MS
    assert slots[-1].wait_seconds > 1.0  # reserved ahead: it waits for its slot, not asks


async def test_a_chat_not_yet_free_takes_no_slot_of_the_bot() -> None:
    shared = await pacer()
    first = await shared.reserve_send_slot(7)
    again = await shared.reserve_send_slot(7)
    other = await shared.reserve_send_slot(8)
    assert first.reserved and not again.reserved and other.reserved
    assert (
        PRIVATE_CHAT_GAP_MS / 1000 - 0.5 <= again.wait_seconds <= PRIVATE_CHAT_GAP_MS / 1000 + 0.002
    )
    # The refused ask took nothing: the next chat got the very next slot.
    assert BOT_GAP_MS <= other.due_ms - first.due_ms < BOT_GAP_MS + 1


async def test_a_group_is_spread_over_its_minute_and_a_deletion_there_is_not_counted() -> None:
    shared = await pacer()
    first = await shared.reserve_send_slot(-100)
    refused = await shared.reserve_send_slot(-100)
    deletion = await shared.reserve_send_slot(None)  # a group deletion: the bot's budget only
    assert first.reserved and deletion.reserved and not refused.reserved
    assert refused.wait_seconds >= GROUP_GAP_MS / 1000 - 0.5
    assert isinstance(refused, SendSlot) and refused.due_ms == 0

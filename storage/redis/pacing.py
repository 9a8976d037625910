"""The bot's sending budget, shared by every process (`send_slot.lua` over `keys.send_next`
and `keys.chat_send_next`). Implements `SendPacer`.

Virtual scheduling on the Redis server's clock: each grant moves the bot's (and the chat's)
next free time on by an even gap, and a slot may be reserved ahead of now. So the shared
budget alone keeps the deployment within Telegram's limits, with no burst when a window
frees, whatever the number of processes; callers need no pace of their own while Redis is up.
"""

from __future__ import annotations

from services.ports.values import SendSlot
from storage.redis import keys
from storage.redis.errors import redis_guard
from storage.redis.scripts import Scripts

# Telegram's flood limits (a little under, for clock jitter): per bot, per private chat, per
# group.
TELEGRAM_PER_SECOND = 29
PRIVATE_CHAT_GAP_MS = 1050
GROUP_PER_MINUTE = 19
# The even gaps between grants: 29 in 1.1 s, not in 1 s, so that a message leaving a little
# after its slot cannot make 31 in some second; a group's 19 spread over its minute.
BOT_GAP_MS = 1100 / TELEGRAM_PER_SECOND
GROUP_GAP_MS = 60000 / GROUP_PER_MINUTE


class RedisSendPacer:
    """Telegram's flood limits, scheduled in Redis so several bot processes share them."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts

    async def reserve_send_slot(self, chat_id: int | None) -> SendSlot:
        """Reserve the next slot of a message to `chat_id` (None: the bot's budget only).

        Not reserved, and no slot of the bot's taken, while the chat is not free yet."""
        kind = "" if chat_id is None else ("p" if chat_id > 0 else "g")
        chat_key = keys.chat_send_next(chat_id) if chat_id is not None else keys.send_next()
        async with redis_guard():
            reserved, wait_ms, due_ms = await self._scripts.send_slot(
                keys=[keys.send_next(), chat_key],
                args=[repr(BOT_GAP_MS), PRIVATE_CHAT_GAP_MS, repr(GROUP_GAP_MS), kind],
            )
        return SendSlot(
            reserved=bool(int(reserved)),
            wait_seconds=max(0, int(wait_ms)) / 1000.0,
            due_ms=int(due_ms),
        )

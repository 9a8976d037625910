"""The bot's sending budget, shared by every process (`send_slot.lua` over `keys.send_log`
and `keys.chat_send_log`). Implements `SendPacer`."""

from __future__ import annotations

import secrets

from storage.redis import keys
from storage.redis.errors import redis_guard
from storage.redis.scripts import Scripts

# Telegram's flood limits (a little under, for clock jitter): per bot, per private chat, per
# group.
TELEGRAM_PER_SECOND = 29
PRIVATE_CHAT_GAP_MS = 1050
GROUP_PER_MINUTE = 19


class RedisSendPacer:
    """Telegram's flood limits, counted in Redis so several bot processes share them."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts

    async def reserve_send_slot(self, chat_id: int | None) -> float:
        """0 when one more message may go out now (it is counted), else seconds to wait."""
        kind = "" if chat_id is None else ("p" if chat_id > 0 else "g")
        chat_key = keys.chat_send_log(chat_id) if chat_id is not None else keys.send_log()
        async with redis_guard():
            wait_ms = await self._scripts.send_slot(
                keys=[keys.send_log(), chat_key],
                args=[
                    TELEGRAM_PER_SECOND,
                    PRIVATE_CHAT_GAP_MS,
                    GROUP_PER_MINUTE,
                    kind,
                    secrets.token_hex(6),
                ],
            )
        return int(wait_ms) / 1000.0

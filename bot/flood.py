"""Telegram's flood limits, kept on our side so a burst delays replies instead of losing them.

python-telegram-bot's `AIORateLimiter` paces all requests (30 a second) and each group (20 a
minute) and retries after a 429, but does not pace a private chat; Telegram allows about one
message a second per chat. This limiter adds that, per attempt, so a retried request also
keeps its distance.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


class FloodLimiter(AIORateLimiter):
    """`AIORateLimiter` plus one message a second to any one private chat."""

    MAX_CHATS = 4096

    def __init__(self, max_retries: int = 8, private_chat_per_second: float = 1.0) -> None:
        super().__init__(
            overall_max_rate=30,
            overall_time_period=1,
            group_max_rate=20,
            group_time_period=60,
            max_retries=max_retries,
        )
        self._per_chat_period = 1.0 / private_chat_per_second
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > self.MAX_CHATS:
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(1):
                    del self._chats[key]
        if chat_id not in self._chats:
            self._chats[chat_id] = AsyncLimiter(1, self._per_chat_period)
        return self._chats[chat_id]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        chat_id = data.get("chat_id")
        try:
            private = int(chat_id) > 0 if chat_id is not None else False
        except (TypeError, ValueError):
            private = False
        if not private:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        limiter = self._chat_limiter(int(chat_id))  # type: ignore[arg-type]

        async def paced(*call_args: Any, **call_kwargs: Any) -> JSONResult:
            async with limiter:
                return await callback(*call_args, **call_kwargs)

        return await super().process_request(paced, args, kwargs, endpoint, data, rate_limit_args)

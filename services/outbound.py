"""Pacing of outgoing messages across every bot process (Telegram counts per bot)."""

from __future__ import annotations

from services.ports import SendPacer


class OutboundPacer:
    """Asks the shared store for the next free sending slot of a chat (and of the bot)."""

    def __init__(self, *, pacer: SendPacer) -> None:
        self._pacer = pacer

    async def wait_time(self, chat_id: int | None) -> float:
        """0 when a message to `chat_id` may go now (and is counted), else seconds to wait.

        Raises:
            StorageUnavailable: the shared store is away (the caller falls back to its own
                per-process limits).
        """
        return await self._pacer.reserve_send_slot(chat_id)

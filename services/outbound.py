"""Pacing of outgoing messages across every bot process (Telegram counts per bot)."""

from __future__ import annotations

from services.ports import SendPacer, SendSlot


class OutboundPacer:
    """Reserves the next sending slot of a chat (and of the bot) in the shared store."""

    def __init__(self, *, pacer: SendPacer) -> None:
        self._pacer = pacer

    async def reserve(self, chat_id: int | None) -> SendSlot:
        """The slot of one message to `chat_id` (sleep its wait, then send without asking
        again), or, when the chat is not free yet, how long until it is worth asking again.

        Raises:
            StorageUnavailable: the shared store is away (the caller falls back to its own
                per-process limits).
        """
        return await self._pacer.reserve_send_slot(chat_id)

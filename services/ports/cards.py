"""Where each open session's live card (and private code card) is, and the pacing of edits."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.models import CardState


class CardStore(Protocol):
    """Card positions, fingerprints and edit claims, shared by every bot process."""

    async def attach_card(
        self, session_id: str, *, chat_id: int, message_id: int, fingerprint: str, now: datetime
    ) -> None: ...
    async def attach_code_card(
        self, session_id: str, *, chat_id: int, message_id: int, fingerprint: str, now: datetime
    ) -> None: ...
    async def card_states(self, limit: int) -> list[CardState]: ...
    async def claim_card_edit(
        self,
        session_id: str,
        *,
        now: datetime,
        min_interval_s: float,
        fingerprint: str,
        card: str = "card",
    ) -> tuple[str, str]: ...
    async def release_card_edit(
        self, session_id: str, *, card: str, claimed: str, previous: str, retry_at: datetime
    ) -> None: ...
    async def drop_card(self, session_id: str) -> None: ...
    async def drop_one_card(self, session_id: str, *, card: str) -> None: ...
    async def claim_group_pointer(self, chat_id: int, *, seconds: int) -> bool: ...

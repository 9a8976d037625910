"""The live session cards: which to keep fresh, and one edit at a time across processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.clock import Clock
from services.models import CardState, Session
from services.ports import CardStore


class CardService:
    """Keeps each posted card (and a group session's private code card) fresh until the end."""

    def __init__(self, *, cards: CardStore, clock: Clock) -> None:
        self._cards = cards
        self._clock = clock

    async def attach_card(
        self, session: Session, chat_id: int, message_id: int, fingerprint: str
    ) -> None:
        """The card was posted (showing `fingerprint`): keep it fresh until the session ends."""
        await self._cards.attach_card(
            session.id,
            chat_id=chat_id,
            message_id=message_id,
            fingerprint=fingerprint,
            now=self._clock.now(),
        )

    async def attach_code_card(
        self, session: Session, chat_id: int, message_id: int, fingerprint: str
    ) -> None:
        """The code card of a group session went to the teacher privately: keep it fresh."""
        await self._cards.attach_code_card(
            session.id,
            chat_id=chat_id,
            message_id=message_id,
            fingerprint=fingerprint,
            now=self._clock.now(),
        )

    async def card_states(self) -> list[CardState]:
        """Every card to keep fresh, with what it should show now."""
        return await self._cards.card_states(1000)

    def now(self) -> datetime:
        """The services' clock (cards show time left by it)."""
        return self._clock.now()

    async def may_edit_card(
        self, session_id: str, fingerprint: str, interval_s: float, card: str = "card"
    ) -> str | None:
        """The previous fingerprint, for exactly one process, when the card's content changed
        and its last edit is at least `interval_s` old; otherwise None. `card` is "card" or
        "code_card" (a group session's private code card).

        A new code is not paced by `interval_s` (which spaces count and time changes): the
        rotation minimum assumes the projector shows a new code at once. Only a refused edit's
        retry time (`card_edit_failed`) holds it back.
        """
        answer, previous = await self._cards.claim_card_edit(
            session_id,
            now=self._clock.now(),
            min_interval_s=interval_s,
            fingerprint=fingerprint,
            card=card,
        )
        return previous if answer == "edit" else None

    async def card_edit_failed(
        self,
        session_id: str,
        previous: str,
        *,
        card: str = "card",
        claimed: str = "",
        retry_after: float = 0.0,
    ) -> None:
        """Telegram refused the edit `may_edit_card` allowed (the render `claimed`): the card
        still shows `previous`, so a later refresh tries again instead of believing the card
        current, which would leave an old code and QR on the projector. Not before
        `retry_after` seconds (a flood wait), nor within a second (Telegram's pace for one
        chat), so an edit refused for good is not fired at every check-in."""
        retry_at = self._clock.now() + timedelta(seconds=max(retry_after, 1.0))
        await self._cards.release_card_edit(
            session_id, card=card, claimed=claimed, previous=previous, retry_at=retry_at
        )

    async def card_done(self, session_id: str, card: str | None = None) -> None:
        """Stop refreshing the session's `card` ("card" or "code_card"): it shows its final
        state, or Telegram will not let the bot edit it any more (deleted, the bot removed
        from the group, the teacher blocked it). The session's other card stays fresh. With
        no `card`, every card of the session is let go."""
        if card is None:
            await self._cards.drop_card(session_id)
        else:
            await self._cards.drop_one_card(session_id, card=card)

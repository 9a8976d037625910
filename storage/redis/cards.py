"""Where each open session's live card (and private code card) is, what it shows, and who may
edit it when (`claim_card_edit.lua`, `release_card_edit.lua`, `drop_one_card.lua`); the card
index `keys.card_index`. Implements `CardStore`."""

from __future__ import annotations

from datetime import datetime

from redis.typing import EncodableT, FieldT

from services.clock import to_ms
from services.models import CardState
from storage.redis import keys
from storage.redis.codec import session_from, text, texts
from storage.redis.errors import redis_guard
from storage.redis.scripts import Scripts


class RedisCardStore:
    """Card positions, fingerprints and edit claims, shared by every bot process."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts
        self._redis = scripts.redis

    async def attach_card(
        self, session_id: str, *, chat_id: int, message_id: int, fingerprint: str, now: datetime
    ) -> None:
        """Remember where the session's card is (and what it shows), to keep it fresh."""
        await self._attach(
            session_id,
            {
                "card_chat": chat_id,
                "card_msg": message_id,
                "card_render": fingerprint,
                "card_edited": to_ms(now),
            },
        )

    async def attach_code_card(
        self, session_id: str, *, chat_id: int, message_id: int, fingerprint: str, now: datetime
    ) -> None:
        """Remember the teacher's private code card of a group session (kept fresh too)."""
        await self._attach(
            session_id,
            {
                "code_card_chat": chat_id,
                "code_card_msg": message_id,
                "code_card_render": fingerprint,
                "code_card_edited": to_ms(now),
            },
        )

    async def _attach(self, session_id: str, fields: dict[FieldT, EncodableT]) -> None:
        """Write the card's fields, then index the session by its end (if it exists)."""
        async with redis_guard():
            await self._redis.hset(keys.session(session_id), mapping=fields)
            stored = await self._redis.hgetall(keys.session(session_id))
            if stored:
                session = session_from(texts(stored))
                await self._redis.zadd(keys.card_index(), {session_id: to_ms(session.ends_at)})

    async def card_states(self, limit: int) -> list[CardState]:
        """Every session with a card to keep fresh, with its check-in count; one batch."""
        async with redis_guard():
            ids = [text(i) for i in await self._redis.zrange(keys.card_index(), 0, limit - 1)]
            if not ids:
                return []
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.hgetall(keys.session(session_id))
                    pipe.hlen(keys.session_checkins(session_id))
                replies = await pipe.execute()
        states = []
        for i, session_id in enumerate(ids):
            fields, count = replies[2 * i], replies[2 * i + 1]
            if not fields:
                await self.drop_card(session_id)
                continue
            values = texts(fields)
            session = session_from(values)
            states.append(
                CardState(
                    session,
                    int(count),
                    card_live=values.get("card_off") != "1",
                    code_card_live=values.get("code_card_off") != "1",
                )
            )
        return states

    async def claim_card_edit(
        self,
        session_id: str,
        *,
        now: datetime,
        min_interval_s: float,
        fingerprint: str,
        card: str = "card",
    ) -> tuple[str, str]:
        """('edit', previous fingerprint) when this process may edit the card now; `card`
        names which of the session's cards ("card", or "code_card" for a group session's
        private code card)."""
        async with redis_guard():
            answer, previous = await self._scripts.claim_card_edit(
                keys=[keys.session(session_id)],
                args=[to_ms(now), int(min_interval_s * 1000), fingerprint, card],
            )
        return text(answer), text(previous)

    async def release_card_edit(
        self, session_id: str, *, card: str, claimed: str, previous: str, retry_at: datetime
    ) -> None:
        """Telegram refused the edit `claim_card_edit` allowed: the card shows `previous`
        again (unless another process claimed a newer render meanwhile), and is not edited
        before `retry_at`."""
        async with redis_guard():
            await self._scripts.release_card_edit(
                keys=[keys.session(session_id)],
                args=[card, claimed, previous, to_ms(retry_at)],
            )

    async def drop_card(self, session_id: str) -> None:
        async with redis_guard():
            await self._redis.zrem(keys.card_index(), session_id)

    async def drop_one_card(self, session_id: str, *, card: str) -> None:
        """Stop keeping one of the session's cards fresh ("card" or "code_card"); the session
        leaves the card index only when it has no other card left."""
        async with redis_guard():
            none_left = await self._scripts.drop_one_card(
                keys=[keys.session(session_id)], args=[card]
            )
            if int(none_left):
                await self._redis.zrem(keys.card_index(), session_id)

    async def claim_group_pointer(self, chat_id: int, *, seconds: int) -> bool:
        """True for the first caller (any process) in `seconds`: one SET NX EX decides."""
        async with redis_guard():
            claimed = await self._redis.set(keys.group_pointer(chat_id), "1", nx=True, ex=seconds)
        return bool(claimed)

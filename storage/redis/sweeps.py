"""Handing finished sessions over to the records exactly once: the due index
(`keys.due_index`), the seal and lease (`claim_sweep.lua`), and the removal of a saved
session's keys (`finish_sweep_whole.lua`; `finish_sweep.lua` on a cluster). Implements
`SweepStore`."""

from __future__ import annotations

import secrets
from datetime import datetime

from services.clock import to_ms
from services.models import AttendanceStatus
from services.ports.values import SweepClaim
from storage.redis import keys
from storage.redis.codec import checkins_from, pairs, session_from, text
from storage.redis.codes import CodeRoutes
from storage.redis.errors import redis_guard
from storage.redis.scripts import Scripts


class RedisSweepStore:
    """Finished sessions: found, sealed and leased, then let go once saved."""

    def __init__(self, scripts: Scripts, routes: CodeRoutes) -> None:
        self._scripts = scripts
        self._redis = scripts.redis
        self._routes = routes

    async def due_sessions(self, now: datetime, limit: int) -> list[str]:
        async with redis_guard():
            ids = await self._redis.zrangebyscore(
                keys.due_index(), "-inf", to_ms(now), start=0, num=limit
            )
        return [text(i) for i in ids]

    async def claim_for_sweep(
        self, session_id: str, now: datetime, lease_seconds: float
    ) -> SweepClaim | None:
        """Seal and lease an ended session; None if it is not due, busy or already gone."""
        token = secrets.token_hex(8)
        until = to_ms(now) + int(lease_seconds * 1000)
        async with redis_guard():
            reply = await self._scripts.claim_sweep(
                keys=keys.session_keys(session_id), args=[to_ms(now), token, until]
            )
            outcome = text(reply[0])
            if outcome == "gone":
                await self._redis.zrem(keys.due_index(), session_id)
        if outcome != "claimed":
            return None
        session = session_from(pairs(reply[1]))
        checkins = checkins_from(session_id, reply[2])
        roster = [int(text(m)) for m in reply[3]]
        marks = {int(k): AttendanceStatus(v) for k, v in pairs(reply[4]).items()}
        codes = [text(c) for c in reply[5]]
        return SweepClaim(
            session, checkins, token, roster=roster, marks=marks, codes=codes, attempt=int(reply[6])
        )

    async def release_sweep(self, session_id: str, *, token: str) -> None:
        async with redis_guard():
            await self._scripts.release_sweep(keys=[keys.session(session_id)], args=[token])

    async def finish_sweep(self, claim: SweepClaim) -> bool:
        """Remove a persisted session's keys: code route, session keys, index entry, slot.

        One script on a single server (`finish_sweep_whole.lua`); on a cluster, whose keys
        sit on different slots, the same steps one by one.
        """
        session = claim.session
        codes = list(set(claim.codes) | {session.code})
        async with redis_guard():
            if self._scripts.cluster:
                deleted = await self._finish_on_cluster(claim, codes)
            else:
                deleted = int(
                    await self._scripts.finish_sweep_whole(
                        keys=[
                            *keys.session_keys(session.id),
                            keys.due_index(),
                            keys.card_index(),
                            keys.rotation_index(),
                            keys.teacher_slot(session.teacher_id),
                            *(keys.code(code) for code in codes),
                        ],
                        args=[claim.token, session.id],
                    )
                )
        for code in codes:
            self._routes.forget(code)
        return deleted == 1

    async def _finish_on_cluster(self, claim: SweepClaim, codes: list[str]) -> int:
        session = claim.session
        # Code routes first: a route left behind by a crash only blocks its code until
        # the safety TTL, never misroutes (the session keys are checked by every script).
        # GETs in a pipeline, not MGET: the code keys sit on different cluster slots.
        async with self._redis.pipeline(transaction=False) as pipe:
            for code in codes:
                pipe.get(keys.code(code))
            routes = await pipe.execute()
        for code, sid in zip(codes, routes, strict=True):
            if sid == session.id.encode():
                await self._redis.delete(keys.code(code))
        deleted = int(
            await self._scripts.finish_sweep(keys=keys.session_keys(session.id), args=[claim.token])
        )
        if deleted == 1:
            await self._redis.zrem(keys.due_index(), session.id)
            await self._redis.zrem(keys.card_index(), session.id)
            await self._redis.zrem(keys.rotation_index(), session.id)
            await self._scripts.release_teacher_slot(
                keys=[keys.teacher_slot(session.teacher_id)], args=[session.id]
            )
        return deleted

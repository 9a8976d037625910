"""Open sessions in Redis: their hash, roster, code route, index entries and the teacher's
one-open-session slot (`claim_teacher_slot.lua` and friends). Implements `LiveSessionStore`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.clock import from_ms, to_ms
from services.models import Session
from services.numbers import NumberOutOfRange
from storage.redis import keys
from storage.redis.codec import session_fields, session_from, text, texts
from storage.redis.codes import CodeRoutes
from storage.redis.errors import redis_guard
from storage.redis.scripts import Scripts


class RedisSessionStore:
    """A session from its start to its end. Works on one server or on Redis Cluster."""

    def __init__(self, scripts: Scripts, routes: CodeRoutes) -> None:
        self._scripts = scripts
        self._redis = scripts.redis
        self._routes = routes

    async def claim_teacher_slot(
        self, session: Session, now: datetime, replace: str = ""
    ) -> str | None:
        """Take the teacher's slot for `session` in one atomic step; None when taken, else
        the slot's value ("<session id> <ends ms> [<claimed ms>]"). `replace` names a holder
        value the caller found stale: only that exact value is taken over."""
        async with redis_guard():
            holder = await self._scripts.claim_teacher_slot(
                keys=[keys.teacher_slot(session.teacher_id)],
                args=[session.id, to_ms(session.ends_at), to_ms(now), replace],
            )
        return text(holder) if holder else None

    async def release_teacher_slot(self, teacher_id: int, session_id: str) -> None:
        async with redis_guard():
            await self._scripts.release_teacher_slot(
                keys=[keys.teacher_slot(teacher_id)], args=[session_id]
            )

    async def teacher_current_session(self, teacher_id: int) -> str | None:
        async with redis_guard():
            value = await self._redis.get(keys.teacher_slot(teacher_id))
        return text(value).split(" ", 1)[0] if value else None

    async def create_session(self, session: Session, roster: Sequence[int] = ()) -> bool:
        """Store a new session (and its roster); False when its code is taken by a live session."""
        ttl = keys.SESSION_SAFETY_TTL
        async with redis_guard():
            taken = await self._redis.set(keys.code(session.code), session.id, nx=True, ex=ttl)
            if not taken:
                return False
            async with self._redis.pipeline(transaction=True) as pipe:
                # One MULTI on one hash slot: the session never exists without its roster.
                pipe.hset(keys.session(session.id), mapping=session_fields(session))
                pipe.expire(keys.session(session.id), ttl)
                if roster:
                    pipe.sadd(keys.session_roster(session.id), *roster)
                    pipe.expire(keys.session_roster(session.id), ttl)
                pipe.sadd(keys.session_codes(session.id), session.code)
                pipe.expire(keys.session_codes(session.id), ttl)
                await pipe.execute()
            await self._redis.zadd(keys.due_index(), {session.id: to_ms(session.ends_at)})
            if session.rotation_seconds > 0:
                due = to_ms(session.started_at) + session.rotation_seconds * 1000
                await self._redis.zadd(keys.rotation_index(), {session.id: due})
        return True

    async def discard_session(self, session: Session) -> None:
        """Remove a session that was never shown to anyone: its keys, its code route, its
        index entries and the teacher's slot (if it still names it). Nothing is persisted."""
        async with redis_guard():
            route = await self._redis.get(keys.code(session.code))
            if route is not None and text(route) == session.id:
                await self._redis.delete(keys.code(session.code))
            await self._redis.delete(*keys.session_keys(session.id))
            await self._redis.zrem(keys.due_index(), session.id)
            await self._redis.zrem(keys.card_index(), session.id)
            await self._redis.zrem(keys.rotation_index(), session.id)
            await self._scripts.release_teacher_slot(
                keys=[keys.teacher_slot(session.teacher_id)], args=[session.id]
            )
        self._routes.forget(session.code)

    async def session(self, session_id: str) -> Session | None:
        async with redis_guard():
            fields = await self._redis.hgetall(keys.session(session_id))
        if not fields:
            return None
        return session_from(texts(fields))

    async def set_anchor(self, session_id: str, *, latitude: float, longitude: float) -> bool:
        """Store where the classroom is for a live location-checked session (deleted with the
        session at the sweep; never written to PostgreSQL)."""
        async with redis_guard():
            if not await self._redis.hexists(keys.session(session_id), "geo"):
                return False
            await self._redis.hset(
                keys.session(session_id), "anchor", f"{latitude:.5f},{longitude:.5f}"
            )
        return True

    async def extend_session(self, session_id: str, now: datetime, seconds: int) -> datetime | None:
        """Move an open session's end; None when it is not open any more.

        Raises:
            NumberOutOfRange: the session would last longer than `keys.MAX_SESSION_SECONDS`
                (its range names the minutes still allowed).
        """
        async with redis_guard():
            raw_ends, left_ms = await self._scripts.extend_session(
                keys=[keys.session(session_id)],
                args=[to_ms(now), seconds * 1000, keys.MAX_SESSION_SECONDS * 1000],
            )
            ends = int(raw_ends)
            if ends < 0:
                raise NumberOutOfRange("extend_minutes", "range", 1, int(left_ms) // 60_000)
            if not ends:
                return None
            await self._redis.zadd(keys.due_index(), {session_id: ends})
            if await self._redis.zscore(keys.card_index(), session_id) is not None:
                await self._redis.zadd(keys.card_index(), {session_id: ends})
            teacher = await self._redis.hget(keys.session(session_id), "teacher_id")
            if teacher is not None:
                await self._scripts.extend_teacher_slot(
                    keys=[keys.teacher_slot(int(teacher))], args=[session_id, ends]
                )
        return from_ms(ends)

    async def end_session(self, session_id: str, now: datetime) -> bool:
        """End the session now; False when it had already ended."""
        async with redis_guard():
            ended = await self._scripts.end_session(
                keys=[keys.session(session_id)], args=[to_ms(now)]
            )
            if int(ended) == 1:
                await self._redis.zadd(keys.due_index(), {session_id: to_ms(now)})
        return int(ended) == 1

    async def add_to_roster(self, session_id: str, student_id: int) -> None:
        """A student who joins the course during its live session may check in at once (and
        the card's roster size counts them)."""
        async with redis_guard():
            await self._scripts.join_roster(
                keys=[keys.session(session_id), keys.session_roster(session_id)],
                args=[student_id],
            )

    async def remove_from_roster(self, session_id: str, student_id: int) -> bool:
        """A student removed from the course or leaving it during its live session: off the
        roster (no check-in, not missing, no absent row); a check-in already made stays."""
        async with redis_guard():
            removed = await self._scripts.leave_roster(
                keys=[
                    keys.session(session_id),
                    keys.session_checkins(session_id),
                    keys.session_roster(session_id),
                    keys.session_marks(session_id),
                ],
                args=[student_id],
            )
        return int(removed) == 1

    async def roster(self, session_id: str) -> set[int]:
        async with redis_guard():
            members = await self._redis.smembers(keys.session_roster(session_id))
        return {int(text(m)) for m in members}

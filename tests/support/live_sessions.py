"""Reading live sessions straight from Redis, for assertions about what is stored."""

from __future__ import annotations

from redis.asyncio import Redis


async def open_sessions_of(redis: Redis, teacher_id: int) -> list[str]:
    """Ids of every session hash in Redis that belongs to the teacher and is open."""
    found = []
    async for raw in redis.scan_iter(match="attn:s:{*}", count=1000):
        key = raw.decode()
        if not key.endswith("}"):
            continue  # a session's check-ins, roster, codes...
        teacher, state = await redis.hmget(key, "teacher_id", "state")
        if teacher == str(teacher_id).encode() and state == b"open":
            found.append(key)
    return found

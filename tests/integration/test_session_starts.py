"""One open session per teacher, whatever arrives at once (real Redis).

Twenty starts of one teacher at the same moment, and twenty that all find the teacher's slot
naming a session that is already over: each time exactly one session opens, the others are
told about it, and /end_session then ends the only one.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot.container import Services
from services.clock import ManualClock
from services.errors import SessionAlreadyOpen
from services.models import Session
from tests.conftest import TEACHER_ID
from tests.support.live_sessions import open_sessions_of


async def start_many(services: Services, count: int) -> tuple[list[Session], list[BaseException]]:
    results = await asyncio.gather(
        *(
            services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, f"Try {i}")
            for i in range(count)
        ),
        return_exceptions=True,
    )
    opened = [r for r in results if isinstance(r, Session)]
    refused = [r for r in results if isinstance(r, BaseException)]
    return opened, refused


async def test_twenty_concurrent_starts_open_exactly_one_session(
    services: Services, clean_redis: Redis, clock: ManualClock
) -> None:
    for _ in range(5):
        opened, refused = await start_many(services, 20)
        assert len(opened) == 1, refused
        assert all(isinstance(e, SessionAlreadyOpen) for e in refused), refused
        # The losers name the winner (they waited for it to be stored), never a phantom.
        assert {e.session.id for e in refused if e.session is not None} == {opened[0].id}  # type: ignore[attr-defined]
        assert await open_sessions_of(clean_redis, TEACHER_ID) == [f"attn:s:{{{opened[0].id}}}"]
        ended = await services.sessions.end_session(TEACHER_ID)
        assert ended.id == opened[0].id
        assert await open_sessions_of(clean_redis, TEACHER_ID) == []
        clock.advance(seconds=1)


async def test_a_stale_slot_is_taken_over_by_exactly_one_start(
    services: Services, clean_redis: Redis, clock: ManualClock
) -> None:
    """The race behind "7 times in 10": the slot names a session that is over (ended, the
    slot not yet freed), and every concurrent start sees it as stale at once."""
    for _ in range(5):
        first = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "Old")
        assert await services.live.sessions.end_session(first.id, clock.now())  # slot left behind
        clock.advance(seconds=1)
        opened, refused = await start_many(services, 20)
        assert len(opened) == 1, refused
        assert all(isinstance(e, SessionAlreadyOpen) for e in refused), refused
        assert await open_sessions_of(clean_redis, TEACHER_ID) == [f"attn:s:{{{opened[0].id}}}"]
        await services.sessions.end_session(TEACHER_ID)
        clock.advance(seconds=1)


async def test_a_start_that_died_half_way_blocks_only_briefly(
    services: Services, clean_redis: Redis, clock: ManualClock
) -> None:
    """A process that claimed the slot and died before storing its session: a start right
    after is told a session is being opened; 30 s later the slot is taken over."""
    from dataclasses import replace

    template = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "Real")
    await services.sessions.end_session(TEACHER_ID)
    ghost = replace(template, id="0123456789ab", started_at=clock.now())
    assert await services.live.sessions.claim_teacher_slot(ghost, clock.now()) is None
    refused = await start_many(services, 1)
    assert not refused[0] and isinstance(refused[1][0], SessionAlreadyOpen)
    assert refused[1][0].session is None  # type: ignore[attr-defined]
    clock.advance(seconds=31)
    opened, _ = await start_many(services, 3)
    assert len(opened) == 1
    assert len(await open_sessions_of(clean_redis, TEACHER_ID)) == 1


async def test_the_slot_follows_an_extension_only_while_it_names_that_session(
    services: Services, clean_redis: Redis, clock: ManualClock
) -> None:
    """The slot is updated by compare-and-set in one step: an extension keeps its claim time,
    and "+5" on an old card racing with End and a new start never takes the new slot."""
    slot_key = f"attn:t:{{{TEACHER_ID}}}"
    old = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "Old")
    claimed = (await clean_redis.get(slot_key)).decode().split()[2]
    ends = await services.live.sessions.extend_session(old.id, clock.now(), 300)
    assert ends is not None
    assert (await clean_redis.get(slot_key)).decode().split() == [
        old.id,
        str(int(ends.timestamp() * 1000)),
        claimed,
    ]
    await services.sessions.end_session(TEACHER_ID)
    new = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "New")
    # "+5" judged while the old session was still open, landing after End and the new start:
    later = int(clock.now().timestamp() * 1000) + 60_000
    await clean_redis.hset(f"attn:s:{{{old.id}}}", mapping={"state": "open", "ends_at": later})
    assert await services.live.sessions.extend_session(old.id, clock.now(), 300) is not None
    assert (await clean_redis.get(slot_key)).decode().split()[0] == new.id

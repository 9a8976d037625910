"""The Redis live store, one class per narrow port: each satisfies its port (checked by mypy,
which CI runs on this file), `redis_live_stores` fills the whole bundle, and a check-in makes
the round trip on fakeredis (the in-memory live store of the fast test loop)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fakeredis
import pytest

import storage.redis
from services.models import CheckInOutcome, Session
from services.ports import (
    ApiRequestBudget,
    CardStore,
    ChatStateStore,
    CheckInStore,
    CodeStore,
    LiveSessionStore,
    LiveStores,
    ProfileCache,
    ProjectorStore,
    SendPacer,
    SweepStore,
)
from services.ports.values import GuessLimit
from storage.redis import keys, redis_live_stores
from storage.redis.api_budget import RedisApiBudget
from storage.redis.cards import RedisCardStore
from storage.redis.chat_state import RedisChatStateStore
from storage.redis.checkins import RedisCheckInStore
from storage.redis.codes import CodeRoutes, RedisCodeStore
from storage.redis.pacing import RedisSendPacer
from storage.redis.profiles import RedisProfileCache
from storage.redis.projector import RedisProjectorStore
from storage.redis.scripts import Scripts
from storage.redis.sessions import RedisSessionStore
from storage.redis.sweeps import RedisSweepStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MAX_MODULE_LINES = 400


def each_port(scripts: Scripts) -> list[object]:
    """One store of every class, each held by its port's type: mypy rejects a class that
    stops satisfying its port (a missing method, a changed signature)."""
    routes = CodeRoutes(scripts)
    sessions: LiveSessionStore = RedisSessionStore(scripts, routes)
    checkins: CheckInStore = RedisCheckInStore(scripts, routes)
    codes: CodeStore = RedisCodeStore(scripts)
    cards: CardStore = RedisCardStore(scripts)
    sweeps: SweepStore = RedisSweepStore(scripts, routes)
    profiles: ProfileCache = RedisProfileCache(scripts)
    chat_state: ChatStateStore = RedisChatStateStore(scripts)
    pacer: SendPacer = RedisSendPacer(scripts)
    api_budget: ApiRequestBudget = RedisApiBudget(scripts)
    projector: ProjectorStore = RedisProjectorStore(scripts)
    return [
        sessions,
        checkins,
        codes,
        cards,
        sweeps,
        profiles,
        chat_state,
        pacer,
        api_budget,
        projector,
    ]


def test_every_port_has_its_class() -> None:
    stores = each_port(Scripts(fakeredis.FakeAsyncRedis()))
    assert len({type(store) for store in stores}) == len(dataclasses.fields(LiveStores))


async def test_redis_live_stores_fills_every_field_and_loads_the_scripts() -> None:
    client = fakeredis.FakeAsyncRedis()
    stores = await redis_live_stores(client)
    for field in dataclasses.fields(LiveStores):
        assert getattr(stores, field.name) is not None, field.name
    assert len({id(getattr(stores, f.name)) for f in dataclasses.fields(LiveStores)}) == 10
    sha = Scripts(client).check_in.sha
    assert await client.script_exists(sha) == [True]
    await client.aclose()


async def test_check_in_round_trip_on_fakeredis() -> None:
    client = fakeredis.FakeAsyncRedis()
    stores = await redis_live_stores(client)
    session = Session(
        id="s1",
        teacher_id=1001,
        chat_id=1001,
        title="Algebra",
        code="K7M2QA",
        started_at=NOW,
        ends_at=NOW + timedelta(minutes=10),
    )
    assert await stores.sessions.create_session(session)
    guard = GuessLimit(window_seconds=60, limit=3, lock_seconds=300)

    first = await stores.checkins.check_in("K7M2QA", 42, NOW + timedelta(seconds=5), guard=guard)
    again = await stores.checkins.check_in("K7M2QA", 42, NOW + timedelta(seconds=6))
    wrong = await stores.checkins.check_in("ZZZZZZ", 43, NOW, guard=guard)

    assert first.outcome is CheckInOutcome.RECORDED
    assert (first.session_id, first.session_title, first.checked_in_count) == ("s1", "Algebra", 1)
    assert first.checked_in_at == NOW + timedelta(seconds=5)
    assert again.outcome is CheckInOutcome.DUPLICATE
    assert wrong.outcome is CheckInOutcome.WRONG_CODE
    assert list(await stores.checkins.checked_in("s1")) == [42]
    assert await stores.checkins.checkin_count("s1") == 1
    assert await stores.sessions.end_session("s1", NOW + timedelta(minutes=1))
    claim = await stores.sweeps.claim_for_sweep("s1", NOW + timedelta(minutes=1), 30)
    assert claim is not None and [c.student_id for c in claim.checkins] == [42]
    assert await stores.sweeps.finish_sweep(claim)
    gone = await stores.checkins.check_in("K7M2QA", 44, NOW + timedelta(minutes=2))
    assert gone.outcome is CheckInOutcome.WRONG_CODE  # the route was forgotten with the session
    await client.aclose()


async def test_wrong_codes_in_the_same_millisecond_each_count_towards_the_lock() -> None:
    client = fakeredis.FakeAsyncRedis()
    stores = await redis_live_stores(client)
    session = Session(
        id="s1",
        teacher_id=1001,
        chat_id=1001,
        title="Algebra",
        code="K7M2QA",
        started_at=NOW,
        ends_at=NOW + timedelta(minutes=10),
    )
    assert await stores.sessions.create_session(session)
    guard = GuessLimit(window_seconds=60, limit=3, lock_seconds=300)
    at = NOW + timedelta(seconds=5)

    verdicts = [
        (await stores.checkins.check_in("ZZZZZZ", 43, at, session_id="s1", guard=guard)).outcome
        for _ in range(3)
    ]
    right = await stores.checkins.check_in("K7M2QA", 43, at, guard=guard)

    assert verdicts == [CheckInOutcome.WRONG_CODE] * 2 + [CheckInOutcome.LOCKED_OUT]
    assert right.outcome is CheckInOutcome.LOCKED_OUT
    assert await stores.checkins.checkin_count("s1") == 0
    await client.aclose()


async def test_a_stale_code_route_is_looked_up_once_for_all_check_ins_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = fakeredis.FakeAsyncRedis()
    await client.set(keys.code("K7M2QA"), "s1")
    routes = CodeRoutes(Scripts(client))
    lookups = 0
    get = client.get

    async def slow_get(name: str) -> bytes | str | None:
        nonlocal lookups
        lookups += 1
        await asyncio.sleep(0)  # the reply takes a moment: other check-ins run meanwhile
        return await get(name)

    monkeypatch.setattr(client, "get", slow_get)
    clock = [1000.0]
    monkeypatch.setattr("storage.redis.codes.time.monotonic", lambda: clock[0])
    assert await routes.resolve("K7M2QA", False) == "s1"
    clock[0] += 60  # the route has gone stale

    found = await asyncio.gather(*(routes.resolve("K7M2QA", False) for _ in range(50)))

    assert found == ["s1"] * 50
    assert lookups == 2
    await client.aclose()


async def test_a_new_code_is_looked_up_once_for_all_check_ins_arriving_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = fakeredis.FakeAsyncRedis()
    await client.set(keys.code("K7M2QA"), "s1")
    routes = CodeRoutes(Scripts(client))
    lookups = 0
    get = client.get

    async def slow_get(name: str) -> bytes | str | None:
        nonlocal lookups
        lookups += 1
        await asyncio.sleep(0)
        return await get(name)

    monkeypatch.setattr(client, "get", slow_get)

    found = await asyncio.gather(*(routes.resolve("K7M2QA", False) for _ in range(50)))
    unknown = await asyncio.gather(*(routes.resolve("ZZZZZZ", False) for _ in range(5)))

    assert found == ["s1"] * 50
    assert unknown == [None] * 5
    assert lookups == 2
    await client.aclose()


async def test_a_failed_lookup_fails_every_check_in_that_shared_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = fakeredis.FakeAsyncRedis()
    routes = CodeRoutes(Scripts(client))

    async def broken_get(name: str) -> bytes | None:
        await asyncio.sleep(0)
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(client, "get", broken_get)

    results = await asyncio.gather(
        *(routes.resolve("K7M2QA", False) for _ in range(3)), return_exceptions=True
    )

    assert [type(r) for r in results] == [ConnectionError] * 3
    await client.aclose()


def test_no_module_of_the_redis_store_is_over_400_lines() -> None:
    package = Path(storage.redis.__file__).parent
    sizes = {p.name: len(p.read_text("utf-8").splitlines()) for p in package.glob("*.py")}
    assert len(sizes) >= 8
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}

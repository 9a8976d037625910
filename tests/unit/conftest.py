"""Unit fixtures: the real Redis stores on fakeredis (no I/O) and in-memory records."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import fakeredis
import pytest

from services.checkins import CheckInService
from services.clock import ManualClock
from services.courier import OutboxCourier
from services.ports import LiveStores
from services.roles import RoleService
from services.sessions import SessionService
from services.sweeps import AttendanceSweeper
from services.users import UserService
from storage.redis import build_live_stores
from storage.redis.scripts import Scripts
from tests.conftest import TEACHER_ID
from tests.unit.fakes import InMemoryRecordStore, RecordingNotifier


@pytest.fixture
async def fake_redis() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    client = fakeredis.FakeAsyncRedis()
    yield client
    await client.aclose()


@pytest.fixture
def live(fake_redis: fakeredis.FakeAsyncRedis) -> LiveStores:
    """Every live port on fakeredis (scripts load themselves on first use)."""
    return build_live_stores(Scripts(fake_redis))


@pytest.fixture
def records() -> InMemoryRecordStore:
    return InMemoryRecordStore()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


def sequential_codes(prefix: str = "K7M2Q") -> object:
    """Codes K7M2QA, K7M2QB, ... so tests know every code in advance."""
    letters = itertools.cycle("ABCDEFGHJKMNPQRSTUVWXYZ")
    return lambda length: prefix + next(letters)


def make_sweeper(
    live: LiveStores, records: InMemoryRecordStore, clock: ManualClock, lease_seconds: float
) -> AttendanceSweeper:
    """A sweeper (and its courier) on fakeredis and the partial in-memory records."""
    courier = OutboxCourier(
        summaries=records,  # type: ignore[arg-type]
        nudges=records,  # type: ignore[arg-type]
        reachability=records,  # type: ignore[arg-type]
        clock=clock,
        lease_seconds=lease_seconds,
    )
    return AttendanceSweeper(
        sweeps=live.sweeps,
        profiles=live.profiles,
        session_records=records,  # type: ignore[arg-type]
        users=records,  # type: ignore[arg-type]
        courier=courier,
        clock=clock,
        lease_seconds=lease_seconds,
    )


@pytest.fixture
def sessions(live: LiveStores, records: InMemoryRecordStore, clock: ManualClock) -> SessionService:
    roles = RoleService([TEACHER_ID, TEACHER_ID + 1], [])
    return SessionService(
        sessions=live.sessions,
        chat_state=live.chat_state,
        courses=records,  # type: ignore[arg-type]
        roles=roles,
        clock=clock,
        default_minutes=10,
        code_generator=sequential_codes(),  # type: ignore[arg-type]
    )


@pytest.fixture
def checkins(
    live: LiveStores, records: InMemoryRecordStore, sessions: SessionService, clock: ManualClock
) -> CheckInService:
    return CheckInService(
        sessions=live.sessions,
        checkins=live.checkins,
        profiles=live.profiles,
        users=records,  # type: ignore[arg-type]
        courses=records,  # type: ignore[arg-type]
        lifecycle=sessions,
        clock=clock,
    )


@pytest.fixture
def users(live: LiveStores, records: InMemoryRecordStore, clock: ManualClock) -> UserService:
    return UserService(
        profiles=live.profiles,
        chat_state=live.chat_state,
        cards=live.cards,
        users=records,  # type: ignore[arg-type]
        clock=clock,
        idle_minutes=30,
    )


@pytest.fixture
def sweeper(
    live: LiveStores, records: InMemoryRecordStore, clock: ManualClock
) -> AttendanceSweeper:
    return make_sweeper(live, records, clock, lease_seconds=30)

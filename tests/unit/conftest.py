"""Unit fixtures: the real Redis store on fakeredis (no I/O) and in-memory records."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import fakeredis
import pytest

from services.clock import ManualClock
from services.roles import RoleService
from services.sessions import SessionService
from services.sweeps import AttendanceSweeper
from services.users import UserService
from storage.redis.legacy import LegacyLiveStore
from tests.conftest import TEACHER_ID
from tests.unit.fakes import InMemoryRecordStore, RecordingNotifier


@pytest.fixture
async def live() -> AsyncIterator[LegacyLiveStore]:
    client = fakeredis.FakeAsyncRedis()
    yield LegacyLiveStore(client)
    await client.aclose()


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


@pytest.fixture
def sessions(
    live: LegacyLiveStore, records: InMemoryRecordStore, clock: ManualClock
) -> SessionService:
    roles = RoleService([TEACHER_ID, TEACHER_ID + 1], [])
    return SessionService(
        live,
        records,  # type: ignore[arg-type]
        roles,
        clock,
        10,
        code_generator=sequential_codes(),  # type: ignore[arg-type]
    )


@pytest.fixture
def users(live: LegacyLiveStore, records: InMemoryRecordStore, clock: ManualClock) -> UserService:
    return UserService(live, records, clock, idle_minutes=30)


@pytest.fixture
def sweeper(
    live: LegacyLiveStore, records: InMemoryRecordStore, clock: ManualClock
) -> AttendanceSweeper:
    return AttendanceSweeper(live, records, clock, lease_seconds=30)

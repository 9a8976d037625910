"""Unit fixtures: the real Redis stores on fakeredis (no I/O) and the in-memory record stores
of tests/fakes/memory (the ones tests/contract holds to PostgreSQL's behaviour)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import fakeredis
import pytest

from services.checkins import CheckInService
from services.clock import ManualClock
from services.codes import CodeGenerator
from services.courier import OutboxCourier
from services.course_access import CourseAccess
from services.ports import LiveStores, RecordStores
from services.roles import RoleService
from services.sessions import SessionService
from services.sweeps import AttendanceSweeper
from services.users import UserService
from storage.redis import build_live_stores
from storage.redis.scripts import Scripts
from tests.conftest import TEACHER_ID
from tests.fakes.memory import MemoryDatabase, memory_record_stores
from tests.unit.fakes import RecordingNotifier


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
def database() -> MemoryDatabase:
    """The tables behind `records`, for tests to read (or to switch off: `available`)."""
    return MemoryDatabase()


@pytest.fixture
def records(database: MemoryDatabase) -> RecordStores:
    """Every record port, in memory."""
    return memory_record_stores(database)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


def sequential_codes(prefix: str = "K7M2Q") -> CodeGenerator:
    """Codes K7M2QA, K7M2QB, ... so tests know every code in advance."""
    letters = itertools.cycle("ABCDEFGHJKMNPQRSTUVWXYZ")
    return lambda length: prefix + next(letters)


def make_sweeper(
    live: LiveStores, records: RecordStores, clock: ManualClock, lease_seconds: float
) -> AttendanceSweeper:
    """A sweeper (and its courier) on fakeredis and the in-memory records."""
    courier = OutboxCourier(
        summaries=records.summaries,
        nudges=records.nudges,
        reachability=records.reachability,
        clock=clock,
        lease_seconds=lease_seconds,
    )
    return AttendanceSweeper(
        sweeps=live.sweeps,
        profiles=live.profiles,
        session_records=records.sessions,
        users=records.users,
        courier=courier,
        clock=clock,
        lease_seconds=lease_seconds,
    )


@pytest.fixture
def sessions(live: LiveStores, records: RecordStores, clock: ManualClock) -> SessionService:
    roles = RoleService([TEACHER_ID, TEACHER_ID + 1], [])
    return SessionService(
        sessions=live.sessions,
        chat_state=live.chat_state,
        courses=records.courses,
        roles=roles,
        access=CourseAccess(courses=records.courses, staff=records.staff, roles=roles),
        clock=clock,
        default_minutes=10,
        code_generator=sequential_codes(),
    )


@pytest.fixture
def checkins(
    live: LiveStores,
    records: RecordStores,
    sessions: SessionService,
    users: UserService,
    clock: ManualClock,
) -> CheckInService:
    return CheckInService(
        sessions=live.sessions,
        checkins=live.checkins,
        profiles=live.profiles,
        users=records.users,
        courses=records.courses,
        lifecycle=sessions,
        clock=clock,
        visitors=users,
    )


@pytest.fixture
def users(live: LiveStores, records: RecordStores, clock: ManualClock) -> UserService:
    return UserService(
        profiles=live.profiles,
        chat_state=live.chat_state,
        cards=live.cards,
        users=records.users,
        clock=clock,
        idle_minutes=30,
    )


@pytest.fixture
def sweeper(live: LiveStores, records: RecordStores, clock: ManualClock) -> AttendanceSweeper:
    return make_sweeper(live, records, clock, lease_seconds=30)

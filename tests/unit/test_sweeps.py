"""The attendance sweep's rules: persist, then remove, then one summary."""

from __future__ import annotations

from collections.abc import Sequence

import fakeredis
import pytest

from services.checkins import CheckInService
from services.clock import ManualClock
from services.models import CheckIn, Session, UserProfile
from services.ports import LiveStores, RecordStores
from services.sessions import SessionService
from services.sweeps import AttendanceSweeper
from services.users import UserService
from storage.redis import keys
from tests.conftest import TEACHER_ID
from tests.fakes.memory import MemoryDatabase
from tests.unit.fakes import RecordingNotifier


async def test_open_session_is_not_swept(
    sessions: SessionService, sweeper: AttendanceSweeper, database: MemoryDatabase
) -> None:
    await sessions.start_session(TEACHER_ID, TEACHER_ID)
    report = await sweeper.sweep_attendances()
    assert report.sessions_persisted == 0 and not database.sessions


async def test_ended_session_is_persisted_removed_and_summarised(
    sessions: SessionService,
    checkins: CheckInService,
    users: UserService,
    sweeper: AttendanceSweeper,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    live: LiveStores,
    fake_redis: fakeredis.FakeAsyncRedis,
    clock: ManualClock,
) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID, 10, "Physics")
    for student in range(1, 4):
        await users.seen(UserProfile(student, f"Student{student}"))
        await checkins.check_in(student, session.code)
    await sessions.end_session(TEACHER_ID)
    report = await sweeper.sweep_attendances()
    assert report.sessions_persisted == 1 and report.rows_written == 3
    assert {sid for sid, _ in database.attendance} == {session.id}
    assert not await fake_redis.exists(*keys.session_keys(session.id), keys.code(session.code))
    assert await fake_redis.zcard(keys.due_index()) == 0

    assert await sweeper.deliver_summaries(notifier) == 1
    assert await sweeper.deliver_summaries(notifier) == 0
    [summary] = notifier.sent
    assert [line.name for line in summary.checked_in] == ["Student1", "Student2", "Student3"]


async def test_postgres_down_keeps_everything_in_redis(
    sessions: SessionService,
    checkins: CheckInService,
    sweeper: AttendanceSweeper,
    database: MemoryDatabase,
    live: LiveStores,
    fake_redis: fakeredis.FakeAsyncRedis,
    clock: ManualClock,
) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await checkins.check_in(7, session.code)
    clock.advance(minutes=11)
    database.available = False
    report = await sweeper.sweep_attendances()
    assert report.failures == 1 and report.sessions_persisted == 0
    assert await fake_redis.hlen(keys.session_checkins(session.id)) == 1
    database.available = True
    report = await sweeper.sweep_attendances()  # the claim was released: no lease wait
    assert report.sessions_persisted == 1 and len(database.attendance) == 1


async def test_failed_summary_is_retried(
    sessions: SessionService,
    sweeper: AttendanceSweeper,
    notifier: RecordingNotifier,
    clock: ManualClock,
) -> None:
    await sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await sessions.end_session(TEACHER_ID)
    await sweeper.sweep_attendances()
    notifier.fail = True
    assert await sweeper.deliver_summaries(notifier) == 0
    notifier.fail = False
    assert await sweeper.deliver_summaries(notifier) == 0  # backing off: not due yet
    clock.advance(seconds=15)
    assert await sweeper.deliver_summaries(notifier) == 1
    assert len(notifier.sent) == 1


async def test_a_slow_summary_keeps_its_lease_so_no_other_process_sends_it(
    sessions: SessionService,
    sweeper: AttendanceSweeper,
    live: LiveStores,
    records: RecordStores,
    clock: ManualClock,
) -> None:
    """A summary stuck behind Telegram's rate limit longer than the lease is not taken over."""
    import asyncio

    from tests.unit.conftest import make_sweeper

    await sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await sessions.end_session(TEACHER_ID)
    await sweeper.sweep_attendances()
    quick = make_sweeper(live, records, clock, lease_seconds=0.3)
    other = make_sweeper(live, records, clock, lease_seconds=0.3)
    sent: list[str] = []

    class SlowNotifier(RecordingNotifier):
        async def send_summary(self, summary: object, progress: object = None) -> None:
            for _ in range(6):  # 1.2 s in all, four lease lengths
                await asyncio.sleep(0.2)
                clock.advance(seconds=0.2)
            sent.append("slow")

    class FastNotifier(RecordingNotifier):
        async def send_summary(self, summary: object, progress: object = None) -> None:
            sent.append("fast")

    async def other_process() -> None:
        for _ in range(10):
            await asyncio.sleep(0.1)
            await other.deliver_summaries(FastNotifier())

    await asyncio.gather(quick.deliver_summaries(SlowNotifier()), other_process())
    assert sent == ["slow"]


async def test_only_a_sessions_first_claim_is_a_first_attempt(
    sessions: SessionService,
    checkins: CheckInService,
    sweeper: AttendanceSweeper,
    records: RecordStores,
    database: MemoryDatabase,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sweep that failed may still have committed (the connection died on COMMIT), so
    every later claim of the session persists as a retry; a fresh session's is a first."""
    hints: list[tuple[str, bool]] = []
    real_persist = records.sessions.persist_session

    async def persist(
        session: Session, rows: Sequence[CheckIn], *, first_attempt: bool = False
    ) -> tuple[int, list[int]]:
        hints.append((session.id, first_attempt))
        return await real_persist(session, rows, first_attempt=first_attempt)

    monkeypatch.setattr(records.sessions, "persist_session", persist)
    failed = await sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await checkins.check_in(7, failed.code)
    clock.advance(minutes=11)
    database.available = False
    assert (await sweeper.sweep_attendances()).failures == 1
    database.available = True
    assert (await sweeper.sweep_attendances()).sessions_persisted == 1
    fresh = await sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await sessions.end_session(TEACHER_ID)
    assert (await sweeper.sweep_attendances()).sessions_persisted == 1
    assert hints == [(failed.id, True), (failed.id, False), (fresh.id, True)]
    assert len(database.attendance) == 1

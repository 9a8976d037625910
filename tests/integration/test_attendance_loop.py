"""The attendance loop on real Redis and real PostgreSQL: check-ins, sweeps, crashes, outages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
from redis.asyncio import Redis

from bot.bootstrap import build_services
from bot.container import Services
from services.clock import ManualClock
from services.models import CheckIn, CheckInOutcome, Session, UserProfile
from storage.redis import keys
from tests.conftest import TEACHER_ID, make_settings
from tests.support.tcp_proxy import TcpProxy
from tests.unit.fakes import RecordingNotifier

STUDENTS = range(10_000, 10_500)


class Killed(BaseException):
    """Stands for the process dying at this point: nothing after it runs."""


async def session_keys_left(redis: Redis, session_id: str, code: str) -> int:
    left = await redis.exists(*keys.session_keys(session_id), keys.code(code))
    return int(left) + int(await redis.zscore(keys.due_index(), session_id) is not None)


async def rows(database_url: str, session_id: str | None = None) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        if session_id is None:
            return int(await conn.fetchval("SELECT count(*) FROM attendance"))
        return int(
            await conn.fetchval("SELECT count(*) FROM attendance WHERE session_id = $1", session_id)
        )
    finally:
        await conn.close()


async def check_in_class(services: Services, code: str, students: range) -> list[CheckInOutcome]:
    async def one(student: int) -> CheckInOutcome:
        await services.users.seen(UserProfile(student, f"First{student}", f"Last{student}"))
        return (await services.checkins.check_in(student, code)).outcome

    return list(await asyncio.gather(*(one(s) for s in students)))


async def test_500_concurrent_check_ins_are_recorded_once_and_swept(
    services: Services, clean_redis: Redis, clean_database: str, clock: ManualClock
) -> None:
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10, "Hall A")
    outcomes = await check_in_class(services, session.code, STUDENTS)
    assert outcomes.count(CheckInOutcome.RECORDED) == 500
    assert await services.live.checkins.checkin_count(session.id) == 500

    again = await asyncio.gather(*(services.checkins.check_in(s, session.code) for s in STUDENTS))
    assert {r.outcome for r in again} == {CheckInOutcome.DUPLICATE}
    assert await services.live.checkins.checkin_count(session.id) == 500

    await services.sessions.end_session(TEACHER_ID)
    report = await services.sweeper.sweep_attendances()
    assert report.sessions_persisted == 1 and report.rows_written == 500
    assert await rows(clean_database, session.id) == 500
    assert await session_keys_left(clean_redis, session.id, session.code) == 0
    notifier = RecordingNotifier()
    assert await services.sweeper.deliver_summaries(notifier) == 1
    [summary] = notifier.sent
    assert len(summary.checked_in) == 500
    assert summary.checked_in[0].name.startswith("First")


async def test_sweep_killed_after_commit_is_finished_by_the_next_run(
    services: Services, clean_redis: Redis, clean_database: str, clock: ManualClock
) -> None:
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await check_in_class(services, session.code, STUDENTS)
    clock.advance(minutes=10)

    real_finish = services.live.sweeps.finish_sweep

    async def die(*args: object) -> bool:
        raise Killed()

    services.live.sweeps.finish_sweep = die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await services.sweeper.sweep_attendances()
    services.live.sweeps.finish_sweep = real_finish  # type: ignore[method-assign]
    assert await rows(clean_database, session.id) == 500
    assert await clean_redis.exists(keys.session(session.id))

    # Another run before the dead sweeper's lease runs out leaves the session alone.
    assert (await services.sweeper.sweep_attendances()).sessions_persisted == 0
    clock.advance(seconds=31)
    report = await services.sweeper.sweep_attendances()
    assert report.sessions_persisted == 1 and report.rows_written == 0
    assert await rows(clean_database, session.id) == 500
    assert await session_keys_left(clean_redis, session.id, session.code) == 0
    notifier = RecordingNotifier()
    await services.sweeper.deliver_summaries(notifier)
    await services.sweeper.deliver_summaries(notifier)
    assert len(notifier.sent) == 1


async def sweep_dying_after_commit(services: Services) -> list[bool]:
    """One sweep that commits and dies before removing the session from Redis; returns the
    `first_attempt` hint of every persist call, this one's and all later ones'."""
    hints: list[bool] = []
    real_persist = services.records.sessions.persist_session

    async def persist(
        session: Session, rows: Sequence[CheckIn], *, first_attempt: bool = False
    ) -> tuple[int, list[int]]:
        hints.append(first_attempt)
        return await real_persist(session, rows, first_attempt=first_attempt)

    services.records.sessions.persist_session = persist  # type: ignore[method-assign]
    real_finish = services.live.sweeps.finish_sweep

    async def die(*args: object) -> bool:
        raise Killed()

    services.live.sweeps.finish_sweep = die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await services.sweeper.sweep_attendances()
    services.live.sweeps.finish_sweep = real_finish  # type: ignore[method-assign]
    return hints


def saved_again_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "was saved before" in r.getMessage()]


async def test_first_sweep_copies_and_the_retry_after_a_commit_adds_no_duplicate(
    services: Services,
    clean_redis: Redis,
    clean_database: str,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first claim copies the rows in; the claim after a sweep that committed and died
    knows it is a retry and goes straight to ON CONFLICT (no failed COPY first)."""
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await check_in_class(services, session.code, STUDENTS)
    clock.advance(minutes=10)
    hints = await sweep_dying_after_commit(services)
    assert hints == [True]
    assert await rows(clean_database, session.id) == 500

    clock.advance(seconds=31)
    report = await services.sweeper.sweep_attendances()
    assert hints == [True, False]
    assert report.sessions_persisted == 1 and report.rows_written == 0
    assert await rows(clean_database, session.id) == 500
    assert saved_again_warnings(caplog) == []
    assert await session_keys_left(clean_redis, session.id, session.code) == 0
    notifier = RecordingNotifier()
    await services.sweeper.deliver_summaries(notifier)
    assert len(notifier.sent) == 1 and len(notifier.sent[0].checked_in) == 500


async def test_a_lost_claim_count_falls_back_to_the_retry_without_a_duplicate(
    services: Services,
    clean_redis: Redis,
    clean_database: str,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis forgot the claim count (a failover, a restored snapshot) after a sweep committed:
    the next claim looks like a first attempt, its COPY meets the saved session's keys, and
    the sweep persists again as a retry in a new transaction."""
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await check_in_class(services, session.code, STUDENTS)
    clock.advance(minutes=10)
    hints = await sweep_dying_after_commit(services)
    await clean_redis.hdel(keys.session(session.id), "sweeps")

    clock.advance(seconds=31)
    report = await services.sweeper.sweep_attendances()
    assert hints == [True, True]
    assert report.sessions_persisted == 1 and report.rows_written == 0
    assert saved_again_warnings(caplog) == [
        f"session {session.id} was saved before: persisting it again as a retry"
    ]
    assert await rows(clean_database, session.id) == 500
    assert await session_keys_left(clean_redis, session.id, session.code) == 0
    notifier = RecordingNotifier()
    await services.sweeper.deliver_summaries(notifier)
    await services.sweeper.deliver_summaries(notifier)
    assert len(notifier.sent) == 1


async def test_sweep_failing_before_commit_stores_nothing_then_everything(
    services: Services, clean_redis: Redis, clean_database: str, clock: ManualClock
) -> None:
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    await check_in_class(services, session.code, STUDENTS)
    clock.advance(minutes=10)
    conn = await asyncpg.connect(clean_database)
    # The outbox insert is the transaction's last statement: fail there, after the rows.
    await conn.execute(
        """
        CREATE OR REPLACE FUNCTION attn_test_fail() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'injected failure before commit'; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER attn_test_fail BEFORE INSERT ON summary_outbox
            FOR EACH ROW EXECUTE FUNCTION attn_test_fail();
        """
    )
    try:
        with pytest.raises(asyncpg.RaiseError):
            await services.sweeper.sweep_attendances()
        assert await rows(clean_database) == 0
        assert await conn.fetchval("SELECT count(*) FROM sessions") == 0
        assert await services.live.checkins.checkin_count(session.id) == 500
    finally:
        await conn.execute("DROP TRIGGER attn_test_fail ON summary_outbox")
        await conn.close()
    clock.advance(seconds=31)
    report = await services.sweeper.sweep_attendances()
    assert report.rows_written == 500
    assert await session_keys_left(clean_redis, session.id, session.code) == 0


async def test_two_sweepers_persist_20_sessions_once_with_20_summaries(
    services: Services,
    redis_url: str,
    clean_redis: Redis,
    clean_database: str,
    clock: ManualClock,
) -> None:
    teachers = range(2000, 2020)
    settings = make_settings(teacher_ids=list(teachers))
    first = await build_services(settings, redis_url, clean_database, clock=clock)
    second = await build_services(settings, redis_url, clean_database, clock=clock)
    try:
        for teacher in teachers:
            session = await first.sessions.start_session(teacher, teacher, 5)
            await check_in_class(first, session.code, range(teacher * 100, teacher * 100 + 25))
        clock.advance(minutes=6)
        reports = await asyncio.gather(
            first.sweeper.sweep_attendances(), second.sweeper.sweep_attendances()
        )
        assert sum(r.sessions_persisted for r in reports) == 20
        assert sum(r.rows_written for r in reports) == 20 * 25
        notifier = RecordingNotifier()
        await asyncio.gather(
            first.sweeper.deliver_summaries(notifier), second.sweeper.deliver_summaries(notifier)
        )
        assert len(notifier.sent) == 20
        assert len({s.session_id for s in notifier.sent}) == 20
        assert await rows(clean_database) == 500
        assert await clean_redis.zcard(keys.due_index()) == 0
    finally:
        await first.close()
        await second.close()


async def test_user_sweep_persists_idle_profile_and_restores_it(
    services: Services, clean_redis: Redis, clean_database: str, clock: ManualClock
) -> None:
    ada = UserProfile(77, "Ada", "Lovelace", "ada")
    await services.users.seen(ada)
    await services.users.register(ada, "Augusta Ada King", "A-1815")
    clock.advance(minutes=31)
    assert await services.users.sweep_idle_users() == 1
    assert not await clean_redis.exists(keys.profile(77))
    conn = await asyncpg.connect(clean_database)
    try:
        row = await conn.fetchrow("SELECT * FROM users WHERE id = 77")
    finally:
        await conn.close()
    assert row["full_name"] == "Augusta Ada King" and row["username"] == "ada"
    assert row["last_seen"] is not None
    await services.users.seen(ada)
    await services.users.settle()  # the registered name comes back in the background
    restored = await services.live.profiles.cached_profile(77)
    assert restored is not None
    assert (restored.full_name, restored.student_number) == ("Augusta Ada King", "A-1815")


@pytest.fixture
async def pg_proxy(clean_database: str) -> AsyncIterator[TcpProxy]:
    proxy = await TcpProxy.for_url(clean_database).start()
    yield proxy
    await proxy.close()


async def test_postgres_outage_during_sweep_loses_nothing(
    redis_url: str,
    clean_redis: Redis,
    clean_database: str,
    pg_proxy: TcpProxy,
    clock: ManualClock,
) -> None:
    services = await build_services(
        make_settings(), redis_url, pg_proxy.proxied_url(clean_database), clock=clock
    )
    try:
        session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
        await check_in_class(services, session.code, range(1, 101))
        await services.sessions.end_session(TEACHER_ID)
        await pg_proxy.cut()

        report = await services.sweeper.sweep_attendances()
        assert report.failures == 1 and report.sessions_persisted == 0
        # Check-ins keep working for other sessions, including brand-new users.
        other = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
        outcomes = await check_in_class(services, other.code, range(500, 550))
        assert outcomes.count(CheckInOutcome.RECORDED) == 50
        assert await services.live.checkins.checkin_count(session.id) == 100  # nothing deleted

        await pg_proxy.restore()
        report = await services.sweeper.sweep_attendances()
        assert report.sessions_persisted == 1 and report.rows_written == 100
        assert await rows(clean_database, session.id) == 100
        assert await session_keys_left(clean_redis, session.id, session.code) == 0
    finally:
        await services.close()

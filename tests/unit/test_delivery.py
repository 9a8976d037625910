"""The outbox rules: back-off per row, no head-of-line blocking, final states."""

from __future__ import annotations

from services.clock import ManualClock
from services.delivery import (
    EXHAUSTED,
    SUMMARY,
    UNREACHABLE,
    DeliveryFailed,
    RetryPolicy,
)
from services.models import SummaryPart
from services.sessions import SessionService
from services.sweeps import AttendanceSweeper
from tests.conftest import TEACHER_ID
from tests.fakes.memory import MemoryDatabase
from tests.unit.fakes import RecordingNotifier

OTHER_TEACHER = TEACHER_ID + 1


async def end_sessions(
    sessions: SessionService, sweeper: AttendanceSweeper, *teachers: int
) -> None:
    for teacher in teachers:
        await sessions.start_session(teacher, teacher, 10, f"By {teacher}")
        await sessions.end_session(teacher)
    await sweeper.sweep_attendances()


def test_back_off_doubles_is_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=10, base_seconds=15, cap_seconds=1800)
    assert [policy.delay(n) for n in range(1, 9)] == [15, 30, 60, 120, 240, 480, 960, 1800]
    assert policy.delay(1, retry_after=120) == 120
    assert policy.delay(4, retry_after=3) == 120


async def test_a_failing_row_does_not_hold_up_the_rows_behind_it(
    sessions: SessionService,
    sweeper: AttendanceSweeper,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    clock: ManualClock,
) -> None:
    notifier.errors[TEACHER_ID] = DeliveryFailed("TimedOut: timed out")  # transient
    await end_sessions(sessions, sweeper, TEACHER_ID)
    clock.advance(seconds=1)
    await end_sessions(sessions, sweeper, OTHER_TEACHER)

    report = await sweeper.deliver_outbox(notifier)
    # The stuck (older) row was tried once in this run, then the next one went out.
    assert report.summaries_sent == 1 and report.retries[SUMMARY] == 1
    assert [s.teacher_id for s in notifier.sent] == [OTHER_TEACHER]
    assert len(notifier.attempts) == 2


async def test_transient_failures_back_off_then_end_after_the_last_attempt(
    sessions: SessionService,
    sweeper: AttendanceSweeper,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    clock: ManualClock,
) -> None:
    notifier.errors[TEACHER_ID] = DeliveryFailed("NetworkError: connection reset")
    await end_sessions(sessions, sweeper, TEACHER_ID)
    [session_id] = database.summary_outbox
    policy = RetryPolicy()
    for attempt in range(1, policy.max_attempts):
        report = await sweeper.deliver_outbox(notifier)
        assert report.retries[SUMMARY] == 1, attempt
        # Not due again a second before its back-off ends, due right after.
        clock.advance(seconds=policy.delay(attempt) - 1)
        assert (await sweeper.deliver_outbox(notifier)).retries[SUMMARY] == 0
        clock.advance(seconds=1)
    report = await sweeper.deliver_outbox(notifier)
    assert report.undeliverable[(SUMMARY, EXHAUSTED)] == 1
    assert database.summary_outbox[session_id].failure == EXHAUSTED
    assert database.summary_outbox[session_id].attempts == policy.max_attempts
    clock.advance(hours=10)
    assert await sweeper.deliver_outbox(notifier) == type(report)()  # final: nothing more
    assert len(notifier.attempts) == policy.max_attempts


async def test_a_blocked_teacher_ends_at_once_and_their_next_summary_is_not_tried(
    sessions: SessionService,
    sweeper: AttendanceSweeper,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    clock: ManualClock,
) -> None:
    notifier.errors[TEACHER_ID] = DeliveryFailed(
        "Forbidden: bot was blocked by the user", permanent=True, unreachable=True
    )
    await end_sessions(sessions, sweeper, TEACHER_ID)
    report = await sweeper.deliver_outbox(notifier)
    assert report.undeliverable[(SUMMARY, UNREACHABLE)] == 1 and not report.retries
    assert report.unreachable == {TEACHER_ID} and TEACHER_ID in database.unreachable_users

    await end_sessions(sessions, sweeper, TEACHER_ID)
    report = await sweeper.deliver_outbox(notifier)
    assert report.undeliverable[(SUMMARY, UNREACHABLE)] == 1
    assert len(notifier.attempts) == 1  # the second one ended without a request
    assert [row.failure for row in database.summary_outbox.values()] == [UNREACHABLE] * 2


async def test_a_retry_sends_only_the_parts_telegram_did_not_take(
    sessions: SessionService,
    sweeper: AttendanceSweeper,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    clock: ManualClock,
) -> None:
    """The text went through, the CSV failed three times: each retry tries the CSV alone,
    so the teacher gets every part once."""
    failure = DeliveryFailed("NetworkError: Bad Gateway")
    notifier.part_errors[SummaryPart.CSV] = [failure, failure, failure]
    await end_sessions(sessions, sweeper, TEACHER_ID)
    [session_id] = database.summary_outbox
    for _ in range(4):
        await sweeper.deliver_outbox(notifier)
        clock.advance(minutes=5)
    assert notifier.parts == [
        (session_id, SummaryPart.TEXT),
        (session_id, SummaryPart.CARD),
        (session_id, SummaryPart.CSV),
    ]
    assert len(notifier.attempts) == 4 and len(notifier.sent) == 1
    assert database.summary_outbox[session_id].sent_at is not None
    assert sorted(database.summary_outbox[session_id].parts_sent) == sorted(SummaryPart)

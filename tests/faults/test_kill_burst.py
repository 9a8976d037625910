"""kill -9 of `attn run` in the middle of a 500-student burst, then a restart.

Students arrive at 60 a second; replies leave at Telegram's ~30 a second while check-ins are
recorded at once, so when the process dies (after 150 replies) updates are still coming in,
some are recorded but not yet answered, and the last batch it fetched is not yet confirmed.
What Telegram does next is modelled by the fake: getUpdates returns again what the dead
process had not confirmed (offset semantics); what it confirmed is gone. A student without a
reply sends `/checkin` again, as people do.

Asserted: every check-in acknowledged before the kill is in PostgreSQL after the sweep; one
row per student (no duplicate), never more than the 500 who tried, and after the retries all
500; one summary counting 500; nothing of the session left in Redis.
"""

from __future__ import annotations

import threading
import time

from tests.e2e.conftest import TEACHER
from tests.fakes.botapi import FakeBotApi
from tests.faults.conftest import (
    Bots,
    Stores,
    acknowledged,
    check_ins_acknowledged,
    report,
    sigkill,
    start_session,
    summaries,
    summary_count,
    wait_for,
)

STUDENTS = range(500_001, 500_501)
KILL_AFTER_REPLIES = 150
ARRIVALS_PER_SECOND = 60
# A second summary would come within a lease and a sweep of the first.
LEASE_QUIET = 3.0


class Arrivals(threading.Thread):
    """The students' first /checkin, paced, from a thread (Telegram queues them meanwhile)."""

    def __init__(self, fake: FakeBotApi, code: str) -> None:
        super().__init__(name="arrivals", daemon=True)
        self.fake = fake
        self.code = code
        self.sent = 0
        self.first_update: dict[int, int] = {}

    def run(self) -> None:
        began = time.monotonic()
        for index, student in enumerate(STUDENTS):
            delay = began + index / ARRIVALS_PER_SECOND - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.first_update[student] = self.fake.send_message(student, f"/checkin {self.code}")
            self.sent += 1


def handed_out(fake: FakeBotApi, since: float = 0.0) -> set[int]:
    """Update ids getUpdates returned (to calls made after `since`)."""
    return {
        update["update_id"]
        for call in fake.calls_of("getUpdates", ok_only=True)
        if call.at > since
        for update in (call.result or [])
    }


def wait_until_replies_settle(fake: FakeBotApi, quiet: float = 2.0, timeout: float = 60) -> None:
    quiet_since = time.monotonic()
    last = -1
    deadline = time.monotonic() + timeout
    while time.monotonic() - quiet_since < quiet:
        now = len(fake.calls_of("sendMessage", ok_only=True))
        if now != last:
            last, quiet_since = now, time.monotonic()
        assert time.monotonic() < deadline, "replies never settled"
        time.sleep(0.1)


def test_kill_9_mid_burst_loses_no_acknowledged_check_in(
    fake: FakeBotApi, stores: Stores, bots: Bots
) -> None:
    began = time.monotonic()
    bot = bots.start(name="burst")
    code = start_session(fake, TEACHER, "Burst", bot)

    arrivals = Arrivals(fake, code)
    arrivals.start()
    wait_for(
        lambda: len(check_ins_acknowledged(fake, STUDENTS)) >= KILL_AFTER_REPLIES,
        60,
        f"{KILL_AFTER_REPLIES} replies",
        bot,
        interval=0.02,
    )
    sigkill(bot)
    killed_at = time.monotonic()
    arrived_at_kill = arrivals.sent
    acked_before_kill = check_ins_acknowledged(fake, STUDENTS)
    recorded_at_kill = stores.checkins_in_redis()
    handed_to_dead = handed_out(fake)
    unconfirmed_at_kill = len(fake.pending_updates)
    assert KILL_AFTER_REPLIES <= len(acked_before_kill) < len(STUDENTS)
    assert recorded_at_kill >= len(acked_before_kill)

    # The restart: Telegram hands out again what the dead process had not confirmed.
    bot = bots.start(name="burst-restarted")
    arrivals.join(timeout=60)
    first_update = arrivals.first_update
    wait_for(lambda: not fake.pending_updates, 60, "the queued updates", bot)
    wait_until_replies_settle(fake)
    redelivered = handed_to_dead & handed_out(fake, since=killed_at)
    acked_after_restart = acknowledged(fake, STUDENTS)
    recorded = stores.checked_in_students()
    recorded_before_retries = len(recorded)
    assert recorded_before_retries <= len(STUDENTS)
    assert acked_before_kill <= recorded
    # Handed to the dead process, yet not recorded: fetched and confirmed, or claimed as
    # handled, before the kill stopped its handler. Never acknowledged, so the student retries.
    lost_unanswered = {
        student
        for student, update_id in first_update.items()
        if update_id in handed_to_dead and student not in recorded
    }

    # Whoever got no answer tries again.
    retrying = sorted(set(STUDENTS) - acked_after_restart)
    for student in retrying:
        fake.send_message(student, f"/checkin {code}")
    wait_for(
        lambda: acknowledged(fake, STUDENTS) == set(STUDENTS),
        90,
        "an answer for every retry",
        bot,
    )

    fake.send_message(TEACHER, "/end_session")
    wait_for(lambda: len(summaries(fake, TEACHER)) >= 1, 60, "the summary", bot)
    time.sleep(LEASE_QUIET)

    rows = stores.attendance()
    students_in_pg = {r["student_id"] for r in rows}
    sent = summaries(fake, TEACHER)
    report(
        "1 kill -9 mid-burst",
        students=len(STUDENTS),
        arrived_at_kill=arrived_at_kill,
        acknowledged_before_kill=len(acked_before_kill),
        recorded_in_redis_at_kill=recorded_at_kill,
        unconfirmed_updates_at_kill=unconfirmed_at_kill,
        redelivered_after_restart=len(redelivered),
        acknowledged_before_retries=len(acked_after_restart),
        recorded_before_retries=recorded_before_retries,
        handed_to_dead_process_never_recorded=len(lost_unanswered),
        retried=len(retrying),
        pg_rows=len(rows),
        pg_distinct_students=len(students_in_pg),
        duplicates=len(rows) - len({(r["session_id"], r["student_id"]) for r in rows}),
        acknowledged_missing_from_pg=len(acked_before_kill - students_in_pg),
        summaries_sent=len(sent),
        seconds=f"{time.monotonic() - began:.1f}",
    )
    assert acked_before_kill <= students_in_pg
    assert len(rows) == len(students_in_pg) == len(STUDENTS)
    assert students_in_pg == set(STUDENTS)
    assert len({r["session_id"] for r in rows}) == 1
    assert len(sent) == 1 and summary_count(sent[0]) == len(STUDENTS)
    assert stores.live_leftovers() == {}
    bot.stop()

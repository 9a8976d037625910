"""kill -9 of `attn run` during the attendance sweep, once at each point, then a restart.

The points, in the order the sweep reaches them:

* `before-commit`: inside the PostgreSQL transaction. A trigger makes the outbox insert (the
  transaction's last statement) sleep; the process is killed while it sleeps. PostgreSQL only
  notices a dead client when it next reads from it, so the test then ends that backend itself
  (what TCP keepalives or `client_connection_check_interval` would do): the transaction rolls
  back.
* `sweep.committed`: after the commit, before the Redis keys are removed (ATTN_FAILPOINT).
* `sweep.removed`: after the Redis delete, before the summary is sent.
* `summary.text`: after Telegram accepted the summary's text, before the outbox records that
  part: the documented at-least-once case, so the text is sent a second time once the lease
  (ATTN_SWEEP_LEASE_SECONDS) runs out.
* `summary.sent`: after Telegram accepted every part (each recorded), before the outbox
  marks the row sent: the restart sends nothing again, it only marks the row.

After each, a restart without the failpoint must finish the job: one attendance row per
check-in, nothing of the session left in Redis, one summary (two for `summary.text`).
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import TEACHER
from tests.fakes.botapi import FakeBotApi
from tests.faults.conftest import (
    LEASE_SECONDS,
    SWEEP_SECONDS,
    Bots,
    Stores,
    check_ins_acknowledged,
    report,
    sigkill,
    start_session,
    summaries,
    summary_count,
    wait_for,
)

STUDENTS = range(610_001, 610_013)
# Long enough for a second summary to show up if there were one: a lease, two sweeps, slack.
QUIET_SECONDS = LEASE_SECONDS + 2 * SWEEP_SECONDS + 1

STALL_OUTBOX = """
CREATE OR REPLACE FUNCTION faults_stall_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(30);
    RETURN NEW;
END $$;
CREATE TRIGGER faults_stall_outbox BEFORE INSERT ON summary_outbox
    FOR EACH ROW EXECUTE FUNCTION faults_stall_outbox();
"""
UNSTALL_OUTBOX = """
DROP TRIGGER IF EXISTS faults_stall_outbox ON summary_outbox;
DROP FUNCTION IF EXISTS faults_stall_outbox();
"""
SLEEPING_BACKENDS = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND wait_event = 'PgSleep' AND query ILIKE '%summary_outbox%'
"""
TERMINATE_SLEEPING = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event = 'PgSleep' AND query ILIKE '%summary_outbox%'
"""

# point -> (failpoint, summaries in the end, what a crash there leaves:
#           rows in PostgreSQL?, session still in Redis?, summaries before the restart)
POINTS = {
    "before-commit": (None, 1, (False, True, 0)),
    "sweep.committed": ("sweep.committed", 1, (True, True, 0)),
    "sweep.removed": ("sweep.removed", 1, (True, False, 0)),
    "summary.text": ("summary.text", 2, (True, False, 1)),
    "summary.sent": ("summary.sent", 1, (True, False, 1)),
}


@pytest.fixture
def outbox_stall(stores: Stores) -> object:
    stores.execute(STALL_OUTBOX)
    yield None
    stores.fetchval(TERMINATE_SLEEPING)
    stores.execute(UNSTALL_OUTBOX)


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_9_during_the_sweep(
    point: str, fake: FakeBotApi, stores: Stores, bots: Bots, request: pytest.FixtureRequest
) -> None:
    failpoint, expected_summaries, (rows_at_crash, live_at_crash, summaries_at_crash) = POINTS[
        point
    ]
    began = time.monotonic()
    env = bots.env(ATTN_FAILPOINT=failpoint) if failpoint else bots.env()
    bot = bots.start(env, name=f"sweep-{point}")
    code = start_session(fake, TEACHER, f"Sweep {point}", bot)
    for student in STUDENTS:
        fake.send_message(student, f"/checkin {code}")
    wait_for(
        lambda: check_ins_acknowledged(fake, STUDENTS) == set(STUDENTS),
        30,
        "every check-in acknowledged",
        bot,
    )

    if failpoint is None:
        request.getfixturevalue("outbox_stall")
        fake.send_message(TEACHER, "/end_session")
        wait_for(lambda: bool(stores.fetch(SLEEPING_BACKENDS)), 30, "the stalled commit", bot)
        exit_code = sigkill(bot)
        # The server has not noticed yet: end the orphaned backend, as keepalives would.
        assert stores.fetchval(TERMINATE_SLEEPING) == 1
        wait_for(lambda: not stores.fetch(SLEEPING_BACKENDS), 10, "the backend to end")
        stores.execute(UNSTALL_OUTBOX)
    else:
        fake.send_message(TEACHER, "/end_session")
        assert bot.proc is not None
        exit_code = bot.proc.wait(timeout=30)
        bot._log.close()
        assert f"failpoint {failpoint} reached" in bot.log(), bot.log()[-3000:]
    assert exit_code == -9

    rows_after_crash = len(stores.attendance())
    live_after_crash = stores.live_leftovers()
    summaries_after_crash = len(summaries(fake, TEACHER))
    assert rows_after_crash == (len(STUDENTS) if rows_at_crash else 0)
    assert ("session keys" in live_after_crash) is live_at_crash, live_after_crash
    assert summaries_after_crash == summaries_at_crash

    restarted_at = time.monotonic()
    bot = bots.start(bots.env(), name=f"sweep-{point}-restarted")
    waited = wait_for(
        lambda: len(summaries(fake, TEACHER)) >= expected_summaries,
        30,
        f"{expected_summaries} summaries",
        bot,
    )
    time.sleep(QUIET_SECONDS)

    rows = stores.attendance()
    sent = summaries(fake, TEACHER)
    leftovers = stores.live_leftovers()
    outbox = stores.fetch("SELECT sent_at, attempts FROM summary_outbox")
    report(
        f"2 kill -9 at {point}",
        check_ins=len(STUDENTS),
        acknowledged=len(check_ins_acknowledged(fake, STUDENTS)),
        pg_rows_at_crash=rows_after_crash,
        session_in_redis_at_crash="session keys" in live_after_crash,
        summaries_at_crash=summaries_after_crash,
        pg_rows=len(rows),
        pg_distinct=len({(r["session_id"], r["student_id"]) for r in rows}),
        redis_leftovers=sum(leftovers.values()),
        summaries_sent=len(sent),
        outbox_attempts=[r["attempts"] for r in outbox],
        summary_after_restart_s=f"{restarted_at - began:.1f}+{waited:.1f}",
        seconds=f"{time.monotonic() - began:.1f}",
    )
    assert len(rows) == len({(r["session_id"], r["student_id"]) for r in rows}) == len(STUDENTS)
    assert {r["student_id"] for r in rows} == set(STUDENTS)
    assert {r["status"] for r in rows} == {"present"}
    assert leftovers == {}
    assert len(sent) == expected_summaries
    assert all(summary_count(s) == len(STUDENTS) for s in sent)
    assert len(outbox) == 1 and outbox[0]["sent_at"] is not None
    bot.stop()

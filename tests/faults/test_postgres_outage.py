"""PostgreSQL unreachable for 20 seconds while sessions run and one of them ends.

`attn run` reaches PostgreSQL through a loopback TCP proxy (run on its own event loop in a
thread); cutting it resets every open connection and refuses new ones, a real outage with no
mocks. Check-ins live in Redis, so they keep working (first-time students included); the
session that ends during the outage waits, whole, in Redis and its summary comes after the
restore; nothing is lost and nothing is written twice.
"""

from __future__ import annotations

import time

from tests.e2e.conftest import TEACHER
from tests.fakes.botapi import FakeBotApi
from tests.faults.conftest import (
    Bots,
    Stores,
    check_ins_acknowledged,
    report,
    start_session,
    summaries,
    summary_count,
    wait_for,
)
from tests.support.threaded_proxy import ThreadedTcpProxy

OUTAGE_SECONDS = 20.0
OTHER_TEACHER = 7002
BEFORE = range(620_001, 620_011)  # session A, before the outage (known to the bot)
DURING_A = range(620_011, 620_031)  # session A, during it (first time the bot sees them)
DURING_B = range(620_031, 620_041)  # session B, which ends during the outage
AFTER = range(620_041, 620_046)  # session A, after the restore


def checked_in_all(fake: FakeBotApi, students: range) -> bool:
    return check_ins_acknowledged(fake, students) == set(students)


def test_postgres_down_for_20_seconds(fake: FakeBotApi, stores: Stores, bots: Bots) -> None:
    began = time.monotonic()
    with ThreadedTcpProxy(stores.database_url) as proxy:
        env = bots.env(ATTN_DATABASE_URL=proxy.url, ATTN_TEACHER_IDS=f"{TEACHER},{OTHER_TEACHER}")
        bot = bots.start(env, name="pg-outage")
        code_a = start_session(fake, TEACHER, "Outage A", bot)
        code_b = start_session(fake, OTHER_TEACHER, "Outage B", bot)
        for student in BEFORE:
            fake.send_message(student, f"/checkin {code_a}")
        wait_for(lambda: checked_in_all(fake, BEFORE), 30, "check-ins before the outage", bot)

        proxy.cut()
        cut_at = time.monotonic()
        for student in DURING_A:
            fake.send_message(student, f"/checkin {code_a}")
        for student in DURING_B:
            fake.send_message(student, f"/checkin {code_b}")
        during = wait_for(
            lambda: checked_in_all(fake, DURING_A) and checked_in_all(fake, DURING_B),
            OUTAGE_SECONDS - 5,
            "check-ins during the outage",
            bot,
        )
        fake.send_message(OTHER_TEACHER, "/end_session")
        ended_at = time.monotonic()
        time.sleep(max(0.0, cut_at + OUTAGE_SECONDS - time.monotonic()))
        summaries_during_outage = len(summaries(fake, OTHER_TEACHER))
        in_redis_at_restore = stores.checkins_in_redis()
        in_pg_at_restore = len(stores.attendance())  # direct, not through the proxy
        proxy.restore()
        restored_at = time.monotonic()

        late_by = wait_for(
            lambda: len(summaries(fake, OTHER_TEACHER)) >= 1, 30, "B's summary after restore", bot
        )
        for student in AFTER:
            fake.send_message(student, f"/checkin {code_a}")
        wait_for(lambda: checked_in_all(fake, AFTER), 30, "check-ins after the restore", bot)
        fake.send_message(TEACHER, "/end_session")
        wait_for(lambda: len(summaries(fake, TEACHER)) >= 1, 30, "A's summary", bot)
        time.sleep(2.0)
        log = bot.log()
        bot.stop()

    rows = stores.attendance()
    by_teacher = {
        teacher: {r["student_id"] for r in rows if r["teacher_id"] == teacher}
        for teacher in (TEACHER, OTHER_TEACHER)
    }
    expected_a = set(BEFORE) | set(DURING_A) | set(AFTER)
    sent_a, sent_b = summaries(fake, TEACHER), summaries(fake, OTHER_TEACHER)
    report(
        "3 PostgreSQL down 20 s",
        acknowledged_before=len(check_ins_acknowledged(fake, BEFORE)),
        acknowledged_during_outage=len(check_ins_acknowledged(fake, [*DURING_A, *DURING_B])),
        answered_within_s=f"{during:.1f}",
        unavailable_replies=sum("temporarily unavailable" in t for t in _student_texts(fake)),
        summaries_during_outage=summaries_during_outage,
        in_redis_at_restore=in_redis_at_restore,
        in_pg_at_restore=in_pg_at_restore,
        summary_b_after_end_s=f"{restored_at - ended_at + late_by:.1f}",
        summary_b_after_restore_s=f"{late_by:.1f}",
        pg_rows=len(rows),
        pg_distinct=len({(r["session_id"], r["student_id"]) for r in rows}),
        summaries_sent=len(sent_a) + len(sent_b),
        postponed_sweeps=log.count("sweep of session") + log.count("sweep postponed"),
        seconds=f"{time.monotonic() - began:.1f}",
    )
    assert summaries_during_outage == 0
    assert in_pg_at_restore == 0
    assert by_teacher[TEACHER] == expected_a
    assert by_teacher[OTHER_TEACHER] == set(DURING_B)
    assert len(rows) == len({(r["session_id"], r["student_id"]) for r in rows})
    assert len(rows) == len(expected_a) + len(DURING_B)
    assert len(sent_a) == 1 and summary_count(sent_a[0]) == len(expected_a)
    assert len(sent_b) == 1 and summary_count(sent_b[0]) == len(DURING_B)
    assert stores.live_leftovers() == {}


def _student_texts(fake: FakeBotApi) -> list[str]:
    students = {*BEFORE, *DURING_A, *DURING_B, *AFTER}
    sent = fake.calls_of("sendMessage", ok_only=True)
    return [c.text or "" for c in sent if c.chat_id in students]

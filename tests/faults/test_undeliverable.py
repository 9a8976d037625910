"""Telegram says no to some recipients: the outbox never stalls (issue 10, build point 1).

The real `attn run` process (webhook mode, so `/metrics` is served) against the fake Bot API,
which answers 403 "bot was blocked by the user" for users who blocked the bot:

* a teacher who blocked the bot while their session ran (no update told the bot) gets their
  summary refused; the 20 other teachers whose sessions end next get theirs within two sweep
  intervals; the refused one ends after one attempt, is counted in `/metrics`, and is shown
  to its teacher (once) when they next write;
* 20 students below a course's threshold, 10 of whom blocked the bot (5 with the
  `my_chat_member` update the bot sees, 5 silently): the other 10 get their nudges within two
  sweep intervals; nothing is queued to the 5 known ones, the 5 silent ones end after one
  attempt.
"""

from __future__ import annotations

import re
import time

from tests.e2e.webhook_support import SECRET, free_port, http, metric, wait_until_webhook
from tests.fakes.botapi import Call, FakeBotApi
from tests.faults.conftest import SUMMARY_MARK, Bots, Stores, report, summaries, wait_for

SWEEP_SECONDS = 3
STUCK = 620_000
TEACHERS = list(range(620_001, 620_021))
COURSE_TEACHER = 621_000
STUDENTS = list(range(622_001, 622_021))
KNOWN_BLOCKED = STUDENTS[:5]  # the bot saw `my_chat_member` (kicked)
SILENT_BLOCKED = STUDENTS[5:10]  # only Telegram's 403 tells the bot
REACHABLE = STUDENTS[10:]
NUDGE_MARK = "Heads-up"
UNREACHABLE_SUMMARIES = 'attn_outbox_undeliverable_total{kind="summary",reason="unreachable"}'
UNREACHABLE_NUDGES = 'attn_outbox_undeliverable_total{kind="nudge",reason="unreachable"}'


def start_webhook_bot(bots: Bots, fake: FakeBotApi, teachers: list[int]) -> str:
    """One `attn run` in webhook mode; returns its base URL."""
    port = free_port()
    env = bots.env(
        ATTN_SWEEP_SECONDS=str(SWEEP_SECONDS),
        ATTN_TEACHER_IDS=",".join(map(str, teachers)),
        ATTN_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/hook",
        ATTN_WEBHOOK_SECRET=SECRET,
        ATTN_LISTEN_HOST="127.0.0.1",
        ATTN_LISTEN_PORT=str(port),
    )
    bot = bots.spawn(env)
    wait_until_webhook(fake, bot)
    return f"http://127.0.0.1:{port}"


def metrics(base: str) -> str:
    status, text = http("GET", base + "/metrics")
    assert status == 200
    return text


def send_and_wait(fake: FakeBotApi, bots: Bots, user: int, text: str, replies: int = 1) -> None:
    """`user` sends `text`; wait for `replies` more messages to them."""
    before = len(fake.messages_to(user))
    fake.send_message(user, text, first_name=f"U{user}")
    wait_for(
        lambda: len(fake.messages_to(user)) >= before + replies,
        30,
        f"{replies} repl(ies) to {text!r} from {user}",
        bots.started[-1],
    )


def refused(fake: FakeBotApi, chat: int, mark: str) -> list[Call]:
    return [
        c
        for c in fake.calls_of("sendMessage")
        if c.chat_id == chat and c.status == 403 and mark in (c.text or "")
    ]


def test_an_unreachable_teacher_never_holds_up_the_other_summaries(
    fake: FakeBotApi, bots: Bots, stores: Stores
) -> None:
    base = start_webhook_bot(bots, fake, [STUCK, *TEACHERS])
    # A one-minute session; then the teacher blocks the bot and no update says so (the bot
    # was away, say): Telegram answers 403 to everything sent to them from now on.
    send_and_wait(fake, bots, STUCK, "/start_session 1 Stuck lecture")
    stuck_started = time.monotonic()
    fake.block_bot(STUCK, inject_update=False)
    for teacher in TEACHERS:
        fake.send_message(teacher, f"/start_session 30 Lecture {teacher}")
    for teacher in TEACHERS:
        wait_for(lambda t=teacher: bool(fake.messages_to(t)), 30, f"the card of {teacher}")

    # The stuck session ends by itself; the 20 others end right after it.
    time.sleep(max(0.0, stuck_started + 61 - time.monotonic()))
    for teacher in TEACHERS:
        fake.send_message(teacher, "/end_session")
    for teacher in TEACHERS:
        wait_for(lambda t=teacher: len(fake.messages_to(t)) >= 2, 30, f"{teacher}'s end reply")
    ended = max(fake.messages_to(t)[1].at for t in TEACHERS)

    wait_for(
        lambda: all(summaries(fake, t) for t in TEACHERS),
        4 * SWEEP_SECONDS,
        "the 20 summaries",
    )
    arrived = max(summaries(fake, t)[0].at for t in TEACHERS) - ended
    # The stuck one was tried, and refused, once: it never went back to the head of the queue.
    wait_for(lambda: bool(refused(fake, STUCK, SUMMARY_MARK)), 2 * SWEEP_SECONDS, "the 403")
    # The counters move, and the rows are final, when the delivery run ends (after the last
    # card edit).
    wait_for(
        lambda: metric(metrics(base), "attn_summaries_sent_total") == len(TEACHERS),
        2 * SWEEP_SECONDS,
        "the delivery run to end",
    )
    [row] = stores.fetch(
        "SELECT o.attempts, o.failure, o.failed_at, o.sent_at FROM summary_outbox o "
        "JOIN sessions s ON s.id = o.session_id WHERE s.teacher_id = $1",
        STUCK,
    )
    text = metrics(base)
    report(
        "unreachable teacher",
        summaries_delivered=sum(len(summaries(fake, t)) for t in TEACHERS),
        last_summary_after_s=round(arrived, 2),
        stuck_attempts=row["attempts"],
        stuck_failure=row["failure"],
    )
    assert arrived <= 2 * SWEEP_SECONDS, arrived
    assert all(len(summaries(fake, t)) == 1 for t in TEACHERS)
    assert (row["attempts"], row["failure"], row["sent_at"]) == (1, "unreachable", None)
    assert row["failed_at"] is not None
    assert stores.fetchval("SELECT reason FROM unreachable_users WHERE user_id = $1", STUCK)
    assert metric(text, UNREACHABLE_SUMMARIES) == 1
    assert metric(text, "attn_summaries_sent_total") == len(TEACHERS)

    # A final state is final: later runs do not try again.
    time.sleep(2 * SWEEP_SECONDS)
    assert len(refused(fake, STUCK, SUMMARY_MARK)) == 1
    assert summaries(fake, STUCK) == []

    # The teacher unblocks the bot and writes: the missed summary comes, once.
    fake.block_bot(STUCK, blocked=False)
    send_and_wait(fake, bots, STUCK, "/help", replies=3)
    texts = fake.texts_to(STUCK)
    assert "could not send you this session summary" in texts[-2], texts
    [shown] = summaries(fake, STUCK)
    assert "Stuck lecture" in (shown.text or "")
    wait_for(  # marked delivered once Telegram took it all (the card's final edit last)
        lambda: stores.fetchval(
            "SELECT o.sent_at IS NOT NULL FROM summary_outbox o "
            "JOIN sessions s ON s.id = o.session_id WHERE s.teacher_id = $1",
            STUCK,
        ),
        10,
        "the shown summary to be marked delivered",
    )
    assert stores.fetchval("SELECT count(*) FROM unreachable_users") == 0
    send_and_wait(fake, bots, STUCK, "/help")
    time.sleep(1)
    assert len(summaries(fake, STUCK)) == 1
    assert metric(metrics(base), "attn_summaries_shown_later_total") == 1
    # And /summary works for them.
    send_and_wait(fake, bots, STUCK, "/summary")
    assert len(summaries(fake, STUCK)) == 2


def test_students_who_blocked_the_bot_never_hold_up_the_other_nudges(
    fake: FakeBotApi, bots: Bots, stores: Stores
) -> None:
    base = start_webhook_bot(bots, fake, [COURSE_TEACHER])
    allowed = fake.calls_of("setWebhook", ok_only=True)[-1].params["allowed_updates"]
    assert "my_chat_member" in allowed, allowed
    send_and_wait(fake, bots, COURSE_TEACHER, "/new_course Algebra")
    link = re.search(r"\?start=(join_[A-Za-z0-9_-]+)", fake.texts_to(COURSE_TEACHER)[-1])
    assert link, fake.texts_to(COURSE_TEACHER)
    for student in STUDENTS:  # the invite link sends "/start join_..."
        fake.send_message(student, f"/start {link[1]}")
    for student in STUDENTS:
        wait_for(lambda s=student: len(fake.messages_to(s)) >= 2, 30, f"{student} enrolled")
        fake.send_message(student, f"Student {student}")
    for student in STUDENTS:
        wait_for(lambda s=student: len(fake.messages_to(s)) >= 3, 30, f"{student} named")

    blocked_at = time.monotonic()
    for student in KNOWN_BLOCKED:
        fake.block_bot(student)  # Telegram sends the bot `my_chat_member`: kicked
    for student in SILENT_BLOCKED:
        fake.block_bot(student, inject_update=False)
    wait_for(
        lambda: stores.fetchval("SELECT count(*) FROM unreachable_users") == len(KNOWN_BLOCKED),
        30,
        "the blocks to be recorded",
    )

    # Three sessions nobody attends: every student falls below the course's 70 %.
    for week in (1, 2, 3):
        before = len(summaries(fake, COURSE_TEACHER))
        send_and_wait(fake, bots, COURSE_TEACHER, f"/start_session Algebra 30 Week {week}")
        send_and_wait(fake, bots, COURSE_TEACHER, "/end_session")
        ended = fake.messages_to(COURSE_TEACHER)[-1].at
        wait_for(
            lambda b=before: len(summaries(fake, COURSE_TEACHER)) > b,
            4 * SWEEP_SECONDS,
            f"the summary of week {week}",
        )

    def nudged(student: int) -> list[Call]:
        return [c for c in fake.messages_to(student) if NUDGE_MARK in (c.text or "")]

    wait_for(lambda: all(nudged(s) for s in REACHABLE), 4 * SWEEP_SECONDS, "the 10 nudges")
    arrived = max(nudged(s)[0].at for s in REACHABLE) - ended
    wait_for(
        lambda: all(refused(fake, s, NUDGE_MARK) for s in SILENT_BLOCKED),
        2 * SWEEP_SECONDS,
        "the 403s",
    )
    # The counters move, and the rows are final, when the delivery run ends.
    wait_for(
        lambda: metric(metrics(base), "attn_nudges_sent_total") == len(REACHABLE),
        2 * SWEEP_SECONDS,
        "the delivery run to end",
    )
    rows = {
        r["student_id"]: r
        for r in stores.fetch("SELECT student_id, attempts, failure, sent_at FROM nudge_outbox")
    }
    text = metrics(base)
    report(
        "blocked students",
        nudges_delivered=sum(len(nudged(s)) for s in REACHABLE),
        last_nudge_after_s=round(arrived, 2),
        queued_to_known_blocked=sum(s in rows for s in KNOWN_BLOCKED),
        silent_failures=sorted({rows[s]["failure"] for s in SILENT_BLOCKED}),
    )
    assert arrived <= 2 * SWEEP_SECONDS, arrived
    assert all(len(nudged(s)) == 1 for s in REACHABLE)
    assert all(rows[s]["sent_at"] is not None for s in REACHABLE)
    # Nothing was queued, or sent, to those the bot knew had blocked it.
    assert not any(s in rows for s in KNOWN_BLOCKED)
    assert not [c for c in fake.calls if c.chat_id in KNOWN_BLOCKED and c.at > blocked_at], (
        "a message was attempted to a student known to have blocked the bot"
    )
    for student in SILENT_BLOCKED:
        assert (rows[student]["attempts"], rows[student]["failure"]) == (1, "unreachable")
        assert rows[student]["sent_at"] is None
    assert metric(text, UNREACHABLE_NUDGES) == len(SILENT_BLOCKED)
    assert metric(text, "attn_nudges_sent_total") == len(REACHABLE)
    unreachable = {r[0] for r in stores.fetch("SELECT user_id FROM unreachable_users")}
    assert unreachable == set(KNOWN_BLOCKED) | set(SILENT_BLOCKED)

    # A student who unblocks the bot and writes is reachable again.
    student = SILENT_BLOCKED[0]
    fake.block_bot(student, blocked=False, inject_update=False)
    send_and_wait(fake, bots, student, "/help")
    wait_for(
        lambda: (
            student not in {r[0] for r in stores.fetch("SELECT user_id FROM unreachable_users")}
        ),
        2 * SWEEP_SECONDS,
        "the student to be reachable again",
    )


def test_polling_asks_for_my_chat_member_and_records_blocks(
    fake: FakeBotApi, bots: Bots, stores: Stores
) -> None:
    """Long polling names every update type, so the bot hears who blocks it."""
    bot = bots.start()
    allowed = fake.calls_of("getUpdates")[-1].params.get("allowed_updates")
    assert isinstance(allowed, list) and "my_chat_member" in allowed, allowed
    student = STUDENTS[0]
    send_and_wait(fake, bots, student, "/start")
    fake.block_bot(student)
    wait_for(
        lambda: stores.fetchval("SELECT count(*) FROM unreachable_users") == 1,
        30,
        "the block to be recorded",
        bot,
    )
    fake.block_bot(student, blocked=False)
    wait_for(
        lambda: stores.fetchval("SELECT count(*) FROM unreachable_users") == 0,
        30,
        "the unblock to be recorded",
        bot,
    )

"""/forgetme, for real: three times, with re-joins in between.

No error; the student ends on no roster (in PostgreSQL or in a live session); no row of any
table and no Redis key or value holds their names, username or number; their records stay
(pseudonymised), so teachers' counts stay right; and nothing is ever queued to a pseudonym.
"""

from __future__ import annotations

import re

from redis.asyncio import Redis

from bot import replies
from services.clock import ManualClock
from storage.redis import keys
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables, everything

STUDENT = 42_001
CLASSMATE = 42_002
SECRETS = ("Zbigniew", "Quetzalcoatl", "zq_private", "7788123")
NAMES = {"first_name": "Zbigniew", "last_name": "Quetzalcoatl", "username": "zq_private"}


async def redis_everything(redis: Redis) -> str:
    """Every key and every value in Redis, whatever its type."""
    parts: list[str] = []
    async for key in redis.scan_iter(count=1000):
        parts.append(repr(key))
        kind = (await redis.type(key)).decode()
        if kind == "string":
            parts.append(repr(await redis.get(key)))
        elif kind == "hash":
            parts.append(repr(await redis.hgetall(key)))
        elif kind == "set":
            parts.append(repr(await redis.smembers(key)))
        elif kind == "zset":
            parts.append(repr(await redis.zrange(key, 0, -1, withscores=True)))
        elif kind == "list":
            parts.append(repr(await redis.lrange(key, 0, -1)))
        elif kind == "stream":
            parts.append(repr(await redis.xrange(key)))
        else:
            raise AssertionError(f"unexpected Redis type {kind} of {key!r}")
    return "\n".join(parts)


async def queued_to_pseudonyms(tables: StoredTables) -> list[str]:
    """Rows of every outbox table addressed to a negative user id (a pseudonym)."""
    found = []
    for table in await tables.names():
        if "outbox" not in table:
            continue
        for row in await tables.rows(table):
            for name in ("student_id", "user_id", "recipient_id", "teacher_id"):
                if isinstance(row.get(name), int) and row[name] < 0:
                    found.append(f"{table}.{name}: {row}")
    return found


async def run_session(bot: BotHarness, clock: ManualClock, course: str, check_in: bool) -> str:
    [card] = await bot.send(TEACHER_ID, f"/start_session {course} 30")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    if check_in:
        [ok] = await bot.send(STUDENT, f"/checkin {code[1]}", **NAMES)
        assert "Checked in" in ok, ok
    [mate] = await bot.send(CLASSMATE, f"/checkin {code[1]}")
    assert "Checked in" in mate
    return code[1]


async def end_and_sweep(bot: BotHarness, clock: ManualClock) -> None:
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()


async def test_forgetme_three_times_with_rejoins(
    bot: BotHarness, clock: ManualClock, clean_redis: Redis, stored_tables: StoredTables
) -> None:
    [created] = await bot.send(TEACHER_ID, "/new_course Ethics")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join
    await bot.send(CLASSMATE, f"/join {join[1]}")
    await bot.send(CLASSMATE, "Ada Lovelace")
    course = (await bot.services.courses.teacher_courses(TEACHER_ID))[0]
    every_reply: list[str] = []

    for round_ in range(3):
        joined = await bot.send(STUDENT, f"/join {join[1]}", **NAMES)
        assert "enrolled" in joined[0], joined
        [thanks] = await bot.send(STUDENT, "Zbigniew Quetzalcoatl 7788123", **NAMES)
        assert "Zbigniew" in thanks
        # Three absences make the student "at risk": a nudge is queued for them.
        for _ in range(3):
            await run_session(bot, clock, "Ethics", check_in=False)
            await end_and_sweep(bot, clock)
            clock.advance(hours=1)
        # A session still live when they ask: checked in, marked by the teacher, and a
        # question pending (the bot asked for their name again).
        await run_session(bot, clock, "Ethics", check_in=True)
        [marked] = await bot.send(TEACHER_ID, "/mark Zbigniew late")
        assert "late" in marked
        await bot.services.users.expect_reply(STUDENT, "register")
        nudges = await stored_tables.rows("nudge_outbox")
        queued = sum(1 for row in nudges if row["student_id"] == STUDENT)
        assert queued >= 1  # a nudge is waiting for them when they ask
        before = await bot.services.reports.course_report(TEACHER_ID, course)
        clock.advance(minutes=1)

        every_reply += await bot.send(STUDENT, "/forgetme", **NAMES)
        calls = len(bot.request.calls)
        await bot.press(STUDENT, "fg:yes")
        every_reply += [c.text for c in bot.request.calls[calls:]]
        every_reply += [
            c.params.get("text", "")
            for c in bot.request.calls[calls:]
            if c.method.startswith("answer")
        ]
        assert any(replies.FORGOTTEN in text for text in every_reply), round_

        # The live session: off its roster, while its check-in is saved pseudonymised.
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        assert STUDENT not in await bot.services.live.sessions.roster(session.id)
        missing = await bot.services.checkins.missing_students(TEACHER_ID, session.id)
        assert all(p.display_name for p in missing)  # no nameless ghost on the teacher's list
        clock.advance(minutes=1)
        await end_and_sweep(bot, clock)
        after = await bot.services.reports.course_report(TEACHER_ID, course)
        assert STUDENT not in {s.student_id for s in after.standings}
        assert all(s.student_id > 0 for s in after.standings)
        # The teacher's session rates still count the forgotten student's records.
        assert [r.counted for r in after.sessions][: len(before.sessions)] == [
            r.counted for r in before.sessions
        ]
        assert after.sessions[-1].counted == 2 and after.sessions[-1].late == 1
        clock.advance(hours=1)

    assert all(replies.UNEXPECTED_ERROR not in text for text in every_reply)
    await bot.services.users.settle()
    assert STUDENT not in await bot.services.records.courses.roster(course.id)
    stored_in_redis = await redis_everything(clean_redis)
    stored_in_postgres = await everything(stored_tables)
    assert await queued_to_pseudonyms(stored_tables) == []
    attendance = await stored_tables.rows("attendance")
    pseudonyms = len({row["student_id"] for row in attendance if row["student_id"] < 0})
    nudges = await stored_tables.rows("nudge_outbox")
    nudged_classmates = sum(1 for row in nudges if row["student_id"] == STUDENT)
    for secret in SECRETS:
        assert secret not in stored_in_postgres, secret
        assert secret not in stored_in_redis, secret
    assert pseudonyms == 3  # one fresh pseudonym per request: nothing links them
    assert nudged_classmates == 0
    assert await clean_redis.exists(keys.pending_action(STUDENT)) == 0
    [mine] = await bot.send(STUDENT, "/mydata")
    assert "Attendance records: 0" in mine and "Ethics" not in mine and "7788123" not in mine


async def test_repeated_forgetme_without_records_leaves_no_rows_behind(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """Pressing "Yes, delete" again and again costs nothing lasting: each request's unused
    pseudonym row goes with the daily retention job."""
    for _ in range(5):
        await bot.send(STUDENT, "/forgetme", **NAMES)
        await bot.press(STUDENT, "fg:yes")
        clock.advance(minutes=1)
    clock.advance(days=3)  # past the pseudonym mapping's lifetime
    await bot.services.privacy.apply_retention()
    left = sum(1 for row in await stored_tables.rows("users") if row["id"] < 0)
    mappings = len(await stored_tables.rows("forgotten_users"))
    assert (left, mappings) == (0, 0)


INVITED_TEACHER = 5555


async def test_invited_teacher_keeps_role_and_courses_and_must_end_a_live_session_first(
    bot: BotHarness, clock: ManualClock
) -> None:
    """An invited teacher (made by /add_teacher) who presses /forgetme used to lose the
    role: their live session could not be ended and their courses were orphaned. The role
    and courses are the institution's records and stay; while a session is open nothing is
    forgotten (its card, roster and summary depend on them), and they are told so."""
    from tests.conftest import ADMIN_ID

    [link] = await bot.send(ADMIN_ID, "/add_teacher")
    token = re.search(r"start=(teach_[A-Za-z0-9_-]+)", link)
    assert token
    await bot.send(INVITED_TEACHER, f"/start {token[1]}", **NAMES)
    await bot.send(INVITED_TEACHER, "/new_course Physics")
    [card] = await bot.send(INVITED_TEACHER, "/start_session Physics 20 Lab")
    assert "<code>" in card

    # While the session is open: refused, no buttons; an older "Yes" is refused too.
    [refused] = await bot.send(INVITED_TEACHER, "/forgetme")
    assert "still open" in refused and "/end_session" in refused
    assert "reply_markup" not in bot.request.calls[-1].params
    since = len(bot.request.calls)
    await bot.press(INVITED_TEACHER, "fg:yes")
    edits = [c.text for c in bot.request.calls[since:] if c.method == "editMessageText"]
    assert edits and "still open" in edits[0] and "Nothing was deleted" in edits[0]
    assert await bot.services.roles.is_teacher(INVITED_TEACHER)

    [ended] = await bot.send(INVITED_TEACHER, "/end_session")
    assert "closed" in ended, ended
    assert await bot.services.sessions.open_session(INVITED_TEACHER) is None
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()

    # Then: the question says what happens to a teacher, and the role and courses stay.
    [question] = await bot.send(INVITED_TEACHER, "/forgetme", **NAMES)
    assert "You are a teacher: you stay one" in question
    since = len(bot.request.calls)
    await bot.press(INVITED_TEACHER, "fg:yes")
    done = [c.text for c in bot.request.calls[since:] if c.method == "editMessageText"]
    assert done and replies.FORGOTTEN in done[0] and "still a teacher" in done[0]
    assert await bot.services.roles.is_teacher(INVITED_TEACHER)
    report = await bot.send(INVITED_TEACHER, "/report Physics")
    assert "Report: Physics" in report[0], report
    [again] = await bot.send(INVITED_TEACHER, "/start_session Physics 20 Lab")
    assert "<code>" in again
    [mine] = await bot.send(INVITED_TEACHER, "/mydata")
    assert "Role: teacher" in mine


async def test_a_student_is_asked_without_the_teacher_note(
    bot: BotHarness, clock: ManualClock
) -> None:
    [question] = await bot.send(STUDENT, "/forgetme", **NAMES)
    assert question == replies.FORGET_CONFIRM

"""Roles (admins make teachers), command menus per role, and privacy: /mydata, /forgetme."""

from __future__ import annotations

import re

from redis.asyncio import Redis

from bot.handlers import REGISTRY
from services.clock import ManualClock
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables, everything
from tests.support.telegram import ApiCall

NEWBIE = 31_337


def command_names(call: ApiCall) -> list[str]:
    return [c["command"] for c in call.params["commands"]]


def menu_calls(bot: BotHarness, chat_id: int | None) -> list[ApiCall]:
    """setMyCommands/deleteMyCommands for one chat scope (None: the default scope)."""
    calls = []
    for call in bot.request.calls:
        if call.method not in ("setMyCommands", "deleteMyCommands"):
            continue
        scope = call.params.get("scope", {})
        # The default menu: the one without a language (one is also set per language).
        default = scope.get("type") == "default" and "language_code" not in call.params
        if default if chat_id is None else scope.get("chat_id") == chat_id:
            calls.append(call)
    return calls


async def test_menus_per_role_at_start(bot: BotHarness) -> None:
    [default] = menu_calls(bot, None)
    student = [c.name for c in REGISTRY.visible_to(is_teacher=False, is_admin=False)]
    assert command_names(default) == student
    [teacher] = menu_calls(bot, TEACHER_ID)
    assert command_names(teacher) == [
        c.name for c in REGISTRY.visible_to(is_teacher=True, is_admin=False)
    ]
    [admin] = menu_calls(bot, ADMIN_ID)
    assert "add_teacher" in command_names(admin) and "start_session" in command_names(admin)
    assert "start_session" not in command_names(default)


async def test_admin_invites_a_teacher_once_then_removes_them(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    [refused] = await bot.send(TEACHER_ID, "/add_teacher")
    assert "Only admins" in refused
    [invite] = await bot.send(ADMIN_ID, "/add_teacher")
    token = re.search(r"start=(teach_[A-Za-z0-9_-]+)", invite)
    assert token, invite
    [before] = await bot.send(NEWBIE, "/start_session 10")
    assert "Only teachers" in before
    [welcome] = await bot.send(NEWBIE, f"/start {token[1]}")
    assert "You are now a teacher" in welcome
    assert command_names(menu_calls(bot, NEWBIE)[-1])[:2] == ["checkin", "join"]
    assert "start_session" in command_names(menu_calls(bot, NEWBIE)[-1])
    [again] = await bot.send(NEWBIE + 1, f"/start {token[1]}")
    assert "not valid" in again  # one use only
    [card] = await bot.send(NEWBIE, "/start_session 10 Guest lecture")
    assert "<code>" in card
    await bot.send(NEWBIE, "/end_session")

    [stored] = [row["token_hash"] for row in await stored_tables.rows("teacher_invites")]
    assert token[1].removeprefix("teach_") not in stored  # only a hash is kept

    [listing] = await bot.send(ADMIN_ID, "/teachers")
    assert str(NEWBIE) in listing and str(TEACHER_ID) in listing
    [removed] = await bot.send(ADMIN_ID, f"/remove_teacher {NEWBIE}")
    assert "no longer a teacher" in removed
    assert menu_calls(bot, NEWBIE)[-1].method == "deleteMyCommands"
    [after] = await bot.send(NEWBIE, "/start_session 10")
    assert "Only teachers" in after
    # Hand-made button data from the removed teacher starts nothing either.
    await bot.press(NEWBIE, "ss:1:10:")
    assert await bot.services.sessions.open_session(NEWBIE) is None
    [configured] = await bot.send(ADMIN_ID, f"/remove_teacher {TEACHER_ID}")
    assert "ATTN_TEACHER_IDS" in configured


async def test_teacher_invite_expires_after_24_hours(bot: BotHarness, clock: ManualClock) -> None:
    [invite] = await bot.send(ADMIN_ID, "/add_teacher")
    token = re.search(r"start=(teach_[A-Za-z0-9_-]+)", invite)
    assert token
    clock.advance(hours=24, seconds=1)
    [late] = await bot.send(NEWBIE, f"/start {token[1]}")
    assert "not valid" in late
    assert not await bot.services.roles.is_teacher(NEWBIE)


async def everything_stored(redis: Redis, tables: StoredTables) -> str:
    """Every value in Redis and every text cell of every table, as one searchable string."""
    parts: list[str] = []
    async for key in redis.scan_iter(count=1000):
        kind = (await redis.type(key)).decode()
        if kind == "string":
            parts.append(repr(await redis.get(key)))
        elif kind == "hash":
            parts.append(repr(await redis.hgetall(key)))
        elif kind == "set":
            parts.append(repr(await redis.smembers(key)))
        elif kind == "zset":
            parts.append(repr(await redis.zrange(key, 0, -1)))
    parts.append(await everything(tables))
    return "\n".join(parts)


async def test_forgetme_removes_name_and_number_everywhere(
    bot: BotHarness, clock: ManualClock, clean_redis: Redis, stored_tables: StoredTables
) -> None:
    student = 41_001
    [created] = await bot.send(TEACHER_ID, "/new_course Ethics")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join
    await bot.send(student, f"/join {join[1]}")
    await bot.send(student, "Zbigniew Quetzalcoatl 7788123")
    await bot.send(41_002, f"/join {join[1]}")
    for _ in range(3):
        [card] = await bot.send(TEACHER_ID, "/start_session Ethics 30")
        code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
        assert code
        await bot.send(student, f"/checkin {code[1]}")
        await bot.send(TEACHER_ID, "/end_session")
        clock.advance(minutes=1)
        await bot.services.sweeper.sweep_attendances()
        clock.advance(days=1)
    [mine] = await bot.send(student, "/mydata")
    assert "Zbigniew Quetzalcoatl" in mine and "7788123" in mine and "Ethics" in mine
    assert "Attendance records: 3" in mine
    course = (await bot.services.courses.teacher_courses(TEACHER_ID))[0]
    before = await bot.services.reports.course_report(TEACHER_ID, course)

    [confirm] = await bot.send(student, "/forgetme")
    assert "Go ahead?" in confirm
    await bot.press(student, "fg:no")
    assert "Zbigniew" in await everything_stored(clean_redis, stored_tables)
    await bot.press(student, "fg:yes")

    stored = await everything_stored(clean_redis, stored_tables)
    for secret in ("Zbigniew", "Quetzalcoatl", "7788123"):
        assert secret not in stored
    after = await bot.services.reports.course_report(TEACHER_ID, course)
    assert len(after.sessions) == len(before.sessions) == 3
    assert [s.percent for s in after.sessions] == [s.percent for s in before.sessions]
    # Off the roster (no "Former student" absent from every session to come), while the
    # sessions' rates, counted from the records, stay as they were.
    assert [(s.student_id, s.present, s.absent) for s in after.standings] == [
        (s.student_id, s.present, s.absent) for s in before.standings if s.student_id != student
    ]
    assert "Former student" not in {s.name for s in after.standings}


async def test_privacy_and_retention(bot: BotHarness, clock: ManualClock) -> None:
    [text] = await bot.send(5, "/privacy")
    assert "400 days" in text and "never your coordinates" in text
    [nothing] = await bot.send(6, "/mydata")
    assert "Telegram id: 6" in nothing
    await bot.send(TEACHER_ID, "/start_session 10 Old")
    await bot.send(TEACHER_ID, "/end_session")
    await bot.services.sweeper.sweep_attendances()
    clock.advance(days=399)
    assert await bot.services.privacy.apply_retention() == 0
    clock.advance(days=2)
    assert await bot.services.privacy.apply_retention() == 1
    assert await bot.services.records.sessions.latest_session(TEACHER_ID) is None

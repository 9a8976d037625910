"""What the breaker found in the course features: names that differ only in letter case,
/mark's student step naming its course, and host files offered as time zones."""

from __future__ import annotations

from services.clock import ManualClock
from tests.bot.test_choosers import STUDENTS, course_with_students, saved_session
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness


async def names(bot: BotHarness) -> list[str]:
    return sorted(c.name for c in await bot.services.courses.teacher_courses(TEACHER_ID))


async def test_course_names_differing_only_in_case_are_refused(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/new_course Math 101")
    await bot.send(TEACHER_ID, "/new_course Physics")
    [taken] = await bot.send(TEACHER_ID, "/new_course physics")
    assert "already" in taken.lower(), taken
    [renamed] = await bot.send(TEACHER_ID, "/rename_course Math 101 PHYSICS")
    assert "already" in renamed.lower(), renamed
    assert await names(bot) == ["Math 101", "Physics"]
    # A course may still change the case of its own name.
    await bot.send(TEACHER_ID, "/rename_course Physics PHYSICS")
    assert await names(bot) == ["Math 101", "PHYSICS"]


async def test_mark_student_step_names_the_course(bot: BotHarness, clock: ManualClock) -> None:
    await course_with_students(bot, "Math 101", STUDENTS[:3])
    session_id = await saved_session(bot, clock, "Math 101", STUDENTS[0])
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, f"mk:s:{session_id}:0")
    edits = [c for c in bot.request.calls[before:] if c.method == "editMessageText"]
    assert edits, bot.request.calls[before:]
    text = edits[-1].text
    assert "Math 101" in text and "()" not in text, text


async def test_host_zone_files_are_not_course_zones(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/new_course Math 101")
    for word in ("localtime", "Factory", "posixrules"):
        [reply] = await bot.send(TEACHER_ID, f"/course_settings Math 101 tz={word}")
        assert "nothing was changed" in reply, (word, reply)
    [course] = await bot.services.courses.teacher_courses(TEACHER_ID)
    assert course.time_zone in (None, "")

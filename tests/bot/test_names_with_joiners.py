"""Names as people write them: a Persian word with its zero-width non-joiner, an emoji made of
joined emoji, a Hindi name whose vowels are spacing marks. Kept as typed, never split."""

from __future__ import annotations

from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness

STUDENT = 5001
PROGRAMMING = "برنامه\u200cنویسی"  # one word: "programming"
FAMILY = "👩\u200d👩\u200d👧"  # one emoji


async def test_a_course_name_keeps_its_joiners_and_loses_invisible_marks(bot: BotHarness) -> None:
    [made] = await bot.send(TEACHER_ID, f"/new_course {PROGRAMMING} {FAMILY}", language_code="fa")
    courses = await bot.services.courses.teacher_courses(TEACHER_ID)
    assert [c.name for c in courses] == [f"{PROGRAMMING} {FAMILY}"], made
    # A right-to-left mark typed inside a word is dropped, not made into a space.
    await bot.send(TEACHER_ID, f"/rename_course {PROGRAMMING} {FAMILY} ریاضی\u200f۱")
    courses = await bot.services.courses.teacher_courses(TEACHER_ID)
    assert [c.name for c in courses] == ["ریاضی۱"]
    # Nothing but invisible characters is no name.
    [refused] = await bot.send(TEACHER_ID, "/new_course \u200c\u200f")
    assert "/new_course" in refused
    assert len(await bot.services.courses.teacher_courses(TEACHER_ID)) == 1


async def test_persian_and_hindi_names_can_be_registered(bot: BotHarness) -> None:
    for name in ("علی حسین\u200cزاده", "मोहन शर्मा"):
        [registered] = await bot.send(STUDENT, f"/register {name}")
        assert name in registered
        assert f"Registered name: {name}" in (await bot.send(STUDENT, "/mydata"))[0]
    # A joiner with nothing to join is still refused.
    [refused] = await bot.send(STUDENT, "/register Ann \u200c Smith")
    assert "only contain letters" in refused
    assert "Registered name: मोहन शर्मा" in (await bot.send(STUDENT, "/mydata"))[0]

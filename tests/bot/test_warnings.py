"""Early warnings through the bot: an alert on the third absence in a row to the student and
the teacher (once), none to whoever switched alerts off in /settings, none when the course
turned them off with /grading; the weekly digest as the teacher reads it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.alerts import TelegramAlertSender
from bot.container import Services
from bot.languages import RecipientLanguages
from services.clock import ManualClock
from services.models import AttendanceStatus, CheckIn, Session, SessionState
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html

P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT
ANN, BOB = 53_001, 53_002
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def math_course(bot: BotHarness, services: Services) -> int:
    [created] = await bot.send(TEACHER_ID, "/new_course Math 101")
    link = re.search(r"start=(join_[A-Za-z0-9_-]+)", created)
    assert link, created
    for student, name in ((ANN, "Ann Lee"), (BOB, "Bob Ray")):
        await bot.send(student, f"/start {link[1]}")
        await bot.send(student, name)
    [course] = await services.records.courses.teacher_courses(TEACHER_ID)
    return course.id


async def session(services: Services, course_id: int, n: int, ann: str, bob: str) -> None:
    started = T0 + timedelta(days=n)
    session_id = f"{n:012x}"
    await services.records.sessions.persist_session(
        Session(
            id=session_id,
            teacher_id=TEACHER_ID,
            chat_id=TEACHER_ID,
            title=f"Week {n}",
            code="",
            started_at=started,
            ends_at=started + timedelta(hours=1),
            state=SessionState.SEALED,
            course_id=course_id,
        ),
        [
            CheckIn(session_id, ANN, None, AttendanceStatus(ann)),
            CheckIn(session_id, BOB, None, AttendanceStatus(bob)),
        ],
    )


def sender(bot: BotHarness, services: Services) -> TelegramAlertSender:
    return TelegramAlertSender(bot.app.bot, bot.services_tz, RecipientLanguages(services.users))


def alerts_to(bot: BotHarness, chat: int) -> list[str]:
    return [text for text in bot.request.texts(chat) if text.startswith("⚠️")]


async def test_three_absences_in_a_row_alert_once(bot: BotHarness, services: Services) -> None:
    course = await math_course(bot, services)
    await session(services, course, 1, "present", "present")
    await session(services, course, 2, "absent", "present")
    await session(services, course, 3, "absent", "absent")
    assert await services.warnings.send_absence_alerts(sender(bot, services)) == 0
    await session(services, course, 4, "absent", "absent")
    for _ in range(3):  # every tick of the job, in every process
        await services.warnings.send_absence_alerts(sender(bot, services))
    [to_ann] = alerts_to(bot, ANN)
    assert "You missed the last 3 sessions of <b>Math 101</b> in a row" in to_ann
    [to_teacher] = alerts_to(bot, TEACHER_ID)
    assert to_teacher == (
        "⚠️ <b>Ann Lee</b> missed the last 3 sessions of <b>Math 101</b> in a row."
    )
    assert alerts_to(bot, BOB) == []  # two in a row: not yet

    # Bob switches alerts off: his third absence reaches the teacher only.
    await bot.send(BOB, "/settings")
    await bot.press(BOB, "st:alert:off")
    [*_, edited] = [c.text for c in bot.request.calls if c.method == "editMessageText"]
    assert "Absence alerts and the weekly digest: off" in edited
    await session(services, course, 5, "absent", "absent")
    await services.warnings.send_absence_alerts(sender(bot, services))
    assert alerts_to(bot, BOB) == []
    assert "<b>Bob Ray</b> missed the last 3 sessions" in alerts_to(bot, TEACHER_ID)[-1]
    assert len(alerts_to(bot, ANN)) == 1  # her streak goes on: still one alert


async def test_a_course_without_alerts_sends_none(bot: BotHarness, services: Services) -> None:
    course = await math_course(bot, services)
    [reply] = await bot.send(TEACHER_ID, "/grading Math 101 streak=off")
    assert "No alert on absences in a row" in reply
    for n in range(1, 5):
        await session(services, course, n, "absent", "present")
    assert await services.warnings.send_absence_alerts(sender(bot, services)) == 0
    assert alerts_to(bot, ANN) == [] and alerts_to(bot, TEACHER_ID) == []
    [reply] = await bot.send(TEACHER_ID, "/grading Math 101 streak=2 alert=teacher")
    assert "After 2 absences in a row, you are alerted" in reply
    assert await services.warnings.send_absence_alerts(sender(bot, services)) == 1
    assert alerts_to(bot, ANN) == []
    assert "missed the last 4 sessions" in alerts_to(bot, TEACHER_ID)[0]


async def test_the_weekly_digest_reads_well(
    bot: BotHarness, services: Services, clock: ManualClock
) -> None:
    course = await math_course(bot, services)
    for n in range(1, 6):  # Bob misses 4, 5 and 6: 3 of 6, below 70 %
        await session(services, course, n, "present", "absent" if n >= 4 else "present")
    await session(services, course, 6, "absent", "absent")
    clock.set(T0 + timedelta(days=7, hours=1))  # Monday 2026-11-09 10:00 UTC, week 46
    await services.warnings.send_weekly_digests(sender(bot, services))
    await services.warnings.send_weekly_digests(sender(bot, services))
    [digest] = [t for t in bot.request.texts(TEACHER_ID) if "Your week" in t]
    assert_valid_telegram_html(digest)
    assert "<b>Your week — 2026-W46</b>" in digest
    assert "• Bob Ray — 50%" in digest
    # The course's mean is (3 x 100 + 50 + 50 + 0) / 6 = 66.7 %; 15 points under it is 51.7 %.
    assert digest.endswith(
        "Sessions with unusually low attendance:\n"
        "• 2026-11-06 09:00 Week 4 — 50%\n"
        "• 2026-11-07 09:00 Week 5 — 50%\n"
        "• 2026-11-08 09:00 Week 6 — 0%"
    )

"""A term run by its timetable, on a manual clock, by two bot processes (two Applications,
each with its own services and clients) sharing one real Redis and PostgreSQL.

Mon/Wed 10:00 Europe/Madrid for 90 minutes, opened 5 minutes early, reminded 15 minutes
before, from Monday 15 March 2027 for three weeks; Wednesday the 24th is a holiday; Madrid
changes to summer time on Sunday 28 March. Both processes are down from Sunday 21 until
Monday 22 at noon, and come back as new processes. Every class opens and closes exactly
once (one card to the teacher, one to the linked group, one saved session, one summary),
each reminder and the one missed-class alert (Monday 22) arrive once, nothing opens on the
holiday, and the change of summer time moves no class.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
from redis.asyncio import Redis
from telegram.ext import CallbackContext

from bot.bootstrap import build_services
from bot.jobs import deliver_summaries_task, sweep_attendances_task, timetable_task
from bot.text import t
from services.clock import ManualClock
from services.models import UserProfile
from services.timetable_slots import SlotRule
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness

STUDENT = 5001
GROUP = -100_4242
# The moments around which something happens each class day (UTC): reminders, openings,
# starts and ends, in winter (CET, UTC+1) and in summer (CEST, UTC+2).
KEY_TIMES = [time(7, 40), time(7, 55), time(8, 40), time(8, 55), time(9, 30), time(10, 30)]


def ctx(bot: BotHarness) -> CallbackContext:  # type: ignore[type-arg]
    return bot.app.context_types.context(bot.app)


class Process:
    """One bot process: its own services (Redis and PostgreSQL clients) and Application."""

    def __init__(self, bot: BotHarness) -> None:
        self.bot = bot

    @classmethod
    async def start(
        cls, stack: AsyncExitStack, redis_url: str, database_url: str, clock: ManualClock
    ) -> Process:
        settings = make_settings()
        services = await build_services(settings, redis_url, database_url, clock=clock)
        stack.push_async_callback(services.close)
        bot = await stack.enter_async_context(BotHarness(settings, services))
        # The teacher and the group know the bot (as on Telegram, whichever process answers).
        bot.request.api.register_chat(TEACHER_ID)
        bot.request.api.register_chat(GROUP, "group", title="Maths 1A")
        return cls(bot)

    async def tick(self) -> None:
        context = ctx(self.bot)
        await timetable_task(context)
        await sweep_attendances_task(context)
        await deliver_summaries_task(context)


def step_after(now: datetime) -> timedelta:
    """Every minute from two minutes before each of the day's key times to two after (so
    each stage is offered to both processes several times), else to the next such window
    or the next hour."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [day + timedelta(hours=k.hour, minutes=k.minute) for k in KEY_TIMES]
    if any(abs(now - at) <= timedelta(minutes=2) for at in windows):
        return timedelta(minutes=1)
    upcoming = [at - timedelta(minutes=2) for at in windows if at - timedelta(minutes=2) > now]
    next_hour = now.replace(minute=0) + timedelta(hours=1)
    return min([*upcoming, next_hour]) - now


async def run_until(
    processes: list[Process], clock: ManualClock, end: datetime, checked_in: set[str]
) -> None:
    """Both processes tick at each step; a student checks in to each class once it is open."""
    while clock.now() < end:
        for process in processes:
            await process.tick()
            services = process.bot.services
            session = await services.sessions.open_session(TEACHER_ID)
            if session is not None and session.id not in checked_in:
                await services.checkins.check_in(STUDENT, session.code)
                checked_in.add(session.id)
        clock.set(min(end, clock.now() + step_after(clock.now())))


def teacher_texts(processes: list[Process], marker: str) -> list[str]:
    return [
        text
        for p in processes
        for text in p.bot.request.texts(TEACHER_ID)
        if text.startswith(marker)
    ]


async def test_two_processes_run_a_term_with_a_restart_and_summer_time(
    redis_url: str, clean_redis: Redis, clean_database: str, clock: ManualClock
) -> None:
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))
    everyone: list[Process] = []
    checked_in: set[str] = set()
    async with AsyncExitStack() as first_run:
        a = await Process.start(first_run, redis_url, clean_database, clock)
        b = await Process.start(first_run, redis_url, clean_database, clock)
        everyone += [a, b]
        services = a.bot.services
        course = await services.courses.new_course(TEACHER_ID, "Maths")
        course = await services.courses.update_settings(
            TEACHER_ID, course, None, None, time_zone="Europe/Madrid"
        )
        await services.courses.join_by_code(UserProfile(STUDENT, "Ann"), course.join_code)
        tt = services.timetables
        for weekday in (0, 2):
            await tt.add_slot(TEACHER_ID, course.id, SlotRule(weekday, time(10), 90))
        await tt.set_term(TEACHER_ID, course.id, date(2027, 3, 15), date(2027, 4, 4))
        await tt.toggle_holiday(TEACHER_ID, course.id, date(2027, 3, 24))
        await tt.set_minutes(TEACHER_ID, course.id, early=5, remind=15)
        await tt.link_group(TEACHER_ID, course.id, GROUP)
        clock.set(datetime(2027, 3, 14, 12, tzinfo=UTC))
        await run_until([a, b], clock, datetime(2027, 3, 21, tzinfo=UTC), checked_in)
    # Both down until Monday 22 at noon: that class passes without them.
    clock.set(datetime(2027, 3, 22, 12, tzinfo=UTC))
    async with AsyncExitStack() as second_run:
        c = await Process.start(second_run, redis_url, clean_database, clock)
        d = await Process.start(second_run, redis_url, clean_database, clock)
        everyone += [c, d]
        await run_until([c, d], clock, datetime(2027, 4, 5, tzinfo=UTC), checked_in)

    reminders = sorted(teacher_texts(everyone, "⏰"))
    assert [r.split(" (")[0] for r in reminders] == [
        "⏰ Maths starts at 2027-03-15 10:00 CET",
        "⏰ Maths starts at 2027-03-17 10:00 CET",
        "⏰ Maths starts at 2027-03-29 10:00 CEST",
        "⏰ Maths starts at 2027-03-31 10:00 CEST",
    ]
    assert teacher_texts(everyone, "⚠️") == [
        t("timetable.missed.no_session", course="Maths", when="2027-03-22 10:00 CET")
    ]
    cards = [c for p in everyone for c in p.bot.request.sent(TEACHER_ID) if c.method == "sendPhoto"]
    group_cards = [c for p in everyone for c in p.bot.request.sent(GROUP)]
    assert len(cards) == 4 and len(group_cards) == 4
    summary_files = [
        c for p in everyone for c in p.bot.request.sent(TEACHER_ID) if c.method == "sendDocument"
    ]
    assert len(summary_files) == 4 and len(checked_in) == 4

    conn = await asyncpg.connect(clean_database)
    try:
        sessions = await conn.fetch(
            "SELECT id, started_at, ends_at FROM sessions WHERE course_id = $1 ORDER BY started_at",
            course.id,
        )
        sent = await conn.fetchval("SELECT count(*) FROM summary_outbox WHERE sent_at IS NOT NULL")
        attended = await conn.fetchval(
            "SELECT count(*) FROM attendance WHERE student_id = $1 AND status = 'present'",
            STUDENT,
        )
        runs = await conn.fetch(
            "SELECT starts_at, session_id, reported_at IS NOT NULL AS reported"
            " FROM timetable_runs ORDER BY starts_at"
        )
    finally:
        await conn.close()
    utc = [(s["started_at"].astimezone(UTC), s["ends_at"].astimezone(UTC)) for s in sessions]
    assert utc == [
        (datetime(2027, 3, 15, 8, 55, tzinfo=UTC), datetime(2027, 3, 15, 10, 30, tzinfo=UTC)),
        (datetime(2027, 3, 17, 8, 55, tzinfo=UTC), datetime(2027, 3, 17, 10, 30, tzinfo=UTC)),
        (datetime(2027, 3, 29, 7, 55, tzinfo=UTC), datetime(2027, 3, 29, 9, 30, tzinfo=UTC)),
        (datetime(2027, 3, 31, 7, 55, tzinfo=UTC), datetime(2027, 3, 31, 9, 30, tzinfo=UTC)),
    ]
    assert sent == 4 and attended == 4
    assert [r["starts_at"].astimezone(UTC).day for r in runs] == [15, 17, 22, 29, 31]
    assert [r["session_id"] for r in runs if r["session_id"]] == [s["id"] for s in sessions]
    assert all(r["reported"] for r in runs)

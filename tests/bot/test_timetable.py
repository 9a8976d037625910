"""/timetable: classes added with buttons in one message edited in place, a CSV import that
names each bad line, a group linked to the course, refusals to anyone but the course's
teacher, and what the timetable's tick posts (card, reminder, missed class)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from telegram.ext import CallbackContext

from bot import replies
from bot.jobs import timetable_task
from bot.text import t
from services.clock import ManualClock
from services.timetable_slots import SlotRule
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html

STUDENT = 5001
OTHER_TEACHER = 1002
GROUP = -100_777


def ctx(bot: BotHarness) -> CallbackContext:  # type: ignore[type-arg]
    return bot.app.context_types.context(bot.app)


def keyboard(call_params: dict[str, object]) -> dict[str, str]:
    markup = call_params["reply_markup"]
    assert isinstance(markup, dict)
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


def last_edit(bot: BotHarness) -> dict[str, object]:
    [*_, edit] = [c for c in bot.request.calls if c.method == "editMessageText"]
    assert edit.status == 200, edit.error
    assert_valid_telegram_html(edit.text)
    return edit.params


async def new_course(bot: BotHarness, name: str = "Maths") -> int:
    await bot.send(TEACHER_ID, f"/new_course {name}")
    [course] = [c for c in await bot.services.courses.teacher_courses(TEACHER_ID) if c.name == name]
    return course.id


async def test_a_class_is_added_with_buttons_in_one_message(
    bot: BotHarness, clock: ManualClock
) -> None:
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))  # a Monday
    course_id = await new_course(bot)
    [shown] = await bot.send(TEACHER_ID, "/timetable")
    assert t("timetable.no_slots") in shown and "Maths" in shown
    assert_valid_telegram_html(shown)
    buttons = keyboard(bot.request.calls[-1].params)
    assert all(len(data.encode()) <= 64 for data in buttons.values())

    await bot.press(TEACHER_ID, buttons[t("timetable.button.add", html=False)])
    await bot.press(TEACHER_ID, keyboard(last_edit(bot))["📅 Wed"])
    await bot.press(TEACHER_ID, keyboard(last_edit(bot))["🕘 10:00"])
    await bot.press(TEACHER_ID, keyboard(last_edit(bot))["🕘 10:15"])
    lengths = last_edit(bot)
    assert "Wed 10:15" in str(lengths["text"])
    await bot.press(TEACHER_ID, keyboard(lengths)["90 min"])
    shown_after = last_edit(bot)
    assert "• Wed 10:15–11:45" in str(shown_after["text"])
    assert "Next class: 2027-03-03 10:15" in str(shown_after["text"])
    early = keyboard(shown_after)[t("timetable.button.early", minutes=5, html=False)]
    await bot.press(TEACHER_ID, early)
    assert t("timetable.early", minutes=5) in str(last_edit(bot)["text"])

    # Skip the first Wednesday: a tap on its date.
    await bot.press(TEACHER_ID, keyboard(last_edit(bot))[t("timetable.button.skip", html=False)])
    dates = keyboard(last_edit(bot))
    await bot.press(TEACHER_ID, dates["📅 2027-03-03"])
    assert "✓ 2027-03-03 (skipped)" in keyboard(last_edit(bot))

    stored = await bot.services.records.timetables.timetable(course_id)
    assert stored is not None
    assert stored.rules == (SlotRule(2, time(10, 15), 90),)
    assert stored.holidays == frozenset({date(2027, 3, 3)})
    assert stored.early_minutes == 5
    assert stored.first_day == date(2027, 3, 1)

    # Remove it again.
    await bot.press(TEACHER_ID, keyboard(last_edit(bot))[t("timetable.button.back", html=False)])
    await bot.press(TEACHER_ID, keyboard(last_edit(bot))[t("timetable.button.remove", html=False)])
    await bot.press(TEACHER_ID, keyboard(last_edit(bot))["✖ Wed 10:15"])
    assert t("timetable.no_slots") in str(last_edit(bot)["text"])


async def test_a_csv_is_imported_and_each_bad_line_named(
    bot: BotHarness, clock: ManualClock
) -> None:
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))
    course_id = await new_course(bot)
    data = (
        b"slot,Mon,10:00,90\n"
        b"slot,Wed,10:00,90\n"
        b"slot,Fri,=HYPERLINK(1),90\n"
        b"slot,Tue,9h,90\n"
        b"term,2027-03-15,2027-06-30\n"
        b"holiday,2027-04-14,2027-04-18\n"
        b"holiday,sometime\n"
        b"party,tonight\n"
    )
    replies = await bot.send_document(
        TEACHER_ID, data, "maths.csv", "text/csv", caption="/timetable Maths"
    )
    report, shown = replies
    assert t("timetable.import_done", course="Maths", count=2) in report
    assert t("timetable.import_holidays", count=5) in report
    assert t("timetable.import_rejected", count=4) in report
    for number, reason in ((3, "formula"), (4, "time"), (7, "date"), (8, "kind")):
        line = t("timetable.import_line", number=number, reason=t(f"timetable.reason.{reason}"))
        assert line in report
    assert "• Mon 10:00–11:30" in shown and "• Wed 10:00–11:30" in shown
    stored = await bot.services.records.timetables.timetable(course_id)
    assert stored is not None and len(stored.rules) == 2
    assert stored.first_day == date(2027, 3, 15) and len(stored.holidays) == 5

    # A file with nothing usable changes nothing; a file that is not a CSV is refused.
    [nothing] = await bot.send_document(TEACHER_ID, b"what,ever\n", "x.csv", caption="/timetable")
    assert t("timetable.import_nothing") in nothing
    assert await bot.services.records.timetables.timetable(course_id) == stored
    [refused] = await bot.send_document(
        TEACHER_ID, b"\x89PNG", "photo.png", "image/png", caption="/timetable"
    )
    assert refused == t("timetable.import_not_csv")


async def test_students_and_other_teachers_are_refused(bot: BotHarness, clock: ManualClock) -> None:
    course_id = await new_course(bot)
    theirs = await bot.services.records.courses.create_course(
        OTHER_TEACHER, name="Art", join_code="ART23456", invite_token="art"
    )
    assert theirs is not None
    only_teachers = str(replies.NOT_A_TEACHER)
    assert await bot.send(STUDENT, "/timetable") == [only_teachers]
    assert await bot.send_document(
        STUDENT, b"slot,Mon,10:00,90\n", "t.csv", caption="/timetable"
    ) == [only_teachers]
    await bot.press(STUDENT, f"tt:s:{course_id}:0:1000:90")
    await bot.press(STUDENT, f"tt:n:{course_id}")
    await bot.press(TEACHER_ID, f"tt:s:{theirs.id}:0:1000:90")  # another teacher's course
    await bot.press(TEACHER_ID, f"tt:s:{course_id}:9:9999:90")  # forged: no such day or time
    await bot.press(TEACHER_ID, f"tt:s:{course_id}:0:1000:91")  # a length no button offers
    alerts = [c.params.get("text") for c in bot.request.calls if c.method == "answerCallbackQuery"]
    assert alerts == [
        only_teachers,
        only_teachers,
        t("error.not_yours.course"),
        t("error.invalid.timetable.button"),
        t("error.invalid.timetable.button"),
    ]
    assert not [c for c in bot.request.calls if c.method == "editMessageText"]
    assert await bot.services.records.timetables.timetable(course_id) is None
    assert await bot.services.records.timetables.timetable(theirs.id) is None


def sent_to(bot: BotHarness, chat_id: int, since: int) -> list[str]:
    return [
        f"{c.method}: {c.text}"
        for c in bot.request.calls[since:]
        if c.method in ("sendMessage", "sendPhoto")
        and c.status == 200
        and str(c.params.get("chat_id")) == str(chat_id)
    ]


async def test_a_linked_group_gets_the_card_and_the_teacher_reminders_and_alerts(
    bot: BotHarness, clock: ManualClock
) -> None:
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))  # Monday; the course is on UTC
    course_id = await new_course(bot)
    course = await bot.services.courses.course_for_teacher(TEACHER_ID, course_id)
    await bot.send(STUDENT, f"/join {course.join_code}")
    await bot.send(STUDENT, "Ann Example")
    start = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/timetable@attn_test_bot", chat_id=GROUP, chat_type="group")
    assert sent_to(bot, GROUP, start) == [
        "sendMessage: " + t("timetable.group_linked_notice", course="Maths")
    ]
    await bot.services.timetables.add_slot(TEACHER_ID, course_id, SlotRule(2, time(10), 60))

    async def tick_at(hour: int, minute: int, day: int = 3) -> int:
        clock.set(datetime(2027, 3, day, hour, minute, tzinfo=UTC))
        before = len(bot.request.calls)
        await timetable_task(ctx(bot))
        await bot.services.sweeper.sweep_attendances()
        return before

    before = await tick_at(9, 45)
    [reminder] = sent_to(bot, TEACHER_ID, before)
    assert "⏰ Maths starts at 2027-03-03 10:00 (in 15 min)" in reminder
    assert not sent_to(bot, GROUP, before)
    assert not sent_to(bot, TEACHER_ID, await tick_at(9, 46))  # reminded once

    before = await tick_at(10, 0)
    [card] = sent_to(bot, TEACHER_ID, before)
    [group_card] = sent_to(bot, GROUP, before)
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.code in card and session.code not in group_card
    assert session.ends_at == datetime(2027, 3, 3, 11, 0, tzinfo=UTC)
    assert not sent_to(bot, TEACHER_ID, await tick_at(10, 1))  # opened once

    # Nobody checks in; the class ends by itself and the teacher hears so once.
    await tick_at(11, 0)
    assert await bot.services.sessions.open_session(TEACHER_ID) is None
    before = await tick_at(11, 1)
    alerts = [m for m in sent_to(bot, TEACHER_ID, before) if "⚠️" in m]
    assert alerts == [
        "sendMessage: " + t("timetable.missed.nobody_came", course="Maths", when="2027-03-03 10:00")
    ]
    assert not [m for m in sent_to(bot, TEACHER_ID, await tick_at(11, 2)) if "⚠️" in m]

    # The next week the teacher opens it early from the reminder's button.
    before = await tick_at(9, 45, day=10)
    [reminder] = sent_to(bot, TEACHER_ID, before)
    [reminder_call] = [c for c in bot.request.calls[before:] if c.method == "sendMessage"]
    start_now = keyboard(reminder_call.params)[t("timetable.button.start_now", html=False)]
    clock.set(datetime(2027, 3, 10, 9, 50, tzinfo=UTC))
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, start_now)
    assert len(sent_to(bot, TEACHER_ID, before)) == 1 and len(sent_to(bot, GROUP, before)) == 1
    early = await bot.services.sessions.open_session(TEACHER_ID)
    assert early is not None and early.started_at == datetime(2027, 3, 10, 9, 50, tzinfo=UTC)
    before = await tick_at(10, 0, day=10)
    assert not sent_to(bot, TEACHER_ID, before) and not sent_to(bot, GROUP, before)
    await bot.press(TEACHER_ID, start_now)  # a second tap opens nothing
    assert await bot.services.sessions.open_session(TEACHER_ID) == early

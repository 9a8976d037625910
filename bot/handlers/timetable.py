"""/timetable: a course's weekly classes, in one message whose buttons change it in place;
a CSV file sent with the caption `/timetable [course]` imports one; `/timetable` in a group
links that group to the course (its timetabled sessions' cards go there too).

Every press is checked again by the service (the course must be one the presser may set the
timetable of), so forged or stale buttons change nothing.
"""

from __future__ import annotations

import logging
from datetime import date, time

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot import choosers
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.private import in_group
from bot.replies import timetable as view
from bot.replying import edit_in_place, respond, send_later
from bot.text import Text, t
from bot.timetable_cards import post_slot_session
from services.course_access import Permission
from services.course_admin import active
from services.errors import InvalidArgument
from services.models import Course
from services.timetable_slots import MAX_CSV_BYTES, SlotRule, Timetable, class_days

log = logging.getLogger(__name__)


async def _course_from_words(
    update: Update, context: AttnContext, words: list[str]
) -> Course | None:
    """The course named by `words`, or the user's only one; None after asking which (with
    buttons privately, or how to name it in a group)."""
    user = update.effective_user
    assert user is not None
    services = context.services
    if words:
        course, _ = await services.courses.find_teacher_course(user.id, words, Permission.SETTINGS)
        return course
    courses = active(await services.courses.teacher_courses(user.id, Permission.SETTINGS))
    if len(courses) == 1:
        return courses[0]
    if not courses:
        raise InvalidArgument("course", "unknown")
    if in_group(update):
        respond(context, update, t("timetable.group_name_course"))
    else:
        markup = choosers.course_buttons("tt", courses)
        respond(context, update, t("timetable.choose_course"), reply_markup=markup)
    return None


async def timetable_command(update: Update, context: AttnContext) -> None:
    """/timetable [course]: the course's timetable with its buttons; in a group, link the
    group to the course."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    await context.services.access.require_any(user.id, Permission.SETTINGS)
    course = await _course_from_words(update, context, list(context.args or []))
    if course is None:
        return
    if in_group(update):
        await context.services.timetables.link_group(user.id, course.id, chat.id)
        notice = t("timetable.group_linked_notice", course=course.name)
        send_later(context, update, context.bot.send_message(chat.id, notice))
        return
    text, markup = await _timetable_view(context, user.id, course.id)
    respond(context, update, text, reply_markup=markup)


async def _timetable_view(
    context: AttnContext, user_id: int, course_id: int
) -> tuple[Text, InlineKeyboardMarkup]:
    timetables = context.services.timetables
    course, timetable = await timetables.course_timetable(user_id, course_id)
    coming = await timetables.coming_slots(course.id, limit=1) if timetable.rules else []
    return (
        view.timetable_text(course, timetable, coming, context.tz),
        view.timetable_keyboard(course.id, timetable),
    )


async def timetable_button(update: Update, context: AttnContext) -> None:
    """Any button of the timetable message (or of a reminder: "start now")."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = view.parse_button(query.data or "")
    if parsed is None:
        raise InvalidArgument("timetable", "button")
    step, course_id, numbers = parsed
    services = context.services
    if step == "l":  # a page of the course chooser
        courses = active(await services.courses.teacher_courses(user.id, Permission.SETTINGS))
        markup = choosers.course_buttons("tt", courses, course_id)
        await edit_in_place(update, t("timetable.choose_course"), markup)
        return
    if step == "n":
        await _start_now(update, context, course_id)
        return
    timetables = services.timetables
    course, timetable = await timetables.course_timetable(user.id, course_id)
    picker = None
    if step == "a":
        picker = view.weekday_picker(course.id)
    elif step == "w" and 0 <= numbers[0] <= 6:
        picker = view.hour_picker(course.id, numbers[0])
    elif step == "t" and numbers[0] <= 6 and numbers[1] in view.HOUR_CHOICES:
        picker = view.minute_picker(course.id, numbers[0], numbers[1])
    elif step == "k" and numbers[0] <= 6 and _start(numbers[1]) is not None:
        picker = view.length_picker(course.id, numbers[0], numbers[1])
    elif step == "r":
        picker = view.remove_picker(course.id, timetable)
    elif step == "h":
        picker = _skip_picker(context, course, timetable, numbers[0])
    if picker is not None:
        await edit_in_place(update, *picker)
        return
    await _change(context, user.id, course.id, step, numbers)
    if step == "x":
        _, timetable = await timetables.course_timetable(user.id, course.id)
        await edit_in_place(update, *_skip_picker(context, course, timetable, numbers[1]))
        return
    text, markup = await _timetable_view(context, user.id, course.id)
    await edit_in_place(update, text, markup)


def _start(hhmm: int) -> time | None:
    hours, minutes = divmod(hhmm, 100)
    return time(hours, minutes) if hours < 24 and minutes < 60 else None


def _skip_picker(
    context: AttnContext, course: Course, timetable: Timetable, page: int
) -> tuple[Text, InlineKeyboardMarkup]:
    """The term's class dates from today, a page at a time."""
    today = (
        context.services.timetables.now()
        .astimezone(context.services.timetables.zone(course))
        .date()
    )
    skip = min(page, 50) * view.DAYS_PER_PAGE
    days = class_days(timetable, today, skip, view.DAYS_PER_PAGE + 1)
    more = len(days) > view.DAYS_PER_PAGE
    return view.skip_picker(course.id, days[: view.DAYS_PER_PAGE], timetable.holidays, page, more)


async def _change(
    context: AttnContext, user_id: int, course_id: int, step: str, numbers: list[int]
) -> None:
    """Save what a button changes; a value no button could carry is refused."""
    timetables = context.services.timetables
    if step == "s":
        weekday, hhmm, minutes = numbers
        start = _start(hhmm)
        if weekday > 6 or start is None or minutes not in view.LENGTH_CHOICES:
            raise InvalidArgument("timetable", "button")
        await timetables.add_slot(user_id, course_id, SlotRule(weekday, start, minutes))
    elif step == "d":
        start = _start(numbers[1])
        if start is None:
            raise InvalidArgument("timetable", "button")
        await timetables.remove_slot(user_id, course_id, numbers[0], start)
    elif step == "x":
        day = _day(numbers[0])
        if day is None:
            raise InvalidArgument("timetable", "button")
        await timetables.toggle_holiday(user_id, course_id, day)
    elif step in ("f", "e") and numbers[0] in (0, 1):
        days = 7 if numbers[0] else -7
        if step == "f":
            await timetables.shift_term(user_id, course_id, first_days=days)
        else:
            await timetables.shift_term(user_id, course_id, last_days=days)
    elif step == "o" and numbers[0] in view.EARLY_CHOICES:
        await timetables.set_minutes(user_id, course_id, early=numbers[0])
    elif step == "m" and numbers[0] in view.REMIND_CHOICES:
        await timetables.set_minutes(user_id, course_id, remind=numbers[0])
    elif step == "u":
        await timetables.link_group(user_id, course_id, None)
    elif step != "c":
        raise InvalidArgument("timetable", "button")


def _day(yyyymmdd: int) -> date | None:
    try:
        return date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)
    except ValueError:
        return None


async def _start_now(update: Update, context: AttnContext, course_id: int) -> None:
    """The reminder's "start now": open the coming class's session early, by the presser,
    who gets its card (and the linked group)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    opened = await context.services.timetable_runs.start_slot_now(user.id, course_id)
    await query.answer(str(t("timetable.started", html=False)))
    await post_slot_session(context, opened)


async def timetable_file(update: Update, context: AttnContext) -> None:
    """A CSV file sent with the caption `/timetable [course]`: import it, and report each
    line it refused."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None and message.document is not None
    await context.services.access.require_any(user.id, Permission.SETTINGS)
    words = (message.caption or "").split()[1:]
    course = await _course_from_words(update, context, words)
    if course is None:
        return
    document = message.document
    name = (document.file_name or "").lower()
    if (document.file_size or 0) > MAX_CSV_BYTES or not name.endswith((".csv", ".txt")):
        respond(context, update, t("timetable.import_not_csv"))
        return
    try:
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download a timetable file: %s", exc)
        respond(context, update, t("timetable.import_not_csv"))
        return
    result = await context.services.timetables.import_csv(user.id, course.id, data)
    respond(context, update, view.import_report(course, result))
    if result.saved:
        text, markup = await _timetable_view(context, user.id, course.id)
        respond(context, update, text, reply_markup=markup)


COMMANDS: tuple[Command, ...] = (Command("timetable", timetable_command, Role.TEACHER),)

"""/timetable's one message (the timetable and its buttons, edited in place), its pickers,
and the messages the timetable sends by itself (reminder, missed class, import report).

Button data is `tt:<step>:<course id>[:<n>...]`, at most 64 bytes, read back strictly by
`parse_button` and checked again by the service (the course must be the presser's).
"""

from __future__ import annotations

import re
from datetime import date, tzinfo

from babel.dates import format_skeleton, get_day_names
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies.format import _locale, fmt_datetime_in, zone_of
from bot.telegram_limits import checked_keyboard, fit_html
from bot.text import Text, current_language, join, t
from services.models import Course
from services.timetable_slots import CsvImport, Slot, SlotRule, Timetable

#: The choices the buttons offer.
EARLY_CHOICES = (0, 5, 10, 15)
REMIND_CHOICES = (0, 15, 30, 60)
LENGTH_CHOICES = (45, 60, 90, 120, 180)
HOUR_CHOICES = tuple(range(7, 22))
MINUTE_CHOICES = (0, 10, 15, 20, 30, 40, 45, 50)
#: Class dates shown at once by "skip a date".
DAYS_PER_PAGE = 8

# step -> how many numbers follow the course id
_ARITY = {
    "c": 0,  # the course picked (or "back"): the timetable
    "l": -1,  # a page of the course chooser: tt:l:<page> (no course id)
    "a": 0,  # add a class: the weekdays
    "w": 1,  # <weekday>: the hours
    "t": 2,  # <weekday>:<hour>: the minutes
    "k": 2,  # <weekday>:<hhmm>: the lengths
    "s": 3,  # <weekday>:<hhmm>:<minutes>: saved
    "r": 0,  # remove a class: the classes
    "d": 2,  # <weekday>:<hhmm>: removed
    "h": 1,  # <page>: class dates to skip
    "x": 2,  # <yyyymmdd>:<page>: skipped, or held again
    "f": 1,  # 0 a week earlier, 1 later: the term's first day
    "e": 1,  # the same for its last day
    "o": 1,  # <minutes> early
    "m": 1,  # <minutes> reminder
    "u": 0,  # unlink the group
    "n": 0,  # start the coming class's session now (the reminder's button)
}
_DATA = re.compile(r"tt:([a-z]):(\d{1,18})((?::\d{1,8}){0,3})", re.ASCII)


def parse_button(data: str) -> tuple[str, int, list[int]] | None:
    """(step, course id or page, numbers) of a timetable button, or None for anything
    not built here."""
    match = _DATA.fullmatch(data) if len(data.encode()) <= 64 else None
    if match is None:
        return None
    step, first = match[1], int(match[2])
    numbers = [int(n) for n in match[3].split(":")[1:]]
    arity = _ARITY.get(step)
    if arity is None or (arity == -1 and numbers) or (arity >= 0 and len(numbers) != arity):
        return None
    return step, first, numbers


def _button(label: Text | str, *parts: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(str(label), callback_data=":".join(["tt", *map(str, parts)]))


def _chosen(label: Text, chosen: bool) -> Text:
    return t("settings.chosen", name=label, html=False) if chosen else label


def weekday_name(weekday: int) -> str:
    """Monday is 0, in the reader's language (`Mon`, `пн`, `lun`)."""
    names = get_day_names("abbreviated", locale=_locale(current_language()))
    return str(names[weekday])


def fmt_day(day: date) -> str:
    """A date: ISO in English, the locale's own elsewhere."""
    locale = _locale(current_language())
    if locale.language == "en":
        return day.isoformat()
    return str(format_skeleton("MMMEd", day, locale=locale))


def _slot_line(rule: SlotRule) -> Text:
    total = rule.start.hour * 60 + rule.start.minute + rule.minutes
    end = f"{total // 60 % 24:02d}:{total % 60:02d}"
    return t(
        "timetable.slot_line",
        weekday=weekday_name(rule.weekday),
        start=f"{rule.start:%H:%M}",
        end=end,
    )


def timetable_text(course: Course, timetable: Timetable, coming: list[Slot], tz: tzinfo) -> Text:
    """The timetable as its message shows it."""
    zone = course.time_zone or str(tz)
    lines = [
        t("timetable.title", course=course.name, zone=zone),
        t("timetable.term", first=fmt_day(timetable.first_day), last=fmt_day(timetable.last_day)),
    ]
    lines += [_slot_line(rule) for rule in timetable.rules] or [t("timetable.no_slots")]
    skipped = sorted(timetable.holidays)
    lines.append(
        t("timetable.holidays", days=", ".join(fmt_day(d) for d in skipped[:20]))
        if skipped
        else t("timetable.no_holidays")
    )
    lines.append(
        t("timetable.early", minutes=timetable.early_minutes)
        if timetable.early_minutes
        else t("timetable.on_time")
    )
    lines.append(
        t("timetable.remind", minutes=timetable.remind_minutes)
        if timetable.remind_minutes
        else t("timetable.no_reminder")
    )
    lines.append(
        t("timetable.group_linked")
        if timetable.group_chat_id is not None
        else t("timetable.no_group", course=course.name)
    )
    if coming:
        when = fmt_datetime_in(coming[0].starts_at, course.time_zone, tz)
        lines.append(t("timetable.next", when=when))
    elif timetable.rules:
        lines.append(t("timetable.no_next"))
    lines.append(t("timetable.csv_hint", course=course.name))
    return Text(fit_html(join(lines)))


def timetable_keyboard(course_id: int, timetable: Timetable) -> InlineKeyboardMarkup:
    """The buttons under the timetable."""
    c = course_id
    rows = [
        [_button(t("timetable.button.add"), "a", c), _button(t("timetable.button.remove"), "r", c)],
        [_button(t("timetable.button.skip"), "h", c, 0)],
        [
            _button(t("timetable.button.start_earlier"), "f", c, 0),
            _button(t("timetable.button.start_later"), "f", c, 1),
        ],
        [
            _button(t("timetable.button.end_earlier"), "e", c, 0),
            _button(t("timetable.button.end_later"), "e", c, 1),
        ],
        [
            _button(
                _chosen(
                    t("timetable.button.early", minutes=m) if m else t("timetable.button.on_time"),
                    m == timetable.early_minutes,
                ),
                "o",
                c,
                m,
            )
            for m in EARLY_CHOICES
        ],
    ]
    reminders = [
        _button(
            _chosen(
                t("timetable.button.remind", minutes=m) if m else t("timetable.button.no_reminder"),
                m == timetable.remind_minutes,
            ),
            "m",
            c,
            m,
        )
        for m in REMIND_CHOICES
    ]
    rows += [reminders[:2], reminders[2:]]
    if timetable.group_chat_id is not None:
        rows.append([_button(t("timetable.button.unlink"), "u", c)])
    return checked_keyboard(InlineKeyboardMarkup(rows))


def _back(course_id: int) -> list[InlineKeyboardButton]:
    return [_button(t("timetable.button.back"), "c", course_id)]


def weekday_picker(course_id: int) -> tuple[Text, InlineKeyboardMarkup]:
    days = [
        _button(t("timetable.button.weekday", weekday=weekday_name(d)), "w", course_id, d)
        for d in range(7)
    ]
    rows = [days[:4], days[4:], _back(course_id)]
    return t("timetable.pick_weekday"), checked_keyboard(InlineKeyboardMarkup(rows))


def hour_picker(course_id: int, weekday: int) -> tuple[Text, InlineKeyboardMarkup]:
    hours = [
        _button(t("timetable.button.time", time=f"{h:02d}:00"), "t", course_id, weekday, h)
        for h in HOUR_CHOICES
    ]
    rows = [hours[i : i + 5] for i in range(0, len(hours), 5)] + [_back(course_id)]
    text = t("timetable.pick_hour", weekday=weekday_name(weekday))
    return text, checked_keyboard(InlineKeyboardMarkup(rows))


def minute_picker(course_id: int, weekday: int, hour: int) -> tuple[Text, InlineKeyboardMarkup]:
    starts = [
        _button(
            t("timetable.button.time", time=f"{hour:02d}:{m:02d}"),
            "k",
            course_id,
            weekday,
            hour * 100 + m,
        )
        for m in MINUTE_CHOICES
    ]
    rows = [starts[:4], starts[4:], _back(course_id)]
    text = t("timetable.pick_minute", weekday=weekday_name(weekday))
    return text, checked_keyboard(InlineKeyboardMarkup(rows))


def length_picker(course_id: int, weekday: int, hhmm: int) -> tuple[Text, InlineKeyboardMarkup]:
    lengths = [
        _button(t("timetable.button.length", minutes=m), "s", course_id, weekday, hhmm, m)
        for m in LENGTH_CHOICES
    ]
    rows = [lengths[:3], lengths[3:], _back(course_id)]
    start = f"{hhmm // 100:02d}:{hhmm % 100:02d}"
    text = t("timetable.pick_length", weekday=weekday_name(weekday), start=start)
    return text, checked_keyboard(InlineKeyboardMarkup(rows))


def remove_picker(course_id: int, timetable: Timetable) -> tuple[Text, InlineKeyboardMarkup]:
    rows = [
        [
            _button(
                t(
                    "timetable.button.remove_slot",
                    weekday=weekday_name(r.weekday),
                    start=f"{r.start:%H:%M}",
                ),
                "d",
                course_id,
                r.weekday,
                r.start.hour * 100 + r.start.minute,
            )
        ]
        for r in timetable.rules
    ]
    rows.append(_back(course_id))
    return t("timetable.pick_remove"), checked_keyboard(InlineKeyboardMarkup(rows))


def skip_picker(
    course_id: int, days: list[date], holidays: frozenset[date], page: int, more: bool
) -> tuple[Text, InlineKeyboardMarkup]:
    """Class dates of the term; a tap skips one (or holds it again)."""
    rows = [
        [
            _button(
                t("timetable.button.day_skipped", day=fmt_day(d))
                if d in holidays
                else t("timetable.button.day", day=fmt_day(d)),
                "x",
                course_id,
                f"{d:%Y%m%d}",
                page,
            )
        ]
        for d in days
    ]
    if more:
        rows.append([_button(t("timetable.button.more"), "h", course_id, page + 1)])
    rows.append(_back(course_id))
    return t("timetable.pick_skip"), checked_keyboard(InlineKeyboardMarkup(rows))


#: Why a CSV line was refused (`services.timetable_slots`), and the words for it.
REASONS = {
    reason: f"timetable.reason.{reason}"
    for reason in (
        "duplicate",
        "weekday",
        "time",
        "length",
        "formula",
        "date",
        "date_order",
        "kind",
        "slot_fields",
        "term_fields",
        "holiday_fields",
        "early_value",
        "remind_value",
        "too_many_slots",
    )
}
#: Why a class counts as missed (`services.timetable_runs`).
MISSED = {reason: f"timetable.missed.{reason}" for reason in ("no_session", "nobody_came")}


def import_report(course: Course, result: CsvImport) -> Text:
    """What a CSV import did, and each line it refused with its number and why."""
    lines: list[Text] = []
    if not result.saved:
        lines.append(t("timetable.import_nothing"))
    elif result.slots:
        lines.append(t("timetable.import_done", course=course.name, count=result.slots))
    else:
        lines.append(t("timetable.import_settings"))
    if result.saved and result.holidays:
        lines.append(t("timetable.import_holidays", count=result.holidays))
    if result.rejected:
        lines.append(t("timetable.import_rejected", count=len(result.rejected)))
        lines += [
            t(
                "timetable.import_line",
                number=line.number,
                reason=t(REASONS[line.reason]),
            )
            for line in result.rejected
        ]
    return Text(fit_html(join(lines)))


def reminder(course: Course, slot: Slot, tz: tzinfo) -> tuple[Text, InlineKeyboardMarkup]:
    """The teacher's reminder before a class, with a button that opens its session now."""
    zone = zone_of(course.time_zone, tz)
    minutes = (
        max(1, round((slot.starts_at - slot.remind_at).total_seconds() / 60))
        if slot.remind_at
        else 0
    )
    text = t(
        "timetable.reminder",
        course=course.name,
        start=fmt_datetime_in(slot.starts_at, course.time_zone, tz),
        minutes=minutes,
        opens=f"{slot.opens_at.astimezone(zone):%H:%M}",
    )
    button = _button(t("timetable.button.start_now"), "n", course.id)
    return text, checked_keyboard(InlineKeyboardMarkup([[button]]))


def missed(course: Course, slot: Slot, reason: str, tz: tzinfo) -> Text:
    """A class that passed without a session, or with nobody checked in."""
    when = fmt_datetime_in(slot.starts_at, course.time_zone, tz)
    return t(MISSED[reason], course=course.name, when=when)

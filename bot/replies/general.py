"""Replies any user may get: welcome, hints, refusals, errors, delivery trouble."""

from __future__ import annotations

import math

from bot.text import Named, Raw, Text, constants, join, t
from services.delivery import DeliveryFailed
from services.errors import InvalidArgument
from services.numbers import MAX_SESSION_HOURS, NumberOutOfRange

#: Named texts, rendered when read (in the reader's language); (key, False): plain text; a
#: function: a text composed when read.
CONSTANTS: dict[str, Named] = {
    "BAD_BUTTON": "error.bad_button",
    "SLOW_DOWN": "error.slow_down",
    "UNAVAILABLE": "error.unavailable",
    "UNEXPECTED_ERROR": "error.unexpected",
    "UNKNOWN_COMMAND": "error.unknown_command",
    "NOT_A_TEACHER": "error.not_a_teacher",
    "NOT_AN_ADMIN": "error.not_an_admin",
    "SESSION_BUSY": "error.session_busy",
    "UNEXPECTED_LOCATION": "hint.unexpected_location",
    "PLAIN_TEXT_HINT": "hint.plain_text",
    "REGISTER_USAGE": "register.usage",
    "CANCEL_HINT": "prompt.cancel_hint",
    "NOTHING_TO_CANCEL": "prompt.nothing_to_cancel",
    "CANCELLED": "prompt.cancelled",
    "ASK_FOR_NAME": lambda: prompt(t("register.ask_name")),
    "ASK_FOR_CODE": lambda: prompt(t("checkin.ask_code")),
    "BAD_CODE_FORMAT": "error.invalid.code.format",
    "PRIVATE_REPLY_FAILED": "private.reply_failed",
    "PRIVATE_CHAT_OPENED": "private.chat_opened",
}
__getattr__ = constants(CONSTANTS)


def prompt(text: Text) -> Text:
    """A question whose answer the bot waits for: it says how to stop waiting (/cancel)."""
    return join([text, t("prompt.cancel_hint")], "\n\n")


def registered(full_name: str, student_number: str | None) -> Text:
    if student_number:
        return t("register.done_number", name=full_name, number=student_number)
    return t("register.done", name=full_name)


#: The catalog key naming each typed number, and its unit (None: no unit).
_NUMBER_RANGES = {
    "minutes": "minutes",
    "extend_minutes": "minutes",
    "rotation": "seconds",
    "late_after": "minutes",
    "warn_below": "percent",
}


def number_out_of_range(error: NumberOutOfRange) -> Text:
    """A typed number refused: what it is and the range it must be in (ASCII digits)."""
    if error.field == "extend_minutes" and error.high < error.low:
        return t("error.range.cannot_extend", hours=MAX_SESSION_HOURS)
    unit = _NUMBER_RANGES.get(error.field)
    what = t(f"error.range.{error.field}" if unit else "error.range.number")
    extra = Text("")
    if error.field == "rotation":
        extra = t("error.range.rotation_fixed")
    elif error.field == "extend_minutes" and error.high < MAX_SESSION_HOURS * 60:
        extra = t("error.range.session_cap", hours=MAX_SESSION_HOURS)
    key = f"error.range.with_unit.{unit}" if unit else "error.range.no_unit"
    return t(key, what=what, low=error.low, high=error.high, extra=extra)


_INVALID = frozenset(
    {
        ("course_name", "missing"),
        ("grading", "points"),
        ("grading", "excused"),
        ("grading", "basis"),
        ("grading", "alert"),
        ("course_name", "taken"),
        ("course", "unknown"),
        ("course", "archived"),
        ("course", "not_archived"),
        ("course", "not_enrolled"),
        ("student", "missing"),
        ("course_name", "taken_by_new_teacher"),
        ("join_code", "format"),
        ("join_code", "unknown"),
        ("invite", "unknown"),
        ("status", "unknown"),
        ("session", "unknown"),
        ("session", "none"),
        ("late_after", "range"),
        ("warn_below", "range"),
        ("time_zone", "unknown"),
        ("teacher", "unknown"),
        ("location", "forwarded"),
        ("teacher", "configured"),
        ("minutes", "range"),
        ("title", "too_long"),
        ("code", "format"),
        ("full_name", "length"),
        ("full_name", "characters"),
        ("student_number", "format"),
        ("roster_file", "too_big"),
        ("roster_file", "unreadable"),
        ("roster_file", "empty"),
        ("roster_file", "too_many_rows"),
        ("settings", "button"),
        ("timetable", "no_slot_soon"),
        ("timetable", "term_order"),
        ("timetable", "term_too_long"),
        ("timetable", "too_many_slots"),
        ("timetable", "button"),
        ("timetable", "not_a_group"),
        ("webhook_url", "not_https"),
        ("webhook_url", "too_long"),
        ("webhook_url", "internal"),
    }
)


def invalid_argument(error: InvalidArgument) -> Text:
    if isinstance(error, NumberOutOfRange):
        return number_out_of_range(error)
    if (error.field, error.problem) in _INVALID:
        return t(f"error.invalid.{error.field}.{error.problem}")
    return t("error.invalid")


def _in_minutes(seconds: float) -> Text:
    return t("error.delivery.in_minutes", count=max(1, math.ceil(seconds / 60)))


def not_delivered(
    error: DeliveryFailed, what: str | None = None, command: str | None = None
) -> Text:
    """Telegram did not take something the user asked for (its flood control, a network
    error): say so briefly, and when to ask again (never "something went wrong").
    `what` is catalog text naming the thing (default: "that")."""
    if command:
        again = t("error.delivery.again_command", command=command)
    else:
        again = t("error.delivery.again")
    if error.retry_after is not None:
        return t("error.delivery.slow_down", again=again, delay=_in_minutes(error.retry_after))
    thing = Raw(what) if what is not None else t("error.delivery.that")
    return t("error.delivery.not_sent", what=thing, again=again)

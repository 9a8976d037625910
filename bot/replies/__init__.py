"""Every text a user reads, as functions of results and errors, one module per area.

Each renders with the catalog (`bot.text.t`): no sentence is written here, only which key
says what, and which values go in (escaped for HTML by `t`). The names are re-exported so
callers write `replies.summary_text(...)`.
"""

from __future__ import annotations

from bot.replies import admin, cards, checkins, courses, general, privacy, reports, sessions
from bot.replies.admin import (
    teacher_invite,
    teacher_removed,
    teachers_list,
)
from bot.replies.cards import (
    card_ended,
    card_heading,
    card_location_line,
    checked_in_count,
)
from bot.replies.checkins import (
    check_in_result,
    location_not_ready_kept,
    open_bot_first,
)
from bot.replies.courses import (
    ambiguous_student,
    corrected,
    course_created,
    course_settings,
    courses_list,
    joined,
    student_not_found,
)
from bot.replies.format import (
    fmt_datetime,
    fmt_datetime_in,
    fmt_time,
    fmt_time_in,
    invite_link,
    plural,
    zone_abbreviation,
    zone_of,
)
from bot.replies.general import (
    invalid_argument,
    not_delivered,
    number_out_of_range,
    prompt,
    registered,
)
from bot.replies.privacy import (
    forget_confirm,
    forget_refused_open_session,
    forgotten,
    personal_data,
    privacy_text,
)
from bot.replies.reports import history_text, nudge_text, report_text
from bot.replies.sessions import (
    SUMMARY_NAME_LIMIT,
    choose_course,
    extended,
    missed_summaries,
    missing_list,
    present_list,
    session_already_open,
    session_ended,
    summary_text,
)
from bot.text import Text, constants

__all__ = [
    "SUMMARY_NAME_LIMIT",
    "ambiguous_student",
    "card_ended",
    "card_heading",
    "card_location_line",
    "check_in_result",
    "checked_in_count",
    "choose_course",
    "corrected",
    "course_created",
    "course_settings",
    "courses_list",
    "extended",
    "fmt_datetime",
    "fmt_datetime_in",
    "fmt_time",
    "fmt_time_in",
    "forget_confirm",
    "forget_refused_open_session",
    "forgotten",
    "history_text",
    "invalid_argument",
    "invite_link",
    "joined",
    "location_not_ready_kept",
    "missed_summaries",
    "missing_list",
    "not_delivered",
    "nudge_text",
    "number_out_of_range",
    "open_bot_first",
    "personal_data",
    "plural",
    "present_list",
    "privacy_text",
    "prompt",
    "registered",
    "report_text",
    "session_already_open",
    "session_ended",
    "student_not_found",
    "summary_text",
    "teacher_invite",
    "teacher_removed",
    "teachers_list",
    "zone_abbreviation",
    "zone_of",
]


_NAMED = tuple(
    module.CONSTANTS
    for module in (admin, cards, checkins, courses, general, privacy, reports, sessions)
)


def __getattr__(name: str) -> Text:
    """A named text (`replies.BAD_BUTTON`), in the language of the update reading it."""
    for table in _NAMED:
        if name in table:
            return constants(table)(name)
    raise AttributeError(name)

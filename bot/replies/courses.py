"""Replies about courses, enrolment and corrections."""

from __future__ import annotations

from datetime import tzinfo

from bot.replies.format import fit, invite_link, more, plural, zone_of
from bot.replies.lifecycle import marked_if_archived
from bot.replies.staff import course_role_mark
from bot.telegram_limits import ShortList
from bot.text import Named, Text, constants, join, t
from services.corrections import Correction
from services.courses import Enrolment
from services.export import zone_label
from services.models import AttendanceStatus, Course, CourseRole, UserProfile

#: Named texts, rendered when read (in the reader's language); (key, False): plain text.
CONSTANTS: dict[str, Named] = {
    "COURSE_SETTINGS_USAGE": "course.settings_usage",
    "JOIN_USAGE": "course.join_usage",
    "MARK_USAGE": "mark.usage",
    "NO_ROSTER": "mark.no_roster",
}
__getattr__ = constants(CONSTANTS)


def course_created(course: Course, bot_username: str) -> Text:
    """The new course's code and link, its defaults, and how to import its roster."""
    created = t(
        "course.created",
        name=course.name,
        code=course.join_code,
        link=invite_link(bot_username, course),
        late=course.late_after_minutes,
        warn=course.warn_below_percent,
    )
    return join([created, t("roster.import_hint")], "\n\n")


def courses_list(
    courses: list[Course],
    bot_username: str,
    intro: str = "",
    roles: dict[int, CourseRole] | None = None,
) -> Text:
    """The teacher's courses (after `intro`, catalog text, if any), as many as fit; those
    the user co-teaches or assists in marked with that role (`roles`, by course id)."""
    if not courses:
        return t("course.none")
    roles = roles or {}
    items = [
        marked_if_archived(
            course,
            t(
                "course.list_item",
                name=course.name,
                students=plural(course.roster_size),
                code=course.join_code,
                late=course.late_after_minutes,
                warn=course.warn_below_percent,
                link=invite_link(bot_username, course),
            ),
        )
        for course in courses
    ]
    items = [
        course_role_mark(roles.get(course.id, CourseRole.OWNER), item)
        for course, item in zip(courses, items, strict=True)
    ]
    listing = ShortList(t("course.list_heading"), items, "\n\n", more("course.list_more"))
    return fit([intro, listing] if intro else [listing])


def course_settings(course: Course, tz: tzinfo) -> Text:
    """The course's settings; its zone is the installation's (`tz`) until it chooses one."""
    shown = zone_label(zone_of(course.time_zone, tz))  # its name and today's UTC offset
    return join(
        [
            t(
                "course.settings",
                name=course.name,
                late=course.late_after_minutes,
                warn=course.warn_below_percent,
            ),
            t(
                "course.settings_zone",
                zone=shown,
                name=course.name,
            ),
        ]
    )


def joined(enrolment: Enrolment) -> Text:
    key = "course.joined" if enrolment.newly_enrolled else "course.already_enrolled"
    return t(key, name=enrolment.course.name)


def student_not_found(query: str) -> Text:
    if not query:  # picked from a button, and off the roster since
        return t("mark.student_gone")
    shown = query if len(query) <= 100 else query[:99] + "…"  # it may be a whole message
    return t("mark.student_not_found", query=shown)


def ambiguous_student(candidates: list[UserProfile]) -> Text:
    lines = [t("mark.ambiguous")]
    for p in candidates[:15]:
        extra = ", ".join(
            x for x in (p.student_number or "", f"@{p.username}" if p.username else "") if x
        )
        if extra:
            lines.append(t("mark.candidate_extra", name=p.display_name, extra=extra))
        else:
            lines.append(t("mark.candidate", name=p.display_name))
    text = join(lines)
    if len(candidates) > 15:
        text = join([text, t("common.more_line", count=len(candidates) - 15)], "")
    return text


def status_word(status: AttendanceStatus) -> Text:
    """A status in the reader's language (its `.value` is the English the parser reads)."""
    return t(f"status.{status.value}")


def corrected(correction: Correction) -> Text:
    old = status_word(correction.old) if correction.old else t("mark.no_record")
    return t(
        "mark.corrected",
        name=correction.student.display_name,
        title=correction.session.title,
        old=old,
        new=status_word(correction.new),
    )

"""Replies about sessions: opening, closing, summaries, the lists asked for mid-session."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from bot.replies.format import fit, fmt_datetime, fmt_time, fmt_time_in, more, zone_of
from bot.telegram_limits import Block, ShortList
from bot.text import Named, Text, constants, join, t
from services.errors import SessionAlreadyOpen
from services.models import AttendanceStatus, CheckIn, Session, SessionSummary, UserProfile

SUMMARY_NAME_LIMIT = 60

#: Named texts, rendered when read (in the reader's language); (key, False): plain text.
CONSTANTS: dict[str, Named] = {
    "NO_OPEN_SESSION": "session.none_open",
    "CHOOSE_COURSE": "session.choose_course",
    "CHOICE_USED": "session.choice_used",
    "NO_SUMMARY": "session.no_summary",
    "SESSION_ENDED_ALERT": ("card.ended_alert", False),
    "PROJECTOR_REPLACED": ("card.projector_replaced", False),
    "WEB_OFF": ("web.off", False),
    "THE_SUMMARY": "error.delivery.the_summary",
    "GROUP_REFUSES_CARD": "session.group_refuses_card",
    "GROUP_CARD_FAILED": "session.group_card_failed",
}
__getattr__ = constants(CONSTANTS)


def session_already_open(error: SessionAlreadyOpen, tz: tzinfo) -> Text:
    """Sent privately (never into a group: it carries the code)."""
    session = error.session
    if session is None:
        return t("session.opening")
    return t(
        "session.already_open",
        title=session.title,
        code=session.code,
        until=fmt_time_in(session.ends_at, session.time_zone, tz),
    )


def session_ended(session: Session) -> Text:
    return t("session.ended", title=session.title)


def extended(session: Session, tz: tzinfo) -> Text:
    until = fmt_time_in(session.ends_at, session.time_zone, tz)
    return t("session.extended", title=session.title, until=until)


def choose_course(count: int, per_page: int) -> Text:
    """The course question; with more courses than one page holds, how to see the others."""
    if count <= per_page:
        return t("session.choose_course")
    return t("session.choose_course_paged", count=count)


def missed_summaries(count: int) -> Text:
    """Before the summaries a teacher missed while the bot could not write to them."""
    return t("session.missed_summaries", count=count)


def summary_text(summary: SessionSummary, tz: tzinfo) -> Text:
    """The teacher's summary, its times in the course's zone (`tz`: the installation's)."""
    zone = summary.time_zone
    tz = zone_of(zone, tz)
    attended = summary.checked_in
    course = t("summary.course", course=summary.course_name) if summary.course_name else ""
    late = summary.with_status(AttendanceStatus.LATE)
    absent = summary.with_status(AttendanceStatus.ABSENT)
    excused = summary.with_status(AttendanceStatus.EXCUSED)
    head = t(
        "summary.heading",
        title=summary.title,
        course=Text(course),
        started=fmt_datetime(summary.started_at, tz),
        ended=fmt_time_in(summary.ends_at, zone, tz),
        count=len(attended),
    )
    if summary.course_name is not None:
        counts = t(
            "summary.counts",
            present=len(attended) - len(late),
            late=len(late),
            absent=len(absent),
            excused=len(excused),
        )
        head = join([head, counts])
    if summary.started_by:  # a co-teacher or assistant started it: say who
        head = join([head, t("staff.started_by", name=summary.started_by)])
    # Every list is capped, then shortened further until the whole fits Telegram's 4,096
    # characters (a 300-student course would not); each says how many it leaves out.
    parts: list[Block] = [head]
    in_csv = more("summary.more_in_csv")
    if late:
        names = [escape(x.name) for x in late]
        parts.append(
            ShortList(t("summary.late", names=""), names, more=in_csv, cap=SUMMARY_NAME_LIMIT)
        )
    if absent:
        names = [escape(x.name) for x in absent]
        parts.append(
            ShortList(t("summary.absent", names=""), names, more=in_csv, cap=SUMMARY_NAME_LIMIT)
        )
    if summary.at_risk:
        risky = [
            t("summary.at_risk_student", name=s.name, percent=f"{s.percent:.0f}")
            for s in summary.at_risk
        ]
        parts.append(
            ShortList(
                t("summary.at_risk", names=""),
                risky,
                more=more("summary.more_in_report"),
                cap=SUMMARY_NAME_LIMIT,
            )
        )
    if not attended:
        parts.append(t("summary.nobody"))
    else:
        lines = []
        for line in attended:
            key = "summary.line_late" if line.status is AttendanceStatus.LATE else "summary.line"
            when = fmt_time(line.checked_in_at, tz) if line.checked_in_at else t("common.none")
            lines.append(t(key, when=when, name=line.name))
        parts.append(
            ShortList("", lines, "\n", more("summary.more_in_file"), cap=SUMMARY_NAME_LIMIT)
        )
    return fit(parts)


def missing_list(profiles: list[UserProfile]) -> Text:
    if not profiles:
        return t("session.nobody_missing")
    names = [t("session.list_item", name=p.display_name) for p in profiles]
    heading = t("session.missing_heading", count=len(profiles))
    return fit([ShortList(heading, names, "\n", more("common.more_line"), cap=100)])


def present_list(lines: list[tuple[UserProfile, CheckIn]], tz: tzinfo) -> Text:
    if not lines:
        return t("session.nobody_present")
    rows = []
    for profile, checkin in lines:
        when = fmt_time(checkin.checked_in_at, tz) if checkin.checked_in_at else t("common.none")
        key = "summary.line_late" if checkin.status is AttendanceStatus.LATE else "summary.line"
        rows.append(t(key, when=when, name=profile.display_name))
    heading = t("session.present_heading", count=len(lines))
    return fit([ShortList(heading, rows, "\n", more("common.more_line"), cap=100)])

"""Every text a user reads, as functions of results and errors. All user text is escaped."""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from html import escape

from bot.telegram_limits import ShortList, fit_blocks, fit_html
from services.corrections import Correction
from services.courses import Enrolment
from services.delivery import DeliveryFailed
from services.errors import InvalidArgument, SessionAlreadyOpen
from services.models import (
    AttendanceStatus,
    CheckIn,
    CheckInOutcome,
    CheckInResult,
    Course,
    Nudge,
    PersonalData,
    Session,
    SessionSummary,
    StudentStanding,
    UserProfile,
)
from services.numbers import MAX_SESSION_HOURS, NumberOutOfRange
from services.reports import CourseReport, HistoryLine

SUMMARY_NAME_LIMIT = 60


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def fmt_time(when: datetime, tz: tzinfo) -> str:
    """The one way a time of day is shown: 24-hour clock in the configured time zone."""
    return when.astimezone(tz).strftime("%H:%M")


def fmt_datetime(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def session_already_open(error: SessionAlreadyOpen, tz: tzinfo) -> str:
    """Sent privately (never into a group: it carries the code)."""
    session = error.session
    if session is None:
        return "Your session is being opened right now: its card follows in a moment."
    return (
        f"You already have an open session: <b>{escape(session.title)}</b> "
        f"(code <code>{escape(session.code)}</code>, until {fmt_time(session.ends_at, tz)}).\n"
        "Send /end_session first to start a new one."
    )


def session_ended(session: Session) -> str:
    return f"<b>{escape(session.title)}</b> is closed. Your summary arrives in a moment."


BAD_BUTTON = "That button is no longer valid."
SLOW_DOWN = "You're sending messages very fast: I'll ignore them for a moment."
SHARE_LOCATION_BUTTON = "Share my location"
ASK_TEACHER_LOCATION = (
    "This session checks students' locations: share yours now (tap the button below) so I "
    "know where the classroom is."
)
LOCATION_SET = "Classroom location saved. Students within range can check in now."
UNEXPECTED_LOCATION = "I wasn't expecting a location. To check in, send /checkin CODE."
NO_OPEN_SESSION = "You have no open session. Start one with /start_session."
NOT_A_TEACHER = "Only teachers can do that. Students check in with /checkin CODE."
ASK_FOR_CODE = "Send me the code your teacher shows (6 letters and digits, like K7M2QX)."
BAD_CODE_FORMAT = (
    "That doesn't look like a check-in code. Codes have 6 letters and digits, like K7M2QX."
)
UNAVAILABLE = "Sorry, attendance is temporarily unavailable. Please try again in a minute."
UNEXPECTED_ERROR = "Sorry, something went wrong on my side. Please try again."
UNKNOWN_COMMAND = "I don't know that command. /help lists the ones you can use."
PLAIN_TEXT_HINT = "To check in, send /checkin followed by the code, like: /checkin K7M2QX"
REGISTER_USAGE = (
    "Send your full name like this: /register Ada Lovelace\n"
    "You can add your student number at the end: /register Ada Lovelace 123456"
)


_NUMBER_RANGES = {
    "minutes": ("The length", "minutes"),
    "extend_minutes": ("The extension", "minutes"),
    "rotation": ("The code rotation (rotate=N)", "seconds"),
    "late_after": ("Late after", "minutes"),
    "warn_below": ("The warning level", "percent"),
}


def number_out_of_range(error: NumberOutOfRange) -> str:
    """A typed number refused: what it is and the range it must be in (ASCII digits)."""
    what, unit = _NUMBER_RANGES.get(error.field, ("That number", ""))
    if error.field == "extend_minutes" and error.high < error.low:
        return (
            f"This session cannot be extended: a session lasts at most "
            f"{MAX_SESSION_HOURS} hours. Start a new one when it ends."
        )
    text = f"{what} must be a whole number from {error.low} to {error.high} {unit}".rstrip()
    if error.field == "rotation":
        text += ", or write fixed for a code that does not change"
    elif error.field == "extend_minutes" and error.high < MAX_SESSION_HOURS * 60:
        text += f" (a session lasts at most {MAX_SESSION_HOURS} hours)"
    return text + ", written with the digits 0-9."


def invalid_argument(error: InvalidArgument) -> str:
    if isinstance(error, NumberOutOfRange):
        return number_out_of_range(error)
    messages = {
        ("course_name", "missing"): "Give the course a name, e.g. /new_course Linear Algebra",
        ("course_name", "taken"): "You already have a course with that name.",
        ("course", "unknown"): "You have no course by that name. /courses lists yours.",
        ("join_code", "format"): (
            "A course code has 8 letters and digits. Ask your teacher for it: /join CODE"
        ),
        ("join_code", "unknown"): "No course has that code. Check it with your teacher.",
        ("invite", "unknown"): "That invite link is not valid. Ask your teacher for a new one.",
        ("status", "unknown"): "The status must be present, late, excused or absent.",
        ("session", "unknown"): "I know no session of yours with that id.",
        ("session", "none"): "You have no session to correct yet.",
        ("late_after", "range"): "Late after must be 0 to 240 minutes.",
        ("warn_below", "range"): "The warning level must be 0 to 100 percent.",
        ("teacher", "unknown"): "I know no teacher by that id or username.",
        ("location", "forwarded"): "Share your current location, not a forwarded one.",
        ("teacher", "configured"): (
            "That teacher is set in ATTN_TEACHER_IDS; remove them there and restart."
        ),
        ("minutes", "range"): "The length must be a whole number of minutes from 1 to 240.",
        ("title", "too_long"): "That title is too long: keep it under 80 characters.",
        ("code", "format"): BAD_CODE_FORMAT,
        ("full_name", "length"): "A name must be 2 to 100 characters long.",
        ("full_name", "characters"): "A name may only contain letters, spaces, . ' and -.",
        ("student_number", "format"): (
            "A student number may only contain letters, digits, . / and - (up to 32)."
        ),
    }
    return messages.get((error.field, error.problem), "That input isn't valid.")


def check_in_result(result: CheckInResult, tz: tzinfo) -> str:
    title = escape(result.session_title or "the session")
    outcome = result.outcome
    if outcome is CheckInOutcome.RECORDED and result.checked_in_at:
        late = " (late)" if result.status is AttendanceStatus.LATE else ""
        return f"✅ Checked in to <b>{title}</b> at {fmt_time(result.checked_in_at, tz)}{late}."
    if outcome is CheckInOutcome.DUPLICATE and result.checked_in_at:
        return (
            f"You are already checked in to <b>{title}</b> "
            f"(since {fmt_time(result.checked_in_at, tz)})."
        )
    if outcome is CheckInOutcome.CLOSED:
        return f"<b>{title}</b> is closed: check-in is no longer possible."
    if outcome is CheckInOutcome.EXPIRED_CODE:
        return "This code has expired. Use the code your teacher shows now."
    if outcome is CheckInOutcome.NOT_ENROLLED:
        return (
            f"You are not enrolled in the course of <b>{title}</b>. "
            "Ask your teacher for the course code and send /join CODE first."
        )
    if outcome is CheckInOutcome.LOCKED_OUT:
        return "Too many wrong codes. Please wait 10 minutes before trying again."
    if outcome is CheckInOutcome.NEEDS_LOCATION:
        return (
            f"<b>{title}</b> checks where you are: tap <i>Share my location</i> below "
            "(from your phone) to finish checking in."
        )
    if outcome is CheckInOutcome.LOCATION_OUTSIDE:
        return (
            f"You seem to be about {result.distance_m} m from the classroom, too far to check "
            f"in to <b>{title}</b>. Nothing was recorded."
        )
    if outcome is CheckInOutcome.LOCATION_REFUSED:
        return (
            "That location can't be used: share your current location from your phone "
            "(not a forwarded or old one)."
        )
    if outcome is CheckInOutcome.LOCATION_NOT_READY:
        return "Your teacher hasn't shared the classroom location yet. Try again in a minute."
    return "That code is not valid. Check it and try again."


def registered(full_name: str, student_number: str | None) -> str:
    number = f" (student number {escape(student_number)})" if student_number else ""
    return f"Thanks! Teachers will see you as <b>{escape(full_name)}</b>{number}."


def summary_text(summary: SessionSummary, tz: tzinfo) -> str:
    attended = summary.checked_in
    course = f"{escape(summary.course_name)} · " if summary.course_name else ""
    late = summary.with_status(AttendanceStatus.LATE)
    absent = summary.with_status(AttendanceStatus.ABSENT)
    excused = summary.with_status(AttendanceStatus.EXCUSED)
    head = (
        f"<b>Summary: {escape(summary.title)}</b>\n"
        f"{course}{fmt_datetime(summary.started_at, tz)}–{fmt_time(summary.ends_at, tz)}\n"
        f"Checked in: <b>{len(attended)}</b>"
    )
    if summary.course_name is not None:
        head += (
            f"\nPresent {len(attended) - len(late)} · Late {len(late)} · "
            f"Absent {len(absent)} · Excused {len(excused)}"
        )
    # Every list is capped, then shortened further until the whole fits Telegram's 4,096
    # characters (a 300-student course would not); each says how many it leaves out.
    parts: list[str | ShortList] = [head]
    in_csv = " … and {n} more (see the CSV)"
    if late:
        names = [escape(x.name) for x in late]
        parts.append(ShortList("<b>Late:</b> ", names, more=in_csv, cap=SUMMARY_NAME_LIMIT))
    if absent:
        names = [escape(x.name) for x in absent]
        parts.append(ShortList("<b>Absent:</b> ", names, more=in_csv, cap=SUMMARY_NAME_LIMIT))
    if summary.at_risk:
        risky = [f"{escape(s.name)} ({s.percent:.0f}%)" for s in summary.at_risk]
        parts.append(
            ShortList(
                "<b>At risk</b> (below the course threshold): ",
                risky,
                more=" … and {n} more (see /report)",
                cap=SUMMARY_NAME_LIMIT,
            )
        )
    if not attended:
        parts.append("Nobody checked in.")
    else:
        lines = []
        for line in attended:
            mark = " (late)" if line.status is AttendanceStatus.LATE else ""
            when = fmt_time(line.checked_in_at, tz) if line.checked_in_at else "—"
            lines.append(f"{when} {escape(line.name)}{mark}")
        more = "\n… and {n} more (all in the CSV file)."
        parts.append(ShortList("", lines, "\n", more, cap=SUMMARY_NAME_LIMIT))
    return fit_blocks(parts)


def nudge_text(nudge: Nudge) -> str:
    return (
        f"Heads-up: your attendance in <b>{escape(nudge.course_name)}</b> is "
        f"{nudge.percent:.0f}%, below the course's {nudge.threshold}%. "
        "Talk to your teacher if something is keeping you away."
    )


def invite_link(bot_username: str, course: Course) -> str:
    return f"https://t.me/{bot_username}?start=join_{course.invite_token}"


def course_created(course: Course, bot_username: str) -> str:
    return (
        f"Course <b>{escape(course.name)}</b> created.\n\n"
        f"Students join with <code>/join {course.join_code}</code>\n"
        f"or this link: {escape(invite_link(bot_username, course))}\n\n"
        f"Check-ins after {course.late_after_minutes} min count as late; "
        f"students below {course.warn_below_percent}% get a nudge. "
        "Change that with /course_settings."
    )


def courses_list(courses: list[Course], bot_username: str, intro: str = "") -> str:
    """The teacher's courses (after `intro`, if any), as many as fit one message."""
    if not courses:
        return "You have no courses yet. Create one with /new_course followed by its name."
    items = [
        f"<b>{escape(course.name)}</b> — {plural(course.roster_size, 'student')}\n"
        f"code <code>{course.join_code}</code> · late after {course.late_after_minutes} min"
        f" · warn below {course.warn_below_percent}%\n"
        f"{escape(invite_link(bot_username, course))}"
        for course in courses
    ]
    listing = ShortList(
        "<b>Your courses</b>\n\n",
        items,
        "\n\n",
        "\n\n… and {n} more courses.",
    )
    return fit_blocks([intro, listing] if intro else [listing])


def course_settings(course: Course) -> str:
    return (
        f"<b>{escape(course.name)}</b>: late after {course.late_after_minutes} min, "
        f"warn below {course.warn_below_percent}%.\n"
        f"Change: <code>/course_settings {escape(course.name)} late 15 warn 75</code>"
    )


COURSE_SETTINGS_USAGE = (
    "Send: /course_settings &lt;course&gt; [late &lt;minutes&gt;] [warn &lt;percent&gt;]"
)
CHOOSE_COURSE = "Which course is this session for?"


def choose_course(count: int, per_page: int) -> str:
    """The course question; with more courses than one page holds, how to see the others."""
    if count <= per_page:
        return CHOOSE_COURSE
    return (
        f"{CHOOSE_COURSE} You have {count} courses: <i>more courses ▶</i> shows the next "
        "ones (or send /start_session with the course's name)."
    )


JOIN_USAGE = "Send the course code your teacher gave you: /join CODE"
ASK_FOR_NAME = (
    "What is your full name? Teachers see it in attendance lists. "
    "You can add your student number after it, e.g. <i>Ada Lovelace 123456</i>."
)


def joined(enrolment: Enrolment) -> str:
    name = escape(enrolment.course.name)
    if not enrolment.newly_enrolled:
        return f"You are already enrolled in <b>{name}</b>. Nothing else to do."
    return f"You are enrolled in <b>{name}</b>. Check in with /checkin CODE during class."


MARK_USAGE = (
    "Send: /mark &lt;student&gt; &lt;present|late|excused|absent&gt; [session]\n"
    "&lt;student&gt; is a student number, a @username or the start of a name."
)
NO_ROSTER = "Corrections work on course sessions: this session has no roster."
SESSION_BUSY = "That session is being saved right now. Try again in a few seconds."


def student_not_found(query: str) -> str:
    shown = query if len(query) <= 100 else query[:99] + "…"  # it may be a whole message
    return f"No enrolled student matches “{escape(shown)}”."


def ambiguous_student(candidates: list[UserProfile]) -> str:
    lines = []
    for p in candidates[:15]:
        extra = ", ".join(
            x for x in (p.student_number or "", f"@{p.username}" if p.username else "") if x
        )
        lines.append(f"• {escape(p.display_name)}" + (f" ({escape(extra)})" if extra else ""))
    more = f"\n… and {len(candidates) - 15} more" if len(candidates) > 15 else ""
    return (
        "Several students match. Use a student number, a @username or more of the name:\n"
        + "\n".join(lines)
        + more
    )


def corrected(correction: Correction) -> str:
    old = correction.old.value if correction.old else "no record"
    return (
        f"<b>{escape(correction.student.display_name)}</b> in "
        f"<b>{escape(correction.session.title)}</b>: {old} → <b>{correction.new.value}</b>. "
        "The change is logged."
    )


def _standing_row(s: StudentStanding) -> str:
    name = s.name if len(s.name) <= 18 else s.name[:17] + "…"
    return (
        f"{name:<18} {s.sessions:>3} {s.present:>3} {s.late:>3} {s.excused:>3} "
        f"{s.absent:>3} {s.percent:>5.1f}"
    )


def report_text(report: CourseReport) -> str:
    head = (
        f"<b>Report: {escape(report.course.name)}</b> — {len(report.sessions)} sessions, "
        f"{len(report.standings)} students\n"
        "Attendance % = (present + late) / (sessions − excused)."
    )
    if not report.standings:
        return head + "\n\nNobody has joined yet."
    header = f"{'name':<18} {'ses':>3} {'pre':>3} {'lat':>3} {'exc':>3} {'abs':>3} {'%':>5}"
    rows = [escape(_standing_row(s)) for s in report.standings]
    table = ShortList(
        f"<pre>{escape(header)}\n",
        rows,
        "\n",
        "\n… {n} more in the spreadsheet.",
        cap=40,
        closing="</pre>",
    )
    return fit_blocks([head, table])


def history_text(lines: list[HistoryLine]) -> str:
    if not lines:
        return "You are not enrolled in any course yet. Join one with /join CODE."
    parts = []
    for line in lines:
        s = line.standing
        if s is None or s.sessions == 0:
            parts.append(f"<b>{escape(line.course.name)}</b>: no sessions yet")
            continue
        parts.append(
            f"<b>{escape(line.course.name)}</b>: {s.percent:.0f}% — {s.present} present, "
            f"{s.late} late, {s.excused} excused, {s.absent} absent of {s.sessions}"
        )
    return fit_blocks(
        [ShortList("<b>Your attendance</b>\n", parts, "\n", "\n… and {n} more courses")]
    )


REPORT_WHICH_COURSE = "Which course? Send /report followed by the course name."
NO_SUMMARY = "I have no saved session of yours to summarise yet."


def _in_minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "in a minute" if minutes == 1 else f"in {minutes} minutes"


def not_delivered(error: DeliveryFailed, what: str = "that", command: str | None = None) -> str:
    """Telegram did not take something the user asked for (its flood control, a network
    error): say so briefly, and when to ask again (never "something went wrong")."""
    again = f"send {command} again" if command else "try again"
    if error.retry_after is not None:
        return f"Telegram asked me to slow down. Please {again} {_in_minutes(error.retry_after)}."
    return f"I could not send {what} just now. Please {again} in a minute."


NOT_AN_ADMIN = "Only admins can do that."
REMOVE_TEACHER_USAGE = "Send: /remove_teacher &lt;user id or @username&gt;"
TEACHER_WELCOME = "You are now a teacher. /help shows your commands."
BAD_TEACHER_INVITE = "That teacher invitation is not valid: it was used, has expired or is wrong."


def teacher_invite(link: str) -> str:
    return f"Send this link to the new teacher. It works once, within 24 hours:\n{escape(link)}"


def teacher_removed(user_id: int) -> str:
    return f"User {user_id} is no longer a teacher."


def teachers_list(configured: list[int], invited: list[UserProfile]) -> str:
    lines = [f"• {uid} (from the settings)" for uid in configured]
    lines += [f"• {escape(p.display_name)} — {p.user_id}" for p in invited]
    return fit_blocks([ShortList("<b>Teachers</b>\n", lines, "\n", "\n… and {n} more")])


def privacy_text(retention_days: int) -> str:
    return (
        "<b>Privacy</b>\n"
        "I store your Telegram id and names, the full name and student number you register, "
        "the courses you joined and your attendance records (time and status). Teachers of "
        "your courses see these to take attendance; nobody else does.\n"
        "For sessions with a location check I keep only whether you were inside and the "
        f"distance rounded to 10 m, never your coordinates. Records are deleted after "
        f"{retention_days} days.\n"
        "/mydata shows what I store about you; /forgetme deletes your name and number."
    )


def personal_data(data: PersonalData) -> str:
    profile = data.profile or data.cached_profile
    if profile is None and not data.courses and not data.attendance_records:
        return "I store nothing about you except that you talked to me just now."
    lines = ["<b>What I store about you</b>"]
    if profile is not None:
        lines.append(f"Telegram id: {profile.user_id}")
        telegram_name = " ".join(x for x in (profile.first_name, profile.last_name or "") if x)
        lines.append(f"Telegram name: {escape(telegram_name) or '—'}")
        if profile.username:
            lines.append(f"Username: @{escape(profile.username)}")
        lines.append(f"Registered name: {escape(profile.full_name or '—')}")
        lines.append(f"Student number: {escape(profile.student_number or '—')}")
    lines.append(f"Courses: {escape(', '.join(data.courses)) or '—'}")
    lines.append(f"Attendance records: {data.attendance_records}")
    if data.is_teacher:
        lines.append("Role: teacher")
    return fit_html("\n".join(lines))


FORGET_CONFIRM = (
    "This deletes your registered name, student number and cached profile, and takes you off "
    "your courses' rosters. Your past attendance stays, without your name, so teachers' counts "
    "stay right. Go ahead?"
)
FORGOTTEN = (
    "Done: your name and number are deleted and you left your courses. "
    "To take part again, /join a course (you will be asked your name)."
)
FORGET_CANCELLED = "Nothing was deleted."
GROUP_REFUSES_CARD = (
    "The group doesn't let me post, so there is no card there. Your session runs with the "
    "code card here: project it, and students send me the code privately. For a card in the "
    "group, let me send messages there (or start sessions here)."
)
GROUP_CARD_FAILED = (
    "I couldn't post the card in the group just now. Your session runs with the code card "
    "here: project it, and students send me the code privately."
)
FORGET_TEACHER_NOTE = (
    "\n\nYou are a teacher: you stay one, and your courses, sessions and their attendance "
    "records stay (they belong to your institution). Only your own name and number go."
)
FORGOTTEN_TEACHER_NOTE = " You are still a teacher: your courses and sessions are kept."


def forget_confirm(is_teacher: bool) -> str:
    """The /forgetme question; a teacher is told what stays."""
    return FORGET_CONFIRM + (FORGET_TEACHER_NOTE if is_teacher else "")


def forgotten(is_teacher: bool) -> str:
    return FORGOTTEN + (FORGOTTEN_TEACHER_NOTE if is_teacher else "")


def forget_refused_open_session(session: Session) -> str:
    """/forgetme while the user's own session is open: nothing is deleted yet."""
    return (
        f"Your session {card_heading(session)} is still open: end it first (/end_session), "
        "then send /forgetme again. Nothing was deleted."
    )


def checked_in_count(count: int, roster_size: int, has_roster: bool) -> str:
    """ "12 / 40" with a roster, "12" without."""
    return f"{count} / {roster_size}" if has_roster else str(count)


def card_heading(session: Session) -> str:
    course = f"{escape(session.course_name)} · " if session.course_name else ""
    return f"<b>{course}{escape(session.title)}</b>"


def card_ended(heading: str, count: str, summary_sent: bool) -> str:
    tail = "summary sent" if summary_sent else "summary on its way"
    return f"{heading}\nEnded — {count} checked in — {tail}"


def missing_list(profiles: list[UserProfile]) -> str:
    if not profiles:
        return "Nobody is missing: every enrolled student has checked in."
    names = [f"• {escape(p.display_name)}" for p in profiles]
    heading = f"<b>Not checked in yet ({len(profiles)})</b>\n"
    return fit_blocks([ShortList(heading, names, "\n", "\n… and {n} more", cap=100)])


def present_list(lines: list[tuple[UserProfile, CheckIn]], tz: tzinfo) -> str:
    if not lines:
        return "Nobody has checked in yet."
    rows = []
    for profile, checkin in lines:
        when = fmt_time(checkin.checked_in_at, tz) if checkin.checked_in_at else "—"
        late = " (late)" if checkin.status is AttendanceStatus.LATE else ""
        rows.append(f"{when} {escape(profile.display_name)}{late}")
    heading = f"<b>Checked in ({len(lines)})</b>\n"
    return fit_blocks([ShortList(heading, rows, "\n", "\n… and {n} more", cap=100)])


def extended(session: Session, tz: tzinfo) -> str:
    return f"{escape(session.title)} now runs until {fmt_time(session.ends_at, tz)}."


PRIVATE_REPLY_FAILED = (
    "I can't write to you privately yet: open a chat with me, press Start, then check in there."
)


def missed_summaries(count: int) -> str:
    """Before the summaries a teacher missed while the bot could not write to them."""
    if count == 1:
        return "I could not send you this session summary earlier (our chat was not open):"
    return f"I could not send you these {count} session summaries earlier (our chat was not open):"


# --- group sessions, private answers and the classroom location ---------------------------

CARD_LOCATION_BUTTON = "Share classroom location again"
CARD_LOCATION_MISSING = "⚠ Share classroom location"


def card_location_line(anchor_set: bool) -> str:
    """The card's location-check line: says plainly when students cannot check in yet."""
    if anchor_set:
        return "Location check: on (classroom location set)"
    return (
        "Location check: on — <b>classroom location missing</b>: students can't check in "
        "until the teacher shares it (button below)."
    )


ASK_TEACHER_LOCATION_AGAIN = (
    "Share where the classroom is now (tap the button below, from your phone). You can do "
    "this again at any time during the session."
)
LOCATION_PROMPT_SENT = "I've sent you a button to share the location, in our private chat."
NOT_A_GEO_SESSION = "This session doesn't check locations."
WAITING_FOR_LOCATION = (
    "I'm waiting for a location: tap <i>Share my location</i> below (from your phone)."
)
CHOICE_USED = "That choice was already used: the session is opening (or open)."
CODE_LEAKED_TIP = (
    "\n\nTip: send codes to me here, not in the group: everyone in the group can read them."
)
PRIVATE_CHAT_OPENED = (
    "Thanks: I can now send you codes, reports and answers privately. To check in, send me "
    "the code here. To start a session in a group, send the command again there."
)
CODE_CARD_FOR_GROUP = "This session was started in a group: the group's card has no code."


def open_bot_first(bot_username: str, payload: str) -> str:
    """The one line a group gets when the sender has no private chat with the bot yet."""
    link = f"https://t.me/{escape(bot_username)}?start={escape(payload)}"
    # Not "send it here again": a check-in from the group is recorded already, and codes
    # posted in the group are read by everyone.
    return (
        f'I answer privately: open <a href="{link}">@{escape(bot_username)}</a> once (press '
        "Start) to get my answers. Send codes to me there, not in the group."
    )


def location_not_ready_kept() -> str:
    return (
        "Your teacher hasn't shared the classroom location yet, so I can't check where you "
        "are. Your code is kept for a few minutes: share your location again in a moment."
    )


CLASSROOM_LOCATION_MISSING = (
    "\n\nNote: your teacher hasn't shared the classroom location yet. Your code is kept for "
    "a few minutes: if I say the location is missing, share yours again in a moment."
)

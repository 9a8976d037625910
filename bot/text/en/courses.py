"""Courses: creating, listing, settings, joining, and corrections of a student's record."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "course.created": (
        "Course <b>{name}</b> created.\n\n"
        "Students join with <code>/join {code}</code>\n"
        "or this link: {link}\n\n"
        "Check-ins after {late} min count as late; "
        "students below {warn}% get a nudge. "
        "Change that with /course_settings."
    ),
    "course.none": "You have no courses yet. Create one with /new_course followed by its name.",
    "course.list_heading": "<b>Your courses</b>\n\n",
    "course.list_item": (
        "<b>{name}</b> — {students}\n"
        "code <code>{code}</code> · late after {late} min · warn below {warn}%\n"
        "{link}"
    ),
    "course.list_more": Plural(
        one="\n\n… and {count} more course.", other="\n\n… and {count} more courses."
    ),
    "course.settings": (
        "<b>{name}</b>: late after {late} min, warn below {warn}%.\n"
        "Change: <code>/course_settings {name} late 15 warn 75</code>"
    ),
    "course.settings_usage": (
        "Send: /course_settings &lt;course&gt; [late &lt;minutes&gt;] [warn &lt;percent&gt;] "
        "[tz=&lt;zone&gt;]"
    ),
    "course.settings_zone": (
        "Time zone: {zone}.\nChange: <code>/course_settings {name} tz=Europe/Madrid</code>"
    ),
    "course.join_usage": "Send the course code your teacher gave you: /join CODE",
    "course.already_enrolled": "You are already enrolled in <b>{name}</b>. Nothing else to do.",
    "course.joined": "You are enrolled in <b>{name}</b>. Check in with /checkin CODE during class.",
    # /mark: corrections.
    "mark.usage": (
        "Send: /mark &lt;student&gt; &lt;present|late|excused|absent&gt; [session]\n"
        "&lt;student&gt; is a student number, a @username or the start of a name.\n"
        "Or send /mark alone and pick with buttons."
    ),
    "mark.no_roster": "Corrections work on course sessions: this session has no roster.",
    "mark.student_not_found": "No enrolled student matches “{query}”.",
    "mark.student_gone": "That student is no longer in the course: nothing was changed.",
    "mark.ambiguous": (
        "Several students match. Use a student number, a @username or more of the name:"
    ),
    "mark.candidate": "• {name}",
    "mark.candidate_extra": "• {name} ({extra})",
    "mark.no_record": "no record",
    # An attendance status as a word in a sentence (the /mark reply), not the syntax /mark reads.
    "status.present": "present",
    "status.late": "late",
    "status.excused": "excused",
    "status.absent": "absent",
    # /mark with no arguments: session → student → status, with buttons.
    "mark.choose_session": "Which session do you want to correct?",
    "mark.choose_student": "<b>{title}</b> ({course}): which student?",
    "mark.choose_status": "<b>{name}</b> in <b>{title}</b>: set the status to…",
    "mark.no_sessions": "You have no course sessions to correct yet.",
    "mark.no_students": "Nobody is enrolled in this session's course.",
    # The buttons of the choosers (/report, /course_settings, /summary, /mark).
    "choose.course": "{name}",
    "choose.student": "{name}",
    "choose.live": "live now",
    "choose.session": "{when} · {course} · {title}",
    "choose.back": "◀ Back",
    "choose.status.present": "✅ present",
    "choose.status.late": "⏰ late",
    "choose.status.excused": "📝 excused",
    "choose.status.absent": "❌ absent",
    "choose.mark_another": "Mark another student",
    "course.settings_which": "Which course's settings? Pick one:",
    "mark.corrected": (
        "<b>{name}</b> in <b>{title}</b>: {old} → <b>{new}</b>. The change is logged."
    ),
}

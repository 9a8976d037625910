"""Sessions: opening, ending, extending, summaries, the lists a teacher asks for mid-session."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "session.opening": "Your session is being opened right now: its card follows in a moment.",
    "session.already_open": (
        "You already have an open session: <b>{title}</b> "
        "(code <code>{code}</code>, until {until}).\n"
        "Send /end_session first to start a new one."
    ),
    "session.ended": "<b>{title}</b> is closed. Your summary arrives in a moment.",
    "session.none_open": "You have no open session. Start one with /start_session.",
    "session.extended": "{title} now runs until {until}.",
    "session.choose_course": "Which course is this session for?",
    "session.choose_course_paged": (
        "Which course is this session for? You have {count} courses: <i>more courses ▶</i> "
        "shows the next ones (or send /start_session with the course's name)."
    ),
    # The course question's buttons (a course's own name is its button).
    "session.button.course": "{name}",
    "session.button.previous": "◀ previous",
    "session.button.more": "more courses ({page}/{pages}) ▶",
    "session.choice_used": "That choice was already used: the session is opening (or open).",
    "session.no_summary": "I have no saved session of yours to summarise yet.",
    "session.which_summary": "There is no saved session called “{query}”. Pick one:",
    "session.summary_follows": "That session's summary follows.",
    "session.missed_summaries": Plural(
        one="I could not send you this session summary earlier (our chat was not open):",
        other=(
            "I could not send you these {count} session summaries earlier (our chat was not open):"
        ),
    ),
    "session.group_refuses_card": (
        "The group doesn't let me post, so there is no card there. Your session runs with the "
        "code card here: project it, and students send me the code privately. For a card in "
        "the group, let me send messages there (or start sessions here)."
    ),
    "session.group_card_failed": (
        "I couldn't post the card in the group just now. Your session runs with the code card "
        "here: project it, and students send me the code privately."
    ),
    # The summary a teacher gets when a session ends. A list's heading ends with `{names}`:
    # the (shortened) list follows it.
    "summary.heading": (
        "<b>Summary: {title}</b>\n{course}{started}–{ended}\nChecked in: <b>{count}</b>"
    ),
    "summary.course": "{course} · ",
    "summary.counts": "Present {present} · Late {late} · Absent {absent} · Excused {excused}",
    "summary.late": "<b>Late:</b> {names}",
    "summary.absent": "<b>Absent:</b> {names}",
    "summary.more_in_csv": " … and {count} more (see the CSV)",
    "summary.at_risk": "<b>At risk</b> (below the course threshold): {names}",
    "summary.at_risk_student": "{name} ({percent}%)",
    "summary.more_in_report": " … and {count} more (see /report)",
    "summary.nobody": "Nobody checked in.",
    "summary.line": "{when} {name}",
    "summary.line_late": "{when} {name} (late)",
    "summary.more_in_file": "\n… and {count} more (all in the CSV file).",
    # Mid-session lists.
    "session.nobody_missing": "Nobody is missing: every enrolled student has checked in.",
    "session.missing_heading": "<b>Not checked in yet ({count})</b>\n",
    "session.list_item": "• {name}",
    "session.nobody_present": "Nobody has checked in yet.",
    "session.present_heading": "<b>Checked in ({count})</b>\n",
}

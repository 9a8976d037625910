"""The command lists behind /help and the menus (the command registry replaces them)."""

from __future__ import annotations

from bot.text import Text, join, t

STUDENT_COMMANDS: list[tuple[str, str]] = [
    ("checkin", "check in with the code your teacher shows"),
    ("join", "join a course with its code"),
    ("register", "set the name your teacher sees"),
    ("history", "your attendance per course"),
    ("help", "what I can do for you"),
    ("start", "how this works"),
]

TEACHER_COMMANDS: list[tuple[str, str]] = [
    ("start_session", "open a session: [course] [minutes] [title]"),
    ("end_session", "end your open session now"),
    ("extend", "give your open session more time: [minutes]"),
    ("new_course", "create a course: <name>"),
    ("courses", "your courses with codes and invite links"),
    ("course_settings", "<course> [late <minutes>] [warn <percent>]"),
    ("mark", "<student> <present|late|excused|absent> [session]"),
    ("report", "attendance table, spreadsheet and chart: [course]"),
    ("summary", "send a session's summary again: [session]"),
]

ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("add_teacher", "a one-time link that makes someone a teacher"),
    ("remove_teacher", "<user id or @username>"),
    ("teachers", "who can run sessions"),
]
PRIVACY_COMMANDS: list[tuple[str, str]] = [
    ("mydata", "what I store about you"),
    ("forgetme", "delete your name and number"),
    ("privacy", "what is stored, why, how long"),
]


def commands_for(is_teacher: bool, is_admin: bool = False) -> list[tuple[str, str]]:
    """Exactly the commands this user may use (for /help and the command menus)."""
    commands = STUDENT_COMMANDS + (TEACHER_COMMANDS if is_teacher else [])
    commands = commands + (ADMIN_COMMANDS if is_admin else [])
    return commands + PRIVACY_COMMANDS


def help_text(is_teacher: bool, is_admin: bool = False) -> Text:
    commands = commands_for(is_teacher, is_admin)
    lines = [t("help.line", name=name, about=about) for name, about in commands]
    return join([t("help.heading"), *lines])

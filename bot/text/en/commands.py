"""What each command is for and how it is written, as the menus and /help show them.

Keys: `command.<name>.about` (a short line for the menu, ≤ 256 characters) and
`command.<name>.usage` (the syntax, as /help and usage replies show it: `<x>` is required,
`[x]` optional, written as HTML). The usage line says what the handler's parser accepts.
"""

from __future__ import annotations

from bot.text.message import Message


def _command(name: str, about: str, args: str = "") -> dict[str, Message]:
    usage = f"/{name} {args}".rstrip()
    return {f"command.{name}.about": about, f"command.{name}.usage": usage}


MESSAGES: dict[str, Message] = {
    # The bot's profile, per language (setMyDescription ≤ 512, setMyShortDescription ≤ 120
    # characters, plain text): what an empty chat with the bot and its profile page say.
    "bot.description": (
        "ATTN takes class attendance. Your teacher shows a code in class: send it to me with "
        "/checkin and you are marked present. Teachers start sessions, see who is here and "
        "get reports."
    ),
    "bot.short_description": "Class attendance: check in with the code your teacher shows.",
    **_command("start", "how this works"),
    **_command("help", "what I can do for you"),
    **_command("register", "set the name your teacher sees", "&lt;full name&gt; [student number]"),
    **_command("checkin", "check in with the code your teacher shows", "[code]"),
    **_command("join", "join a course with its code", "&lt;course code&gt;"),
    **_command("history", "your attendance per course"),
    **_command("leave", "leave a course you joined", "[course]"),
    **_command("settings", "your language, attendance warnings and session defaults"),
    **_command("cancel", "stop what I asked you for (a code, a name, a location)"),
    **_command("new_course", "create a course", "&lt;name&gt;"),
    **_command("courses", "your courses with codes and invite links"),
    **_command(
        "course_settings",
        "a course's late threshold, warning level and time zone",
        "&lt;course&gt; [late &lt;minutes&gt;] [warn &lt;percent&gt;] [tz=&lt;zone&gt;]",
    ),
    **_command(
        "timetable",
        "a course's weekly classes: sessions open and close by themselves",
        "[course]",
    ),
    **_command("rename_course", "give a course a new name", "&lt;course&gt; &lt;new name&gt;"),
    **_command("archive_course", "archive a course: no new sessions", "&lt;course&gt;"),
    **_command("unarchive_course", "bring an archived course back", "&lt;course&gt;"),
    **_command(
        "remove_student",
        "take a student off a course's roster",
        "&lt;course&gt; &lt;student&gt;",
    ),
    **_command(
        "new_join_code", "a new join code and link; the old ones stop working", "&lt;course&gt;"
    ),
    **_command(
        "transfer_course",
        "give a course to another teacher",
        "&lt;course code&gt; &lt;user id or @username&gt;",
    ),
    **_command(
        "start_session",
        "open a session and post its live card",
        "[course] [minutes] [title] [geo] [fixed|rotate=N]",
    ),
    **_command("end_session", "end your open session now"),
    **_command("extend", "give your open session more time", "[minutes]"),
    **_command(
        "mark",
        "correct a student's attendance",
        "&lt;student&gt; &lt;present|late|excused|absent&gt; [session]",
    ),
    **_command("report", "attendance table, spreadsheet and chart", "[course]"),
    **_command("summary", "send a session's summary again", "[session]"),
    **_command("add_teacher", "a one-time link that makes someone a teacher"),
    **_command(
        "remove_teacher", "take away someone's teacher role", "&lt;user id or @username&gt;"
    ),
    **_command("teachers", "who can run sessions"),
    **_command("privacy", "what is stored, why, how long"),
    **_command("mydata", "what I store about you"),
    **_command("forgetme", "delete your name and number"),
    # /help: a heading, then one line per command the user may use.
    "help.heading": "<b>Commands</b>",
    "help.line": "{usage} — {about}",
    # /start without a payload: what to do first, for a teacher or a student.
    "welcome.hello": "Hi {first_name}! I take attendance for classes.",
    "welcome.teacher": (
        "• {start_session} opens a session and gives you a code to show.\n"
        "• Students send /checkin CODE to me.\n"
        "• {end_session} closes it; you get a summary of who checked in.\n\n"
        "/help lists everything you can do."
    ),
    "welcome.student": (
        "When your teacher shows a code, send it to me like this: /checkin K7M2QX\n"
        "Use {register} so your teacher sees your real name.\n\n"
        "/help lists everything you can do."
    ),
}

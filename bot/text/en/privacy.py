"""Privacy: what is stored, /mydata, /forgetme."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "privacy.text": (
        "<b>Privacy</b>\n"
        "I store your Telegram id and names, the full name and student number you register, "
        "the courses you joined and your attendance records (time and status). Teachers of "
        "your courses see these to take attendance; nobody else does.\n"
        "For sessions with a location check I keep only whether you were inside and the "
        "distance rounded to 10 m, never your coordinates. Records are deleted after "
        "{days} days.\n"
        "An excuse you send keeps its reason and Telegram's reference to the photo or file "
        "(the file itself stays in Telegram); /settings keeps your language and choices.\n"
        "/mydata shows what I store about you; /forgetme deletes your name and number."
    ),
    "mydata.nothing": "I store nothing about you except that you talked to me just now.",
    "mydata.heading": "<b>What I store about you</b>",
    "mydata.telegram_id": "Telegram id: {id}",
    "mydata.telegram_name": "Telegram name: {name}",
    "mydata.username": "Username: @{username}",
    "mydata.full_name": "Registered name: {name}",
    "mydata.student_number": "Student number: {number}",
    "mydata.courses": "Courses: {courses}",
    "mydata.records": "Attendance records: {count}",
    "mydata.teacher": "Role: teacher",
    # What /settings stored (the nudges line is the settings' own text).
    "mydata.language": "Language chosen in /settings: {name}",
    "mydata.app_language": "Your Telegram app's language: {code}",
    "mydata.session_minutes": "Your default session length: {minutes} min",
    "mydata.rotation_fixed": "Your default check-in code: fixed for the whole session",
    "mydata.rotation_every": "Your default check-in code: a new one every {seconds} s",
    "forget.confirm": (
        "This deletes your registered name, student number and cached profile, and takes you "
        "off your courses' rosters. Your past attendance stays, without your name, so "
        "teachers' counts stay right. Go ahead?"
    ),
    "forget.teacher_note": (
        "\n\nYou are a teacher: you stay one, and your courses, sessions and their attendance "
        "records stay (they belong to your institution). Only your own name and number go."
    ),
    "forget.done": (
        "Done: your name and number are deleted and you left your courses. "
        "To take part again, /join a course (you will be asked your name)."
    ),
    "forget.done_teacher_note": " You are still a teacher: your courses and sessions are kept.",
    "forget.button.yes": "Yes, delete",
    "forget.button.no": "No",
    "forget.cancelled": "Nothing was deleted.",
    "forget.open_session": (
        "Your session {heading} is still open: end it first (/end_session), "
        "then send /forgetme again. Nothing was deleted."
    ),
}

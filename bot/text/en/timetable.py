"""/timetable: a course's weekly classes, set with buttons or a CSV file, and what the bot
says on its own when a class is near, opened, or passed with nobody there."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "timetable.title": "🗓 <b>Timetable — {course}</b> ({zone})",
    "timetable.term": "Term: {first} – {last}",
    "timetable.no_slots": "No classes yet: add one with the buttons.",
    "timetable.slot_line": "• {weekday} {start}–{end}",
    "timetable.holidays": "Skipped: {days}",
    "timetable.no_holidays": "No dates skipped.",
    "timetable.early": "Sessions open {minutes} min early for arrivals.",
    "timetable.on_time": "Sessions open when the class starts.",
    "timetable.remind": "You get a reminder {minutes} min before.",
    "timetable.no_reminder": "No reminder before classes.",
    "timetable.group_linked": "The session card also goes to the linked group.",
    "timetable.no_group": "No group linked: send /timetable {course} in the class group.",
    "timetable.next": "Next class: {when}",
    "timetable.no_next": "No class left in the term.",
    "timetable.csv_hint": (
        "To import a timetable, send me a CSV file with the caption /timetable {course}."
    ),
    "timetable.choose_course": "Which course's timetable?",
    "timetable.pick_weekday": "On which day of the week is the class?",
    "timetable.pick_hour": "{weekday}: at what hour does it start?",
    "timetable.pick_minute": "{weekday}: it starts at…",
    "timetable.pick_length": "{weekday} {start}: how long is the class?",
    "timetable.pick_remove": "Which class should I remove?",
    "timetable.pick_skip": "Tap a class date to skip it (a holiday); tap it again to hold it.",
    "timetable.button.add": "➕ Add a class",
    "timetable.button.remove": "➖ Remove a class",
    "timetable.button.skip": "🏖 Skip a date",
    "timetable.button.start_earlier": "◀ Start −1 week",
    "timetable.button.start_later": "Start +1 week ▶",
    "timetable.button.end_earlier": "◀ End −1 week",
    "timetable.button.end_later": "End +1 week ▶",
    "timetable.button.on_time": "Open on time",
    "timetable.button.early": "{minutes} min early",
    "timetable.button.no_reminder": "No reminder",
    "timetable.button.remind": "Remind {minutes} min before",
    "timetable.button.unlink": "Unlink the group",
    "timetable.button.back": "◀ Back",
    "timetable.button.weekday": "📅 {weekday}",
    "timetable.button.time": "🕘 {time}",
    "timetable.button.length": "{minutes} min",
    "timetable.button.remove_slot": "✖ {weekday} {start}",
    "timetable.button.day": "📅 {day}",
    "timetable.button.day_skipped": "✓ {day} (skipped)",
    "timetable.button.more": "Later dates ▶",
    "timetable.button.start_now": "▶ Start the session now",
    "timetable.group_linked_notice": (
        "🗓 This group now gets the session card of {course}'s timetabled classes."
    ),
    "timetable.group_name_course": (
        "Name the course: send /timetable &lt;course&gt; in the group to link it."
    ),
    "timetable.import_done": Plural(
        one="{course}: imported {count} weekly class.",
        other="{course}: imported {count} weekly classes.",
    ),
    "timetable.import_holidays": Plural(
        one="{count} date skipped.",
        other="{count} dates skipped.",
    ),
    "timetable.import_settings": "The term and times in the file are saved.",
    "timetable.import_nothing": "Nothing in that file could be used; the timetable is unchanged.",
    "timetable.import_rejected": Plural(
        one="{count} line was not imported:",
        other="{count} lines were not imported:",
    ),
    "timetable.import_line": "Line {number}: {reason}",
    "timetable.import_not_csv": "Send the timetable as a CSV file (.csv, up to 64 KB).",
    "timetable.reason.duplicate": "this class is already in the file",
    "timetable.reason.weekday": "unknown day of the week (Mon … Sun)",
    "timetable.reason.time": "the start is not a time (HH:MM, 24-hour)",
    "timetable.reason.length": "the length must be 5 to 240 minutes",
    "timetable.reason.formula": "a formula, not a value",
    "timetable.reason.date": "not a date (YYYY-MM-DD)",
    "timetable.reason.date_order": "the dates are in the wrong order or over a year apart",
    "timetable.reason.kind": "unknown line (slot, term, holiday, early or remind)",
    "timetable.reason.slot_fields": "a class needs a day, a start and a length",
    "timetable.reason.term_fields": "a term needs a first and a last day",
    "timetable.reason.holiday_fields": "a holiday needs a date (or a first and a last)",
    "timetable.reason.early_value": "opening early must be 0 to 60 minutes",
    "timetable.reason.remind_value": "the reminder must be 0 to 1440 minutes",
    "timetable.reason.too_many_slots": "more than 20 classes a week",
    "timetable.reminder": (
        "⏰ {course} starts at {start} (in {minutes} min). The session opens by itself at {opens}."
    ),
    "timetable.missed.no_session": (
        "⚠️ {course}, {when}: the class passed without a session and nobody checked in "
        "(the session could not be opened, or I was not running then)."
    ),
    "timetable.missed.nobody_came": "⚠️ {course}, {when}: nobody checked in to the session.",
    "timetable.started": "The session is open.",
    "error.invalid.timetable.no_slot_soon": "No class of this course starts within the hour.",
    "error.invalid.timetable.term_order": "The term would end before it starts.",
    "error.invalid.timetable.term_too_long": "A term lasts a year at most.",
    "error.invalid.timetable.too_many_slots": "A timetable has at most 20 classes a week.",
    "error.invalid.timetable.button": "That button no longer works. Send /timetable again.",
    "error.invalid.timetable.not_a_group": "Only a group can be linked to a course.",
}

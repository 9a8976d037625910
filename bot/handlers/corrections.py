"""/mark: a teacher corrects one student's status, typed or with buttons."""

from __future__ import annotations

from telegram import Update

from bot import choosers, replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.replying import edit_in_place, respond
from bot.text import t
from services.corrections import STATUS_WORDS
from services.course_access import Permission


def parse_mark_args(args: list[str]) -> tuple[str, str, str | None] | None:
    """(student, status, session id or None) from `<student...> <status> [session]`."""
    if len(args) >= 2 and args[-1].lower() in STATUS_WORDS:
        return " ".join(args[:-1]), args[-1], None
    if len(args) >= 3 and args[-2].lower() in STATUS_WORDS:
        return " ".join(args[:-2]), args[-2], args[-1]
    return None


async def mark_command(update: Update, context: AttnContext) -> None:
    """/mark <student> <present|late|excused|absent> [session]

    Alone, it walks the teacher through session → student → status with buttons.
    """
    user = update.effective_user
    assert user is not None
    await context.services.access.require_any(user.id, Permission.MARK)
    args = list(context.args or [])
    if not args:
        sessions = await context.services.corrections.markable_sessions(user.id)
        if not sessions:
            respond(context, update, t("mark.no_sessions"))
            return
        markup = choosers.session_buttons("mk", sessions, context.tz)
        respond(context, update, t("mark.choose_session"), reply_markup=markup)
        return
    parsed = parse_mark_args(args)
    if parsed is None:
        respond(context, update, replies.MARK_USAGE)
        return
    student, status, session_id = parsed
    correction = await context.services.corrections.mark(user.id, student, status, session_id)
    respond(context, update, replies.corrected(correction))


async def mark_button(update: Update, context: AttnContext) -> None:
    """A step of /mark's walk (session → student → status), editing its message in place.

    Every step reads the session back as the presser's (a forged or stale button gets the
    refusal as an alert), and the last one makes the same audited correction as typed /mark.
    """
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith("mk:"):
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    kind, values = parsed
    corrections = context.services.corrections
    if kind == "mk:l":
        sessions = await corrections.markable_sessions(user.id)
        if not sessions:
            await edit_in_place(update, t("mark.no_sessions"), None)
            return
        markup = choosers.session_buttons("mk", sessions, context.tz, int(values[0]))
        await edit_in_place(update, t("mark.choose_session"), markup)
    elif kind == "mk:s":
        session, roster = await corrections.session_roster(user.id, values[0])
        if not roster:
            await edit_in_place(update, t("mark.no_students"), None)
            return
        text = t("mark.choose_student", title=session.title, course=session.course_name or "")
        await edit_in_place(
            update, text, choosers.student_buttons(session.id, roster, int(values[1]))
        )
    elif kind == "mk:u":
        session, roster = await corrections.session_roster(user.id, values[0])
        student = next((p for p in roster if p.user_id == int(values[1])), None)
        if student is None:
            await edit_in_place(update, t("mark.no_students"), None)
            return
        text = t("mark.choose_status", name=student.display_name, title=session.title)
        await edit_in_place(update, text, choosers.status_buttons(session.id, student.user_id))
    else:
        correction = await corrections.mark_student(
            user.id,
            session_id=values[0],
            student_id=int(values[1]),
            status_word=choosers.STATUS_LETTERS[values[2]],
        )
        markup = choosers.after_mark_buttons(correction.session.id)
        await edit_in_place(update, replies.corrected(correction), markup)


COMMANDS: tuple[Command, ...] = (
    Command("mark", mark_command, Role.TEACHER, staff=Permission.MARK),
)

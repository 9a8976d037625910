"""Roster import: a teacher sends a CSV or XLSX file, picks its course with a button, and
gets a report of what was imported and which lines were rejected. Also the teacher's
Approve / Decline buttons under a student's claim that matched no free place."""

from __future__ import annotations

import contextlib

from telegram import InputFile, Update
from telegram.error import TelegramError

from bot import choosers, replies
from bot.context import AttnContext
from bot.excuses import answer_with_media
from bot.languages import recipient_languages
from bot.replies import roster as roster_replies
from bot.replying import edit_in_place, message_of, respond, respond_to_sender, send_later
from bot.text import t
from services.course_access import Permission
from services.course_admin import active
from services.errors import InvalidArgument
from services.roster_file import MAX_FILE_BYTES

#: File names a roster may have (Telegram reports what the sender's app named it).
ROSTER_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


async def document_message(update: Update, context: AttnContext) -> None:
    """A file in the private chat: the PDF of an excuse when /excuse asked for one, else a
    teacher's roster (its course asked with buttons)."""
    user = update.effective_user
    message = message_of(update)
    assert user is not None and message.document is not None
    if await answer_with_media(update, context):
        return
    document = message.document
    if Permission.MANAGE not in await context.services.access.permissions(user.id):
        respond(context, update, roster_replies.ROSTER_DOCUMENT_HINT)
        return
    name = document.file_name or ""
    if not name.lower().endswith(ROSTER_SUFFIXES):
        respond(context, update, roster_replies.ROSTER_FILE_KIND)
        return
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        raise InvalidArgument("roster_file", "too_big")
    courses = active(await context.services.courses.teacher_courses(user.id, Permission.MANAGE))
    if not courses:
        respond(context, update, roster_replies.ROSTER_NO_COURSES)
        return
    token = await context.services.roster.offer_file(
        user.id, file_id=document.file_id, filename=name
    )
    markup = choosers.roster_course_buttons(courses, token)
    respond(context, update, roster_replies.ROSTER_WHICH_COURSE, reply_markup=markup)


async def roster_course_button(update: Update, context: AttnContext) -> None:
    """The course picked for a sent roster file (or a page of the course list)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith("ri:"):
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    kind, values = parsed
    services = context.services
    if kind == "ri:l":
        courses = active(await services.courses.teacher_courses(user.id, Permission.MANAGE))
        markup = choosers.roster_course_buttons(courses, values[1], int(values[0]))
        await edit_in_place(update, roster_replies.ROSTER_WHICH_COURSE, markup)
        return
    course = await services.courses.course_for_teacher(user.id, int(values[0]), Permission.MANAGE)
    kept = await services.roster.take_file(user.id, values[1])
    if kept is None:
        await edit_in_place(update, roster_replies.ROSTER_FILE_GONE, None)
        return
    file_id, filename = kept
    await edit_in_place(update, roster_replies.importing(course), None)
    try:
        telegram_file = await context.bot.get_file(file_id)
        content = bytes(await telegram_file.download_as_bytearray())
    except TelegramError:
        respond(context, update, roster_replies.ROSTER_DOWNLOAD_FAILED)
        return
    try:
        result = await services.roster.import_roster(user.id, course.id, content, filename)
    except InvalidArgument as error:
        respond(context, update, replies.invalid_argument(error))
        return
    respond(context, update, roster_replies.import_report(result))
    rejected = result.file.rejected
    if len(rejected) > roster_replies.REJECTS_SHOWN:
        document = InputFile(
            roster_replies.rejected_csv(rejected),
            filename=t("files.name.rejected", html=False),
        )
        respond_to_sender(
            context, update, lambda chat_id: context.bot.send_document(chat_id, document)
        )


async def claim_decision_button(update: Update, context: AttnContext) -> None:
    """Approve / Decline under a claim: only the course's teacher; the first tap decides."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith("rq:"):
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    kind, values = parsed
    services = context.services
    waiting = await services.roster.request_for_teacher(user.id, int(values[0]))
    decided = await services.roster.decide(user.id, int(values[0]), approve=kind == "rq:a")
    if waiting is None or decided is None:
        await query.answer(roster_replies.ROSTER_REQUEST_DECIDED, show_alert=True)
        return
    _, _, profile = waiting
    student = profile.display_name if profile else str(decided.request.student_id)
    await edit_in_place(update, roster_replies.decision(decided, student), None)
    language = await recipient_languages(context).of(decided.request.student_id)
    notice = roster_replies.decision_notice(decided, language)

    async def tell_student() -> None:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(decided.request.student_id, notice)

    send_later(context, update, tell_student())

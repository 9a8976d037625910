"""Reports for teachers (/report, /summary) and students (/history)."""

from __future__ import annotations

import logging

from telegram import InputFile, Update

from bot import choosers, replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.notifier import TelegramNotifier
from bot.private import in_group, point_group_to_private
from bot.replies.files import file_slug, gradebook_header, report_labels
from bot.replies.reports import report_pages
from bot.replying import edit_in_place, respond, respond_to_sender
from bot.text import t
from services.corrections import SessionChoice
from services.course_access import Permission, match_course
from services.course_admin import active
from services.delivery import DeliveryFailed
from services.models import SessionSummary
from services.report_files import gradebook_csv, report_chart, report_xlsx
from services.reports import CourseReport

log = logging.getLogger(__name__)


async def report_command(update: Update, context: AttnContext) -> None:
    """/report [course]: the table in the chat, plus an XLSX file and a PNG chart; with
    several courses and none named (or an unknown name), the teacher picks one from buttons."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    await services.access.require_any(user.id, Permission.REPORT)
    args = list(context.args or [])
    courses = await services.courses.teacher_courses(user.id, Permission.REPORT)
    matched = match_course(courses, args) if args else None
    offered = active(courses)  # an archived course is reported when named, not offered
    if matched is not None:
        course = matched[0]
    elif len(offered) == 1 and not args:
        course = offered[0]
    elif not offered:
        respond(context, update, replies.courses_list(courses, context.bot.username))
        return
    else:
        markup = choosers.course_buttons("rp", offered)
        respond(context, update, replies.REPORT_WHICH_COURSE, reply_markup=markup)
        return
    report = await services.reports.course_report(user.id, course)
    respond(
        context,
        update,
        replies.report_text(report),
        reply_markup=choosers.report_page_buttons(course.id, 0, report_pages(report)),
    )
    send_report_files(update, context, report)


def send_report_files(update: Update, context: AttnContext, report: CourseReport) -> None:
    """The spreadsheet and the chart, to the teacher privately (they carry names)."""
    zone = replies.zone_of(report.course.time_zone, context.tz)  # the course's zone
    xlsx = InputFile(
        report_xlsx(report, report_labels(), zone),
        filename=t("files.name.report", course=file_slug(report.course.name), html=False),
    )
    chart = InputFile(
        report_chart(report, report_labels(), zone),
        filename=t("files.name.chart", html=False),
    )
    gradebook = InputFile(
        gradebook_csv(report, gradebook_header()),
        filename=t("files.name.gradebook", course=file_slug(report.course.name), html=False),
    )
    # Names and attendance: to the teacher's private chat when asked from a group.
    respond_to_sender(context, update, lambda chat_id: context.bot.send_document(chat_id, xlsx))
    respond_to_sender(
        context, update, lambda chat_id: context.bot.send_document(chat_id, gradebook)
    )
    respond_to_sender(context, update, lambda chat_id: context.bot.send_photo(chat_id, chart))


async def report_button(update: Update, context: AttnContext) -> None:
    """/report's buttons: a course picked (the report replaces the question, the files
    follow), a page of the course list, or Prev/Next through the report's pages. The course
    is read back as the presser's own each time (forged data gets the refusal)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith("rp:"):
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    kind, values = parsed
    services = context.services
    if kind == "rp:l":
        courses = active(await services.courses.teacher_courses(user.id, Permission.REPORT))
        markup = choosers.course_buttons("rp", courses, int(values[0]))
        await edit_in_place(update, replies.REPORT_WHICH_COURSE, markup)
        return
    course = await services.courses.course_for_teacher(user.id, int(values[0]), Permission.REPORT)
    report = await services.reports.course_report(user.id, course)
    page = int(values[1]) if kind == "rp:p" else 0
    count = report_pages(report)
    page = min(page, count - 1)
    pager = choosers.report_page_buttons(course.id, page, count)
    shown = await edit_in_place(update, replies.report_text(report, page), pager)
    if kind == "rp:c" and shown:  # a double tap on the course: its files are sent once
        send_report_files(update, context, report)


async def history_command(update: Update, context: AttnContext) -> None:
    """/history: the student's own attendance per course."""
    user = update.effective_user
    assert user is not None
    lines = await context.services.reports.student_history(user.id)
    respond(context, update, replies.history_text(lines))


async def summary_command(update: Update, context: AttnContext) -> None:
    """/summary [session]: send a saved session's summary again (the latest by default; a
    session named by the start of its id; buttons when the name fits none or several)."""
    user = update.effective_user
    assert user is not None
    args = context.args or []
    wanted = args[0][:64] if args else None
    summary = await context.services.reports.summary(user.id, wanted)
    if summary is None and wanted is not None:
        saved = await saved_sessions(context, user.id)
        named = [s for s in saved if s.id.startswith(wanted.lower())]
        if len(named) == 1:
            summary = await context.services.reports.summary(user.id, named[0].id)
        elif saved:
            text = t("session.which_summary", query=wanted)
            respond(
                context,
                update,
                text,
                reply_markup=choosers.session_buttons("sm", named or saved, context.tz),
            )
            return
    if summary is None:
        respond(context, update, replies.NO_SUMMARY)
        return
    await send_summary(update, context, summary)


async def saved_sessions(context: AttnContext, teacher_id: int) -> list[SessionChoice]:
    """The teacher's saved course sessions, newest first (a live one has no summary yet)."""
    choices = await context.services.corrections.markable_sessions(teacher_id)
    return [c for c in choices if not c.live]


async def summary_button(update: Update, context: AttnContext) -> None:
    """/summary's buttons: a session picked (its summary is sent again, as typed /summary
    does; only the presser's own), or a page of the session list."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith("sm:"):
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    kind, values = parsed
    if kind == "sm:l":
        saved = await saved_sessions(context, user.id)
        markup = choosers.session_buttons("sm", saved, context.tz, int(values[0]))
        await query.answer()
        await query.edit_message_reply_markup(markup)
        return
    summary = await context.services.reports.summary(user.id, values[0])
    if summary is None:
        await query.answer(replies.NO_SUMMARY, show_alert=True)
        return
    # The chooser becomes "summary below" without buttons: a double tap changes nothing
    # and so sends nothing a second time.
    if await edit_in_place(update, t("session.summary_follows"), None):
        await send_summary(update, context, summary)


async def send_summary(update: Update, context: AttnContext, summary: SessionSummary) -> None:
    """Send a summary to its teacher privately, wherever they asked (it carries names)."""
    notifier = TelegramNotifier(context.bot, context.tz)
    try:
        await notifier.send_summary(summary)
    except DeliveryFailed as failed:
        if failed.unreachable and in_group(update):  # never opened the bot, or blocked it
            await point_group_to_private(context, update)
            return
        log.warning("summary of %s not sent on request: %s", summary.session_id, failed)
        respond(context, update, replies.not_delivered(failed, replies.THE_SUMMARY, "/summary"))
        return
    # Delivered now: a copy still queued, or missed earlier, is not sent a second time.
    await context.services.delivery.summary_sent_on_request(summary.session_id)


COMMANDS: tuple[Command, ...] = (
    Command("history", history_command, Role.STUDENT),
    Command("report", report_command, Role.TEACHER, staff=Permission.REPORT),
    Command("summary", summary_command, Role.TEACHER, staff=Permission.RUN_SESSIONS),
)

"""Reports for teachers (/report, /summary) and students (/history)."""

from __future__ import annotations

import logging
import re

from telegram import InputFile, Update

from bot import replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.notifier import TelegramNotifier
from bot.private import in_group, point_group_to_private
from bot.replies.files import report_labels
from bot.replying import respond, respond_to_sender
from bot.text import t
from services.delivery import DeliveryFailed
from services.report_files import report_chart, report_xlsx

log = logging.getLogger(__name__)


async def report_command(update: Update, context: AttnContext) -> None:
    """/report [course]: the table in the chat, plus an XLSX file and a PNG chart."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    await services.roles.require_teacher(user.id)
    args = list(context.args or [])
    if args:
        course, _ = await services.courses.find_teacher_course(user.id, args)
    else:
        courses = await services.courses.teacher_courses(user.id)
        if len(courses) != 1:
            intro = replies.REPORT_WHICH_COURSE if courses else ""
            text = replies.courses_list(courses, context.bot.username, intro)
            respond(context, update, text)
            return
        course = courses[0]
    report = await services.reports.course_report(user.id, course)
    respond(context, update, replies.report_text(report))
    zone = replies.zone_of(course.time_zone, context.tz)  # files and chart: the course's zone
    slug = re.sub(r"[^A-Za-z0-9]+", "-", course.name).strip("-") or "course"
    xlsx = InputFile(
        report_xlsx(report, report_labels(), zone),
        filename=t("files.name.report", course=slug, html=False),
    )
    chart = InputFile(
        report_chart(report, report_labels(), zone),
        filename=t("files.name.chart", html=False),
    )
    # Names and attendance: to the teacher's private chat when asked from a group.
    respond_to_sender(context, update, lambda chat_id: context.bot.send_document(chat_id, xlsx))
    respond_to_sender(context, update, lambda chat_id: context.bot.send_photo(chat_id, chart))


async def history_command(update: Update, context: AttnContext) -> None:
    """/history: the student's own attendance per course."""
    user = update.effective_user
    assert user is not None
    lines = await context.services.reports.student_history(user.id)
    respond(context, update, replies.history_text(lines))


async def summary_command(update: Update, context: AttnContext) -> None:
    """/summary [session]: send a saved session's summary again."""
    user = update.effective_user
    assert user is not None
    args = context.args or []
    summary = await context.services.reports.summary(user.id, args[0][:64] if args else None)
    if summary is None:
        respond(context, update, replies.NO_SUMMARY)
        return
    notifier = TelegramNotifier(context.bot, context.tz)
    try:
        # To the teacher privately, wherever they asked (a summary carries names).
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
    Command("report", report_command, Role.TEACHER),
    Command("summary", summary_command, Role.TEACHER),
)

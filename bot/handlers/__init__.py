"""All handlers, registered in one ordered block."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import gate
from bot.handlers import (
    admin,
    checkin,
    corrections,
    courses,
    delivery,
    errors,
    privacy,
    reports,
    sessions,
    start,
)

# Only new messages: an edited "/checkin" must not run the command again.
NEW = filters.UpdateType.MESSAGE


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler; the order matters within a group, earlier wins."""
    # Group -1 runs before all others for every update: rate limits (a flooding account is
    # ignored, the process is paced), then duplicate deliveries dropped and the sender's
    # profile refreshed, in one Redis round trip.
    application.add_handler(TypeHandler(Update, gate.admit_update), group=-1)

    application.add_handler(CommandHandler("start", start.start_command, filters=NEW))
    application.add_handler(CommandHandler("help", start.help_command, filters=NEW))
    application.add_handler(CommandHandler("register", courses.register_command, filters=NEW))
    application.add_handler(
        CommandHandler("start_session", sessions.start_session_command, filters=NEW)
    )
    application.add_handler(
        CommandHandler("end_session", sessions.end_session_command, filters=NEW)
    )
    application.add_handler(CommandHandler("extend", sessions.extend_command, filters=NEW))
    application.add_handler(CommandHandler("checkin", checkin.checkin_command, filters=NEW))
    application.add_handler(CommandHandler("join", courses.join_command, filters=NEW))
    application.add_handler(CommandHandler("new_course", courses.new_course_command, filters=NEW))
    application.add_handler(CommandHandler("courses", courses.courses_command, filters=NEW))
    application.add_handler(
        CommandHandler("course_settings", courses.course_settings_command, filters=NEW)
    )
    application.add_handler(CommandHandler("mark", corrections.mark_command, filters=NEW))
    application.add_handler(CommandHandler("report", reports.report_command, filters=NEW))
    application.add_handler(CommandHandler("summary", reports.summary_command, filters=NEW))
    application.add_handler(CommandHandler("history", reports.history_command, filters=NEW))
    application.add_handler(CommandHandler("add_teacher", admin.add_teacher_command, filters=NEW))
    application.add_handler(
        CommandHandler("remove_teacher", admin.remove_teacher_command, filters=NEW)
    )
    application.add_handler(CommandHandler("teachers", admin.teachers_command, filters=NEW))
    application.add_handler(CommandHandler("privacy", privacy.privacy_command, filters=NEW))
    application.add_handler(CommandHandler("mydata", privacy.mydata_command, filters=NEW))
    application.add_handler(CommandHandler("forgetme", privacy.forgetme_command, filters=NEW))

    # Buttons. Each pattern names one button kind; its handler validates the data again.
    application.add_handler(CallbackQueryHandler(sessions.choose_course_button, pattern=r"^ss:"))
    application.add_handler(CallbackQueryHandler(sessions.course_page_button, pattern=r"^sp:"))
    application.add_handler(CallbackQueryHandler(privacy.forget_button, pattern=r"^fg:(yes|no)$"))
    application.add_handler(CallbackQueryHandler(sessions.card_button, pattern=r"^cd:"))

    # Plain text in a private chat: the answer to "/checkin" alone, or a hint.
    application.add_handler(
        MessageHandler(
            NEW & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            checkin.plain_text_message,
        )
    )
    # Plain text in a group replying to the bot (privacy mode delivers only those): a code
    # typed as an answer to the group card is a check-in; anything else is left alone.
    application.add_handler(
        MessageHandler(
            NEW & filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & filters.REPLY,
            checkin.group_reply_message,
        )
    )
    # A shared location: the classroom's or a student's, for a location-checked session.
    application.add_handler(
        MessageHandler(NEW & filters.ChatType.PRIVATE & filters.LOCATION, checkin.location_message)
    )
    # Anything that looks like a command and was not handled above (in a group, other bots'
    # commands are not ours to answer).
    application.add_handler(
        MessageHandler(NEW & filters.ChatType.PRIVATE & filters.COMMAND, errors.unknown_command)
    )
    # A button we do not (or no longer) know, e.g. forged data: answer so the client stops.
    application.add_handler(CallbackQueryHandler(errors.unknown_button))
    # The user blocked or unblocked the bot in their private chat.
    application.add_handler(
        ChatMemberHandler(delivery.my_chat_member_update, ChatMemberHandler.MY_CHAT_MEMBER)
    )

    # Group 1 runs after the update's own handler: someone the bot could not reach wrote to
    # it, so they are reachable again, and a teacher gets the summaries they missed.
    application.add_handler(TypeHandler(Update, delivery.welcome_back), group=1)

    application.add_error_handler(errors.error_handler)

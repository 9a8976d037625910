"""All handlers, registered in one ordered block."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import gate
from bot.commands import NEW, Command, Registry
from bot.context import AttnApplication
from bot.handlers import (
    admin,
    api_tokens,
    cancel,
    checkin,
    corrections,
    courses,
    delivery,
    errors,
    excuses,
    grading,
    lifecycle,
    privacy,
    reports,
    roster,
    sessions,
    settings,
    staff,
    start,
    timetable,
)

# Every command: each handler module declares its own at its end. Menus and /help list them
# by role (Role's order), in this order within a role.
COMMANDS: tuple[Command, ...] = (
    *checkin.COMMANDS,
    *sessions.COMMANDS,
    *courses.COMMANDS,
    *timetable.COMMANDS,
    *start.COMMANDS,
    *corrections.COMMANDS,
    *reports.COMMANDS,
    *grading.COMMANDS,
    *admin.COMMANDS,
    *lifecycle.COMMANDS,
    *excuses.COMMANDS,
    *privacy.COMMANDS,
    *settings.COMMANDS,
    *staff.COMMANDS,
    *api_tokens.COMMANDS,
    *cancel.COMMANDS,
)
REGISTRY = Registry(COMMANDS)


def register_handlers(application: AttnApplication) -> None:
    """Add every handler; the order matters within a group, earlier wins."""
    # Group -1 runs before all others for every update: rate limits (a flooding account is
    # ignored, the process is paced), then duplicate deliveries dropped and the sender's
    # profile refreshed, in one Redis round trip.
    application.add_handler(TypeHandler(Update, gate.admit_update), group=-1)

    # Commands, each declared once in its module (see bot/commands.py).
    REGISTRY.add_handlers(application)

    # Buttons. Each pattern names one button kind; its handler validates the data again.
    application.add_handler(CallbackQueryHandler(sessions.choose_course_button, pattern=r"^ss:"))
    application.add_handler(CallbackQueryHandler(sessions.course_page_button, pattern=r"^sp:"))
    application.add_handler(CallbackQueryHandler(privacy.forget_button, pattern=r"^fg:(yes|no)$"))
    application.add_handler(CallbackQueryHandler(lifecycle.leave_button, pattern=r"^lv:"))
    application.add_handler(CallbackQueryHandler(sessions.card_button, pattern=r"^cd:"))
    application.add_handler(CallbackQueryHandler(settings.settings_button, pattern=r"^st:"))
    # The choosers of /report, /course_settings, /summary and /mark (bot/choosers.py).
    application.add_handler(CallbackQueryHandler(reports.report_button, pattern=r"^rp:"))
    application.add_handler(CallbackQueryHandler(reports.summary_button, pattern=r"^sm:"))
    application.add_handler(CallbackQueryHandler(courses.course_settings_button, pattern=r"^cs:"))
    application.add_handler(CallbackQueryHandler(corrections.mark_button, pattern=r"^mk:"))
    application.add_handler(CallbackQueryHandler(staff.staff_button, pattern=r"^sf:"))
    application.add_handler(CallbackQueryHandler(api_tokens.api_tokens_button, pattern=r"^ak:"))
    application.add_handler(CallbackQueryHandler(api_tokens.webhook_button, pattern=r"^wh:"))
    # /excuse's steps (course, session) and the teacher's Approve / Decline.
    application.add_handler(CallbackQueryHandler(excuses.excuse_button, pattern=r"^ex:"))
    application.add_handler(CallbackQueryHandler(excuses.decision_button, pattern=r"^xd:"))
    application.add_handler(CallbackQueryHandler(grading.grading_button, pattern=r"^gr:"))
    application.add_handler(CallbackQueryHandler(timetable.timetable_button, pattern=r"^tt:"))
    # A timetable file: a document whose caption is /timetable [course] (private chats).
    application.add_handler(
        MessageHandler(
            NEW
            & filters.ChatType.PRIVATE
            & filters.Document.ALL
            & filters.CaptionRegex(r"^/timetable(@\w+)?(\s|$)"),
            timetable.timetable_file,
        )
    )
    # A roster file's course; Approve / Decline under a claim (bot/handlers/roster.py).
    application.add_handler(CallbackQueryHandler(roster.roster_course_button, pattern=r"^ri:"))
    application.add_handler(CallbackQueryHandler(roster.claim_decision_button, pattern=r"^rq:"))

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
    # A file in a private chat: the PDF of a pending /excuse, else a teacher's roster.
    application.add_handler(
        MessageHandler(
            NEW & filters.ChatType.PRIVATE & filters.Document.ALL, roster.document_message
        )
    )
    # A shared location: the classroom's or a student's, for a location-checked session.
    application.add_handler(
        MessageHandler(NEW & filters.ChatType.PRIVATE & filters.LOCATION, checkin.location_message)
    )
    # A photo in a private chat: the document of an excuse (its caption the reason); a file
    # (a PDF) is taken by the roster's document handler above, which asks excuses first.
    application.add_handler(
        MessageHandler(NEW & filters.ChatType.PRIVATE & filters.PHOTO, excuses.photo_message)
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

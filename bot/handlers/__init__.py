"""All handlers, registered in one ordered block."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, TypeHandler, filters

from bot.handlers import checkin, common, errors, sessions

# Only new messages: an edited "/checkin" must not run the command again.
NEW = filters.UpdateType.MESSAGE


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler; the order matters within a group, earlier wins."""
    # Group -1 runs before all others for every update: remember who we talk to.
    application.add_handler(TypeHandler(Update, common.remember_user), group=-1)

    application.add_handler(CommandHandler("start", common.start_command, filters=NEW))
    application.add_handler(CommandHandler("help", common.help_command, filters=NEW))
    application.add_handler(CommandHandler("register", common.register_command, filters=NEW))
    application.add_handler(
        CommandHandler("start_session", sessions.start_session_command, filters=NEW)
    )
    application.add_handler(
        CommandHandler("end_session", sessions.end_session_command, filters=NEW)
    )
    application.add_handler(CommandHandler("checkin", checkin.checkin_command, filters=NEW))

    # Plain text in a private chat: the answer to "/checkin" alone, or a hint.
    application.add_handler(
        MessageHandler(
            NEW & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            checkin.plain_text_message,
        )
    )
    # Anything that looks like a command and was not handled above.
    application.add_handler(MessageHandler(NEW & filters.COMMAND, common.unknown_command))

    application.add_error_handler(errors.error_handler)

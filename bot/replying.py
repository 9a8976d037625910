"""Reply plumbing: every handler answers through here, in the background and in order.

Handlers never wait for Telegram (or the flood limiter): a webhook request is answered as
soon as the work is done, and a burst of replies cannot hold up the next updates. A reply to
a command sent in a group goes to the sender's private chat (see bot/private.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from telegram import (
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.error import BadRequest

from bot.context import AttnContext, PTBData
from bot.private import deliver_privately, in_group
from services.models import UserProfile

PENDING_REPLIES_KEY = "pending_replies"

# What `reply_markup` of a sent message takes (PTB keeps its own alias private).
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


def profile_of(user: User) -> UserProfile:
    """The profile fields Telegram tells us about a user."""
    return UserProfile(
        user_id=user.id,
        first_name=user.first_name or "",
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


def message_of(update: Update) -> Message:
    """The message a command handler answers (command handlers only get messages)."""
    assert update.effective_message is not None
    return update.effective_message


async def reply_unread(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """`message.reply_text(text, reply_markup=...)` in a private chat, without building the
    `Message` Telegram answers with.

    Why: a confirmation's sent message is never read, and turning Telegram's answer into a
    `Message` (a hundred attributes set one by one) costs more CPU than the rest of the
    send; on the /checkin hot path it was a fifth of an update's work. The request is the
    one `reply_text` makes in a private chat (same parameters, the bot's defaults, its rate
    limiter and error mapping: `Bot._post` is what every PTB method sends through), which
    tests/bot/test_reply_unread.py checks against `reply_text` itself.
    """
    data: dict[str, object] = {
        "chat_id": message.chat_id,
        "text": text,
        "reply_markup": reply_markup,
        # What send_message leaves to the bot's Defaults (filled in by `_post`).
        "parse_mode": DEFAULT_NONE,
        "disable_notification": DEFAULT_NONE,
        "protect_content": DEFAULT_NONE,
        "link_preview_options": DEFAULT_NONE,
        "business_connection_id": message.business_connection_id,
        "message_thread_id": message.message_thread_id if message.is_topic_message else None,
    }
    await message.get_bot()._post("sendMessage", data)


def send_later(
    context: AttnContext, update: Update, reply: Awaitable[object]
) -> asyncio.Task[None]:
    """Send a reply in the background (tracked, so shutdown and tests can wait for it).

    Its errors reach the error handler like any other, with the update they answer.
    """
    pending: set[asyncio.Task[None]] = context.application.bot_data.setdefault(
        PENDING_REPLIES_KEY, set()
    )

    async def guarded() -> None:
        try:
            await reply
        except Exception as exc:  # handed to the one error handler
            await context.application.process_error(update, exc)

    task = asyncio.get_running_loop().create_task(guarded())
    pending.add(task)
    task.add_done_callback(pending.discard)
    return task


def respond(
    context: AttnContext, update: Update, text: str, *, reply_markup: ReplyMarkup | None = None
) -> None:
    """Reply to the update's message in the background, after its earlier replies."""
    message = message_of(update)
    if in_group(update):
        # Never into a group: the sender's private chat (or one line pointing there).
        respond_with(
            context,
            update,
            lambda: deliver_privately(
                context,
                update,
                lambda chat_id: context.bot.send_message(chat_id, text, reply_markup=reply_markup),
            ),
        )
        return
    respond_with(context, update, lambda: message.reply_text(text, reply_markup=reply_markup))


def respond_to_sender(
    context: AttnContext, update: Update, send: Callable[[int], Awaitable[object]]
) -> None:
    """Send something (a file, a photo) to the sender: `send(chat id)` runs in the
    background with this chat's id, or with the sender's private chat when the command came
    from a group (nothing personal goes into a group)."""
    chat = update.effective_chat
    assert chat is not None
    if in_group(update):
        respond_with(context, update, lambda: deliver_privately(context, update, send))
        return
    respond_with(context, update, lambda: send(chat.id))


def respond_with(
    context: AttnContext, update: Update, send: Callable[[], Awaitable[object]]
) -> None:
    """Run `send` (a message, a file) in the background, after the update's earlier replies."""
    previous = context.last_reply

    async def in_order() -> None:
        if previous is not None:
            with contextlib.suppress(Exception):  # its own error was reported already
                await previous
        await send()

    context.last_reply = send_later(context, update, in_order())


async def wait_for_replies(bot_data: PTBData) -> None:
    """Let every background reply finish (graceful shutdown, tests)."""
    pending: set[asyncio.Task[None]] = bot_data.get(PENDING_REPLIES_KEY, set())
    while pending:
        await asyncio.gather(*list(pending), return_exceptions=True)


async def edit_in_place(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """A chooser's button: answer it, then put the next step into its own message (one
    message edited in place; a double tap that would change nothing is no error). False when
    the message showed this already (a double tap): what follows a step is not sent again."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
        return False
    return True

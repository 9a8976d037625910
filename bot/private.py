"""Personal answers go to the sender's private chat, never into a group.

A group is read by everyone in it (absent friends included), so nothing the bot writes there
may carry a check-in code, a student number or anyone's attendance. Every answer to a command
sent in a group therefore leaves through `deliver_privately`: to the sender's private chat, or,
when Telegram refuses that (the sender never opened the bot, or blocked it), as one neutral
line in the group with a link that opens the bot. Nothing else is ever written there on a
user's behalf.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from telegram import Chat, LinkPreviewOptions, ReplyParameters, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import replies
from bot.context import AttnContext
from services.errors import StorageUnavailable

log = logging.getLogger(__name__)

# `/start p` (the link in the group's one-liner): the private chat is open now.
OPEN_PAYLOAD = "p"


def in_group(update: Update) -> bool:
    """True when the update comes from a group, supergroup or channel, not a private chat."""
    chat = update.effective_chat
    return chat is not None and chat.type != Chat.PRIVATE


def unreachable(exc: TelegramError) -> bool:
    """Telegram will not deliver to this user privately: they never started the bot, or
    blocked it (403), or Telegram does not know the chat at all (400 "chat not found")."""
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and "chat not found" in str(exc).lower()


def open_bot_link(bot_username: str) -> str:
    """A deep link that opens the private chat with the bot (Telegram shows Start)."""
    return f"https://t.me/{bot_username}?start={OPEN_PAYLOAD}"


async def point_group_to_private(
    context: AttnContext, update: Update, per_group_window: bool = True
) -> None:
    """One line in the group, at most once per update, "I answer privately: open @bot once".

    With `per_group_window` also at most one per group in a short while, whoever asks: the
    line is for everyone who reads the group, and a class checking in from it must not flood
    it (Telegram allows 20 messages a minute per group; the card waits behind them). A
    teacher whose session could not start passes False: that answer must not be swallowed.
    """
    chat, message = update.effective_chat, update.effective_message
    if chat is None or chat.type == Chat.PRIVATE or context.pointed_to_private:
        return
    context.pointed_to_private = True
    if per_group_window:
        try:
            if not await context.services.users.may_point_group(chat.id):
                return
        except StorageUnavailable:
            log.warning("group pointer window unknown (storage away): pointing anyway")
    reply_to = (
        ReplyParameters(message.message_id, allow_sending_without_reply=True)
        if message is not None and update.callback_query is None
        else None
    )
    await context.bot.send_message(
        chat.id,
        replies.open_bot_first(context.bot.username, OPEN_PAYLOAD),
        reply_parameters=reply_to,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def deliver_privately(
    context: AttnContext, update: Update, send: Callable[[int], Awaitable[object]]
) -> bool:
    """Run `send(private chat id)`; if Telegram refuses the private chat, point the group
    to the bot instead (never the content). False when it could not be delivered."""
    user = update.effective_user
    assert user is not None
    try:
        await send(user.id)
    except TelegramError as exc:
        if not unreachable(exc) or not in_group(update):
            raise
        await point_group_to_private(context, update)
        return False
    return True


async def hide_message(update: Update) -> None:
    """Delete the sender's group message that carries something personal (a code, a student
    number), where the bot may; best effort (without admin rights Telegram refuses)."""
    message = update.effective_message
    if message is None or not in_group(update):
        return
    with contextlib.suppress(TelegramError):
        await message.delete()

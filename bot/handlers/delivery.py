"""Who the bot can reach: blocks and unblocks, and the summaries a teacher missed."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from bot import replies
from bot.context import AttnContext
from bot.metrics import metrics_of
from bot.notifier import TelegramNotifier, classified
from bot.replying import respond_with
from services.delivery import DeliveryFailed
from services.errors import StorageUnavailable

log = logging.getLogger(__name__)


async def my_chat_member_update(update: Update, context: AttnContext) -> None:
    """A user blocked (`kicked`) or unblocked (`member`) the bot in their private chat.

    Blocked users get nothing more queued (their queued messages end at the next delivery
    run instead of failing one by one).
    """
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    if status == ChatMemberStatus.BANNED:
        await context.services.delivery.recipient_blocked(change.chat.id)
    elif status == ChatMemberStatus.MEMBER:
        await context.services.delivery.recipient_unblocked(change.chat.id)


async def welcome_back(update: Update, context: AttnContext) -> None:
    """After a private message or button press has been handled: a user the bot could not
    reach is reachable again, and a teacher gets the summaries that could not be delivered
    (each once, marked delivered when Telegram took it)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE:
        return
    if update.message is None and update.callback_query is None:
        return
    delivery = context.services.delivery
    if not delivery.awaits(user.id):
        return
    try:
        summaries = await delivery.recipient_back(user.id)
    except StorageUnavailable:
        log.warning("missed summaries of %s postponed: PostgreSQL unavailable", user.id)
        return
    if not summaries:
        return
    notifier = TelegramNotifier(context.bot, context.tz)
    metrics = metrics_of(context.application)

    async def show() -> None:
        try:
            async with classified():
                await context.bot.send_message(user.id, replies.missed_summaries(len(summaries)))
        except DeliveryFailed as exc:
            for summary in summaries:
                await delivery.summary_not_shown(summary, exc)
            return
        for summary in summaries:
            try:
                progress = await delivery.summary_progress(summary.session_id)
                await notifier.send_summary(summary, progress)
            except DeliveryFailed as exc:
                await delivery.summary_not_shown(summary, exc)
                continue
            await delivery.summary_shown(summary.session_id)
            metrics.summaries_shown_later.inc()

    respond_with(context, update, show)

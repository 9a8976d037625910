"""What every update goes through first: rate limits, the update's claim, bookkeeping.

One handler in group -1 runs before all others: a flooding account is ignored and the
process paced, then a duplicate delivery is dropped and the sender's profile refreshed in
one Redis round trip, and a user writing privately gets their role's menu.
"""

from __future__ import annotations

import logging

from telegram import Update, User
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import replies
from bot.commands import commands_of
from bot.context import AttnContext
from bot.menus import MenuChecks, give_menu_if_due
from bot.metrics import metrics_of
from bot.ratelimit import UpdateLimiter
from bot.replying import profile_of, send_later
from bot.text import pick_language, use_language
from services.errors import StorageUnavailable

log = logging.getLogger(__name__)

LIMITER_KEY = "update_limiter"
MENU_CHECKS_KEY = "menu_checks"


async def admit_update(update: Update, context: AttnContext) -> None:
    """The one handler that runs first for every update: its language, rate limits, then
    bookkeeping."""
    speak_to(update.effective_user)
    await throttle(update, context)
    await claim_update(update, context)
    give_menu_on_first_message(update, context)


def speak_to(user: User | None) -> None:
    """Answer this update in its sender's language: for the whole update and what it starts
    (each update runs in its own task, so the context variable is its own)."""
    use_language(pick_language(None, user.language_code if user else None))


async def throttle(update: Update, context: AttnContext) -> None:
    """Before anything else: pace the process, and drop a flooding user's extra updates."""
    limiter: UpdateLimiter = context.application.bot_data[LIMITER_KEY]
    await limiter.pace()
    user = update.effective_user
    if user is None or limiter.allow_user(user.id):
        return
    if limiter.should_notify(user.id) and update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, replies.SLOW_DOWN)
    raise ApplicationHandlerStop


async def claim_update(update: Update, context: AttnContext) -> None:
    """Drop a duplicate delivery, keep the sender's profile fresh.

    Never blocks the update when storage is down (the handler then answers that it is).
    """
    metrics_of(context.application).update()
    user = update.effective_user
    if user is None or user.is_bot:
        return
    try:
        context.visit = await context.services.users.seen(profile_of(user), update.update_id)
    except StorageUnavailable:
        log.warning("could not refresh profile of user %s: storage unavailable", user.id)
        return
    if context.visit.duplicate:
        log.info("update %s was already handled; dropped", update.update_id)
        raise ApplicationHandlerStop
    if context.visit.language:  # their own choice, read in the same round trip
        use_language(pick_language(context.visit.language, user.language_code))


def give_menu_on_first_message(update: Update, context: AttnContext) -> None:
    """A user writing privately has a chat to scope a menu to: give them their role's menu.

    Why here: at start-up Telegram answers "chat not found" for every teacher who has not
    written to the bot yet, so their menu can only be set once they do. In the background:
    no reply waits for it.
    """
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot or chat is None or chat.type != ChatType.PRIVATE:
        return
    checks: MenuChecks = context.application.bot_data.setdefault(MENU_CHECKS_KEY, MenuChecks())
    if not checks.first_time(user.id):
        return
    services = context.services

    async def give() -> None:
        try:
            await give_menu_if_due(
                context.bot,
                commands_of(context.application),
                services.access,
                services.users,
                user.id,
            )
        except StorageUnavailable:
            checks.again(user.id)
            log.info("menu of user %s postponed: storage unavailable", user.id)

    send_later(context, update, give())

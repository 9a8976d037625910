"""What every update goes through first: rate limits, the update's claim, bookkeeping.

One handler in group -1 runs before all others: a flooding account is ignored and the
process paced, then a duplicate delivery is dropped and the sender's profile refreshed in
one Redis round trip, and a user writing privately gets their role's menu.
"""

from __future__ import annotations

import logging

from telegram import Update, User
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, CommandHandler

from bot import replies
from bot.commands import commands_of
from bot.context import Arrival, AttnContext
from bot.menus import MenuChecks, give_menu_if_due
from bot.metrics import metrics_of
from bot.ratelimit import UpdateLimiter
from bot.replying import profile_of, send_later
from bot.text import pick_language, use_language
from services.codes import normalize_code
from services.errors import InvalidArgument, StorageUnavailable
from services.ports import Visit

log = logging.getLogger(__name__)

LIMITER_KEY = "update_limiter"
MENU_CHECKS_KEY = "menu_checks"


async def admit_update(update: Update, context: AttnContext) -> None:
    """The one handler that runs first for every update: its language, rate limits, then
    bookkeeping."""
    speak_to(update.effective_user)
    await throttle(update, context)
    await claim_update(update, context)


def speak_to(user: User | None) -> None:
    """Answer this update in its sender's language: for the whole update and what it starts
    (each update runs in its own task, so the context variable is its own)."""
    use_language(pick_language(None, user.language_code if user else None))


async def throttle(update: Update, context: AttnContext) -> None:
    """Before anything else: pace the process, and drop a flooding user's extra updates."""
    limiter: UpdateLimiter = context.application.bot_data[LIMITER_KEY]
    if not limiter.pass_now():
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
    if checks_in_by_code(update, context):
        # The check-in takes the visit along: one Redis step for both (bot/checkins.py).
        context.arrival = Arrival(profile_of(user), update.update_id)
        return
    try:
        visit = await context.services.users.seen(profile_of(user), update.update_id)
    except StorageUnavailable:
        log.warning("could not refresh profile of user %s: storage unavailable", user.id)
        give_menu_on_first_message(update, context)
        return
    take_visit(update, context, visit)


def take_visit(update: Update, context: AttnContext, visit: Visit) -> None:
    """Keep the update's visit; drop a duplicate delivery; answer in the chosen language;
    give the user their menu if this is their first message to this process."""
    context.visit = visit
    if visit.duplicate:
        log.info("update %s was already handled; dropped", update.update_id)
        raise ApplicationHandlerStop
    user = update.effective_user
    if visit.language and user is not None:  # their own choice, read in the same round trip
        use_language(pick_language(visit.language, user.language_code))
    give_menu_on_first_message(update, context)


def checks_in_by_code(update: Update, context: AttnContext) -> bool:
    """True for "/checkin CODE": the update the /checkin handler will take (the first
    handler of its group, so the one that runs when it matches) with a code to judge.
    Other ways to check in (a QR link, a reply to the card, the answer to "/checkin" alone)
    take the usual two steps: they are rarer, and their handlers do more first."""
    handlers = context.application.handlers.get(0, [])
    checkin = handlers[0] if handlers else None
    if not isinstance(checkin, CommandHandler) or "checkin" not in checkin.commands:
        return False
    match = checkin.check_update(update)
    if not isinstance(match, tuple) or not match[0]:
        return False
    try:  # text that cannot be a code is refused as always, after the usual visit
        normalize_code("".join(match[0]))
    except InvalidArgument:
        return False
    return True


def give_menu_on_first_message(update: Update, context: AttnContext) -> None:
    """A user writing privately has a chat to scope a menu to: give them their role's menu.

    Why here: at start-up Telegram answers "chat not found" for every teacher who has not
    written to the bot yet, so their menu can only be set once they do. In the background:
    no reply waits for it.
    """
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot or chat is None or chat.type != ChatType.PRIVATE:
        return
    services = context.services
    remembered = context.visit.menu if context.visit is not None else None
    if remembered == "" and not services.access.roles.is_configured(user.id):
        # Most messages: a student with no menu of their own, known from the visit.
        # `give_menu_if_due` would find nothing due without a call: no task for it.
        return
    checks: MenuChecks = context.application.bot_data.setdefault(MENU_CHECKS_KEY, MenuChecks())
    if not checks.first_time(user.id):
        return

    async def give() -> None:
        try:
            await give_menu_if_due(
                context.bot,
                commands_of(context.application),
                services.access,
                services.users,
                user.id,
                remembered,
            )
        except StorageUnavailable:
            checks.again(user.id)
            log.info("menu of user %s postponed: storage unavailable", user.id)

    send_later(context, update, give())

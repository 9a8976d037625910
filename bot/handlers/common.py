"""Welcome, help, registration, and what every update does first."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Message, Update, User
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import replies
from bot.commands import Command, Role, commands_of, welcome
from bot.context import AttnContext
from bot.metrics import metrics_of
from bot.private import OPEN_PAYLOAD, deliver_privately, hide_message, in_group
from bot.ratelimit import UpdateLimiter
from services.courses import INVITE_PREFIX
from services.errors import StorageUnavailable
from services.models import UserProfile
from services.qr import decode_checkin_payload, decode_group_payload
from services.roles import INVITE_PREFIX as TEACHER_INVITE_PREFIX

log = logging.getLogger(__name__)


def profile_of(user: User) -> UserProfile:
    """The profile fields Telegram tells us about a user."""
    return UserProfile(
        user_id=user.id,
        first_name=user.first_name or "",
        last_name=user.last_name,
        username=user.username,
    )


def message_of(update: Update) -> Message:
    """The message a command handler answers (command handlers only get messages)."""
    assert update.effective_message is not None
    return update.effective_message


LIMITER_KEY = "update_limiter"
PENDING_REPLIES_KEY = "pending_replies"


def send_later(
    context: AttnContext, update: Update, reply: Coroutine[Any, Any, Any]
) -> asyncio.Task[None]:
    """Send a reply in the background (tracked, so shutdown and tests can wait for it).

    Its errors reach the error handler like any other, with the update they answer.
    """
    pending: set[asyncio.Task[Any]] = context.application.bot_data.setdefault(
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


def respond(context: AttnContext, update: Update, text: str, **kwargs: Any) -> None:
    """Reply to the update's message in the background, after its earlier replies.

    Handlers never wait for Telegram (or the flood limiter): a webhook request is answered
    as soon as the work is done, and a burst of replies cannot hold up the next updates.
    """
    message = message_of(update)
    if in_group(update):
        # Never into a group: the sender's private chat (or one line pointing there).
        respond_with(
            context,
            update,
            lambda: deliver_privately(
                context, update, lambda chat_id: context.bot.send_message(chat_id, text, **kwargs)
            ),
        )
        return
    respond_with(context, update, lambda: message.reply_text(text, **kwargs))


def respond_to_sender(
    context: AttnContext, update: Update, send: Callable[[int], Awaitable[Any]]
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


def respond_with(context: AttnContext, update: Update, send: Callable[[], Awaitable[Any]]) -> None:
    """Run `send` (a message, a file) in the background, after the update's earlier replies."""
    previous = context.last_reply

    async def in_order() -> None:
        if previous is not None:
            with contextlib.suppress(Exception):  # its own error was reported already
                await previous
        await send()

    context.last_reply = send_later(context, update, in_order())


async def wait_for_replies(bot_data: dict[Any, Any]) -> None:
    """Let every background reply finish (graceful shutdown, tests)."""
    pending: set[asyncio.Task[Any]] = bot_data.get(PENDING_REPLIES_KEY, set())
    while pending:
        await asyncio.gather(*list(pending), return_exceptions=True)


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


async def admit_update(update: Update, context: AttnContext) -> None:
    """The one handler that runs first for every update: rate limits, then bookkeeping."""
    await throttle(update, context)
    await remember_user(update, context)
    give_menu_on_first_message(update, context)


MENU_CHECKS_KEY = "menu_checks"


def give_menu_on_first_message(update: Update, context: AttnContext) -> None:
    """A user writing privately has a chat to scope a menu to: give them their role's menu.

    Why here: at start-up Telegram answers "chat not found" for every teacher who has not
    written to the bot yet, so their menu can only be set once they do. In the background:
    no reply waits for it.
    """
    from bot.menus import MenuChecks, give_menu_if_due

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
                services.roles,
                services.users,
                user.id,
            )
        except StorageUnavailable:
            checks.again(user.id)
            log.info("menu of user %s postponed: storage unavailable", user.id)

    send_later(context, update, give())


async def remember_user(update: Update, context: AttnContext) -> None:
    """First for every update: drop a duplicate delivery, keep the sender's profile fresh.

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


async def start_command(update: Update, context: AttnContext) -> None:
    """/start, or a deep link: `/start join_<invite token>` enrols in a course."""
    user = update.effective_user
    assert user is not None
    payload = (context.args or [""])[0]
    if payload == OPEN_PAYLOAD:  # from a group's "open @bot once" link
        respond(context, update, replies.PRIVATE_CHAT_OPENED)
        return
    from_group = decode_group_payload(payload)
    if from_group is not None:
        from bot.handlers.checkin import CHECKIN_ACTION

        await context.services.users.expect_reply(user.id, CHECKIN_ACTION)
        respond(context, update, replies.ASK_FOR_CODE)
        return
    scanned = decode_checkin_payload(payload)
    if scanned is not None:
        from bot.handlers.checkin import reply_check_in

        session_id, code = scanned
        await reply_check_in(update, context, code, session_id)
        return
    if payload.startswith(TEACHER_INVITE_PREFIX):
        from bot.handlers.admin import refresh_commands_of

        token = payload.removeprefix(TEACHER_INVITE_PREFIX)
        if await context.services.roles.accept_invite(user.id, token):
            respond(context, update, replies.TEACHER_WELCOME)
            await refresh_commands_of(context, user.id)
        else:
            respond(context, update, replies.BAD_TEACHER_INVITE)
        return
    if payload.startswith(INVITE_PREFIX):
        from bot.handlers.courses import reply_enrolment

        token = payload.removeprefix(INVITE_PREFIX)
        enrolment = await context.services.courses.join_by_invite(profile_of(user), token)
        await reply_enrolment(update, context, enrolment)
        return
    is_teacher = await context.services.roles.is_teacher(user.id)
    commands = commands_of(context.application)
    respond(context, update, welcome(commands, user.first_name or "", is_teacher=is_teacher))


async def help_command(update: Update, context: AttnContext) -> None:
    user = update.effective_user
    assert user is not None
    roles = context.services.roles
    is_teacher, is_admin = await roles.is_teacher(user.id), await roles.is_admin(user.id)
    commands = commands_of(context.application)
    respond(context, update, commands.help_text(is_teacher=is_teacher, is_admin=is_admin))


async def register_command(update: Update, context: AttnContext) -> None:
    user = update.effective_user
    assert user is not None
    args = list(context.args or [])
    if not args:
        respond(context, update, replies.REGISTER_USAGE)
        return
    if in_group(update):  # a name and a student number: keep them out of the group
        send_later(context, update, hide_message(update))
    await register_from_words(update, context, args)


async def register_from_words(update: Update, context: AttnContext, words: list[str]) -> None:
    """Register "<full name> [student number]": a last word with a digit is the number."""
    user = update.effective_user
    assert user is not None
    args = list(words)
    number = args.pop() if len(args) > 1 and any(ch.isdigit() for ch in args[-1]) else None
    profile = await context.services.users.register(profile_of(user), " ".join(args), number)
    assert profile.full_name is not None
    respond(context, update, replies.registered(profile.full_name, profile.student_number))


async def unknown_command(update: Update, context: AttnContext) -> None:
    respond(context, update, replies.UNKNOWN_COMMAND)


async def unknown_button(update: Update, context: AttnContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(replies.BAD_BUTTON, show_alert=True)


COMMANDS: tuple[Command, ...] = (
    Command("help", help_command, Role.EVERYONE),
    Command("start", start_command, Role.EVERYONE),
    Command("register", register_command, Role.STUDENT),
)

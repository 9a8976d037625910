"""/api_tokens: a course's owner (or an admin) makes read or read-and-write tokens of the REST
API, sees them (label, scope, made, last used) and revokes them, with buttons under the list.
A new token is shown once, in a spoiler; the services check who may."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import BadRequest

from bot import choosers
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.course_chooser import chosen_course, course_page, own_button, show_again
from bot.replies import api as replies
from bot.replying import respond
from bot.text import Text, t
from services.api_tokens import TooManyTokens


async def api_tokens_command(update: Update, context: AttnContext) -> None:
    """/api_tokens [course]: the course's tokens with buttons; with several courses and none
    named, the owner picks one. An admin may name any course by its join code."""
    user = update.effective_user
    assert user is not None
    tokens = context.services.api_tokens

    async def none() -> Text:
        admin = await context.services.roles.is_admin(user.id)
        return t("api.admin_hint" if admin else "api.no_courses")

    course = await chosen_course(
        update, context, tokens, prefix="ak", which=t("api.which"), none=none
    )
    if course is None:
        return
    listing = await tokens.listing(user.id, course.id)
    markup = choosers.api_token_buttons(course.id, listing.tokens)
    respond(context, update, replies.token_listing(listing, context.tz), reply_markup=markup)


async def api_tokens_button(update: Update, context: AttnContext) -> None:
    """/api_tokens' buttons: a course picked, a page of courses, a new token, a revocation.
    The course is checked again on the server each time (forged data gets the refusal)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = await own_button(update, "ak")
    if parsed is None:
        return
    kind, values = parsed
    tokens = context.services.api_tokens
    if kind == "ak:l":
        await course_page(update, tokens, prefix="ak", which=t("api.which"), page=int(values[0]))
        return
    course_id = int(values[0])
    if kind == "ak:n":
        try:
            new = await tokens.create(user.id, course_id, choosers.SCOPE_LETTERS[values[1]])
        except TooManyTokens as exc:
            await query.answer(str(t("api.too_many", count=exc.limit, html=False)), show_alert=True)
            return
        await query.answer()
        respond(context, update, replies.token_created(new))
    elif kind == "ak:x":
        revoked = await tokens.revoke(user.id, course_id, int(values[1]))
        if revoked is None:
            await query.answer(str(t("api.already_revoked", html=False)), show_alert=True)
        else:
            await query.answer(str(t("api.revoked", label=revoked.label, html=False)))
    listing = await tokens.listing(user.id, course_id)  # a forged course is refused here
    if kind == "ak:c":
        await query.answer()
    markup = choosers.api_token_buttons(course_id, listing.tokens)
    await show_again(query, replies.token_listing(listing, context.tz), markup)


def _is_url(word: str) -> bool:
    return "://" in word or word.lower().startswith("http")


async def webhook_command(update: Update, context: AttnContext) -> None:
    """/webhook [course] [https://… | off]: the course's outgoing webhook (issue 16). With a URL it
    is set (a new signing secret, shown once); with "off" removed; alone, shown with its
    deliveries and the buttons to test or remove it. Owner or admin, as /api_tokens."""
    user = update.effective_user
    assert user is not None
    hooks = context.services.webhooks
    words = list(context.args or [])
    last = words[-1] if words else ""
    url = words.pop() if words and _is_url(last) else None
    off = url is None and last.lower() == "off"
    if off:
        words.pop()
    course = await hooks.course(user.id, words)
    if url is not None:
        new = await hooks.set_url(user.id, course.id, url)
        respond(context, update, replies.webhook_set(new))
        return
    if off:
        removed = await hooks.clear(user.id, course.id)
        key = "webhook.removed" if removed else "webhook.none_to_remove"
        respond(context, update, t(key, name=course.name))
        return
    status = await hooks.status(user.id, course.id)
    markup = choosers.webhook_buttons(course.id) if status is not None else None
    respond(context, update, replies.webhook_status(course, status), reply_markup=markup)


async def webhook_button(update: Update, context: AttnContext) -> None:
    """/webhook's buttons: send the test event, remove the webhook (checked again here)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = await own_button(update, "wh")
    if parsed is None:
        return
    kind, values = parsed
    hooks = context.services.webhooks
    course_id = int(values[0])
    if kind == "wh:t":
        await query.answer()
        outcome = await hooks.test(user.id, course_id)
        respond(context, update, replies.webhook_tested(outcome))
        return
    removed = await hooks.clear(user.id, course_id)
    key = "webhook.button_removed" if removed else "webhook.already_removed"
    await query.answer(str(t(key, html=False)))
    if removed:
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(reply_markup=None)


COMMANDS: tuple[Command, ...] = (
    Command("api_tokens", api_tokens_command, Role.TEACHER),
    Command("webhook", webhook_command, Role.TEACHER),
)

"""The prompts a user may be answering: one enum, and how a location is asked for.

A prompt ("send me the code", "share your location", "what is your name") is remembered in
Redis until its answer arrives; its value is what is stored, so the values never change.
"""

from __future__ import annotations

from enum import StrEnum

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update

from bot import replies
from bot.context import AttnContext
from bot.text import Text


class PendingAction(StrEnum):
    """What the bot asked a user for and expects as their next message."""

    CHECKIN = "checkin"
    """The code, after "/checkin" alone or the group card's Check in link."""
    GEO_CHECKIN = "geo_checkin"
    """The student's location, with the code bound to the session meanwhile."""
    GEO_ANCHOR = "geo_anchor"
    """The classroom's location, from the teacher of a location-checked session."""
    REGISTER = "register"
    """The student's name (and number), after joining a course without one."""
    EXCUSE = "excuse"
    """The reason for an excuse request (text, or a photo or PDF with it as the caption);
    the payload is the session's id."""
    CLAIM = "claim"
    """The student number that claims a place on a course's imported roster (payload: the
    course id)."""


def location_keyboard() -> ReplyKeyboardMarkup:
    """Telegram's share-location button (it works in private chats only)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(replies.SHARE_LOCATION_BUTTON, request_location=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )


async def ask_for_location(
    update: Update, context: AttnContext, action: PendingAction, text: Text, payload: str = ""
) -> None:
    """Ask for a location with Telegram's share-location button, in the user's private chat;
    the answer is expected (and /cancel stops waiting for it)."""
    user = update.effective_user
    assert user is not None
    await context.services.users.expect_reply(user.id, action, payload)
    await context.bot.send_message(user.id, replies.prompt(text), reply_markup=location_keyboard())

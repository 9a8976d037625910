"""The course a management command acts on (/staff, /api_tokens): the one it names, the
user's only one, or a chooser of their courses with pages; and the pieces of its buttons'
handler every such command repeats (a button of its own, a page of courses, the list shown
again in place)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import choosers
from bot.context import AttnContext
from bot.replies import BAD_BUTTON
from bot.replying import edit_in_place, respond
from bot.text import Text
from services.course_admin import active
from services.models import Course


class CourseSource(Protocol):
    """A service that finds the courses a user may manage with it."""

    async def find_course(self, user_id: int, words: list[str]) -> Course: ...
    async def manageable_courses(self, user_id: int) -> list[Course]: ...


async def chosen_course(
    update: Update,
    context: AttnContext,
    source: CourseSource,
    *,
    prefix: str,
    which: Text,
    none: Callable[[], Awaitable[Text]],
) -> Course | None:
    """The course the command's words name, else the user's only active one. None when the
    user was answered instead: `none()` (no course to manage) or `which` with the chooser
    (buttons `<prefix>:c:<id>`, pages `<prefix>:l:<page>`)."""
    user = update.effective_user
    assert user is not None
    args = list(context.args or [])
    if args:
        return await source.find_course(user.id, args)
    courses = active(await source.manageable_courses(user.id))
    if not courses:
        respond(context, update, await none())
        return None
    if len(courses) > 1:
        respond(context, update, which, reply_markup=choosers.course_buttons(prefix, courses))
        return None
    return courses[0]


async def own_button(update: Update, prefix: str) -> tuple[str, list[str]] | None:
    """The pressed button's kind and values when it is one of `prefix`'s; else None, after
    telling the presser it is not understood."""
    query = update.callback_query
    assert query is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith(prefix + ":"):
        await query.answer(BAD_BUTTON, show_alert=True)
        return None
    return parsed


async def course_page(
    update: Update, source: CourseSource, *, prefix: str, which: Text, page: int
) -> None:
    """The chooser turned to `page`, in place."""
    user = update.effective_user
    assert user is not None
    courses = active(await source.manageable_courses(user.id))
    await edit_in_place(update, which, choosers.course_buttons(prefix, courses, page))


async def show_again(query: CallbackQuery, text: Text, markup: InlineKeyboardMarkup) -> None:
    """The list shown again in the message of the button (a double tap changes nothing)."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:  # a double tap: the list is shown already
        if "not modified" not in str(exc).lower():
            raise

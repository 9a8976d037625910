"""A check-in confirmation is sent without building the `Message` Telegram answers with
(`bot.replying.reply_unread`): the request must be exactly the one `reply_text` makes, with
the bot's defaults, and Telegram's refusals must raise the same errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import Defaults, ExtBot
from telegram.request import RequestData

from bot.replying import reply_unread
from tests.support.telegram import RecordingBotApi, message_update

BLOCKED = 666


class Api(RecordingBotApi):
    """Answers sendMessage like Telegram: the sent message, or 403 for a user who blocked."""

    def answer(
        self, api_method: str, params: dict[str, Any], request_data: RequestData | None
    ) -> tuple[int, bytes, str | None]:
        if api_method == "getMe":
            me = {"id": 1, "is_bot": True, "first_name": "ATTN", "username": "attn_bot"}
            return 200, json.dumps({"ok": True, "result": me}).encode(), None
        chat_id = int(params["chat_id"])
        if chat_id == BLOCKED:
            description = "Forbidden: bot was blocked by the user"
            body = {"ok": False, "error_code": 403, "description": description}
            return 403, json.dumps(body).encode(), description
        sent = {
            "message_id": 7,
            "date": 1,
            "chat": {"id": chat_id, "type": "private"},
            "text": params["text"],
        }
        return 200, json.dumps({"ok": True, "result": sent}).encode(), None


def _message(bot: ExtBot[None], user_id: int, **extra: Any) -> Message:
    data = message_update(user_id, "/checkin 123456")
    data["message"].update(extra)
    update = Update.de_json(data, bot)
    assert update.message is not None
    return update.message


@pytest.fixture
async def bot() -> ExtBot[None]:
    api = Api()
    bot: ExtBot[None] = ExtBot(
        "1:not-a-token",
        request=api,
        get_updates_request=api,
        defaults=Defaults(parse_mode=ParseMode.HTML),
    )
    await bot.initialize()
    return bot


def _sent(bot: ExtBot[None]) -> list[dict[str, Any]]:
    api = bot.request
    assert isinstance(api, Api)
    return [call.params for call in api.calls if call.method == "sendMessage"]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        # A private chat with topics: the answer goes to the topic the message came from.
        {"message_thread_id": 42, "is_topic_message": True},
        # Through a business connection: the answer must go through it too.
        {"business_connection_id": "bc-1"},
    ],
    ids=["plain", "topic", "business"],
)
@pytest.mark.parametrize("with_button", [False, True], ids=["text", "button"])
async def test_the_request_is_the_one_reply_text_makes(
    bot: ExtBot[None], extra: dict[str, Any], with_button: bool
) -> None:
    message = _message(bot, 4242, **extra)
    markup = (
        InlineKeyboardMarkup([[InlineKeyboardButton("Open", url="https://example.org/")]])
        if with_button
        else None
    )
    text = "✅ Checked in to <b>Maths &amp; more</b> at 09:00."
    await message.reply_text(text, reply_markup=markup)
    await reply_unread(message, text, markup)
    by_reply_text, by_reply_unread = _sent(bot)
    assert by_reply_unread == by_reply_text
    assert by_reply_unread["parse_mode"] == "HTML"  # the bot's defaults were applied
    assert by_reply_unread["chat_id"] == 4242


async def test_a_blocked_user_raises_what_reply_text_raises(bot: ExtBot[None]) -> None:
    message = _message(bot, BLOCKED)
    with pytest.raises(Forbidden, match="blocked") as by_reply_text:
        await message.reply_text("hello")
    with pytest.raises(Forbidden, match="blocked") as by_reply_unread:
        await reply_unread(message, "hello")
    assert str(by_reply_unread.value) == str(by_reply_text.value)

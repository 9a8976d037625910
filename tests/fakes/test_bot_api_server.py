"""The fake Bot API server, exercised through the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ChatAction, MessageEntityType, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.botapi import FakeBotApi, FloodLimits, parse_formatted_text

TOKEN = "123456:TEST"
USER = 4242
AnyApp = Application[Any, Any, Any, Any, Any, Any]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi(token=TOKEN) as api:
        yield api
        assert api.server_errors == [], api.dump()


def make_bot(fake: FakeBotApi, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=fake.bot_url, base_file_url=fake.file_url)


def build_app(fake: FakeBotApi, rate_limiter: AIORateLimiter | None = None) -> AnyApp:
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(fake.token).base_url(fake.bot_url).base_file_url(fake.file_url)
    )
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    return builder.build()


def api_call(
    fake: FakeBotApi, method: str, token: str = TOKEN, **params: Any
) -> tuple[int, dict[str, Any]]:
    """A plain synchronous Bot API call, encoded the way PTB does (form fields, JSON values)."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    request = urllib.request.Request(
        f"{fake.bot_url}{token}/{method}", data=urllib.parse.urlencode(form).encode()
    )
    try:
        with _OPENER.open(request, timeout=5) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tiny_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- plain Bot client


async def test_bot_methods_realistic_answers(fake: FakeBotApi) -> None:
    fake.register_chat(USER, first_name="Ann")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    async with make_bot(fake) as bot:
        assert bot.username == "attn_test_bot"
        assert bot.id == 123456

        msg = await bot.send_message(
            USER, "<b>Hi</b> &amp; welcome", parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
        assert msg.text == "Hi & welcome"
        assert [(e.type, e.offset, e.length) for e in msg.entities] == [
            (MessageEntityType.BOLD, 0, 2)
        ]
        assert msg.reply_markup == keyboard
        assert msg.chat.id == USER and msg.chat.first_name == "Ann"
        call = fake.messages_to(USER)[-1]
        assert call.params["text"] == "<b>Hi</b> &amp; welcome"
        assert call.params["chat_id"] == USER
        assert call.params["reply_markup"] == keyboard.to_dict()
        assert call.message_id == msg.message_id

        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text(
                "<b>Hi</b> &amp; welcome",
                chat_id=USER,
                message_id=msg.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
            )
        edited = await bot.edit_message_text("Bye", chat_id=USER, message_id=msg.message_id)
        assert isinstance(edited, Message)
        assert edited.text == "Bye" and edited.reply_markup is None and edited.edit_date
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_reply_markup(chat_id=USER, message_id=msg.message_id)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("x", chat_id=USER, message_id=999)

        second = await bot.send_message(USER, "second")
        assert second.message_id == msg.message_id + 1
        assert await bot.delete_message(USER, second.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(USER, second.message_id)
        assert [m["message_id"] for m in fake.chat_messages(USER)] == [msg.message_id]

        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(777, "nobody here")
        with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag"):
            await bot.send_message(USER, "1 < 2", parse_mode=ParseMode.HTML)
        # The bot sends HTML only: any other parse mode is refused, so a slip shows at once.
        with pytest.raises(BadRequest, match="Unsupported parse_mode"):
            await bot.send_message(USER, "v1.0", parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(
                USER,
                "too long data",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("x", callback_data="x" * 65)]]
                ),
            )

        assert await bot.send_chat_action(USER, ChatAction.TYPING)
        commands = [BotCommand("start", "Start"), BotCommand("here", "Check in")]
        assert await bot.set_my_commands(commands)
        assert await bot.get_my_commands() == tuple(commands)
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
        # Per language: a two-letter code, or none (every other language); Telegram's limits.
        assert await bot.set_my_commands(commands, language_code="ru")
        assert await bot.get_my_commands(language_code="ru") == tuple(commands)
        assert await bot.get_my_commands() == ()
        for code in ("rus", "pt-br", "RU"):
            with pytest.raises(BadRequest, match="language code"):
                await bot.set_my_commands(commands, language_code=code)
        with pytest.raises(BadRequest, match=r"(?i)bot_command_description_invalid"):
            await bot.set_my_commands([BotCommand("start", "x" * 257)])
        assert await bot.set_my_description("d" * 512)
        assert await bot.set_my_description("описание", language_code="ru")
        assert (await bot.get_my_description("ru")).description == "описание"
        assert (await bot.get_my_description("es")).description == "d" * 512
        with pytest.raises(BadRequest, match="too long"):
            await bot.set_my_description("d" * 513)
        assert await bot.set_my_short_description("s" * 120, language_code="es")
        assert (await bot.get_my_short_description("es")).short_description == "s" * 120
        with pytest.raises(BadRequest, match="too long"):
            await bot.set_my_short_description("s" * 121)
        with pytest.raises(BadRequest, match="language code"):
            await bot.set_my_short_description("s", language_code="english")

        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")

        fake.block_bot(USER)
        with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
            await bot.send_message(USER, "hello?")

    with pytest.raises(InvalidToken):
        async with make_bot(fake, token="123456:WRONG"):
            pass
    assert fake.calls_of("getMe")[-1].status == 401


async def test_multipart_uploads_are_captured(fake: FakeBotApi) -> None:
    fake.register_chat(USER)
    content = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n\r\n\r"
    name = 'отчёт "2024".csv'
    async with make_bot(fake) as bot:
        msg = await bot.send_document(
            USER, document=content, filename=name, caption="Attendance\nreport"
        )
        call = fake.calls_of("sendDocument")[-1]
        assert call.files["document"] == content
        assert call.file_names["document"] == name
        assert call.file_types["document"] == "text/csv"
        assert call.params == {"chat_id": USER, "caption": "Attendance\nreport"}
        assert msg.document is not None
        assert msg.document.file_name == name and msg.document.file_size == len(content)
        assert msg.caption == "Attendance\nreport"
        assert fake.messages_to(USER) == [call]

        file = await bot.get_file(msg.document.file_id)
        assert bytes(await file.download_as_bytearray()) == content

        media = InputMediaDocument(
            b"v2 bytes", filename="v2.csv", caption="<i>v2</i>", parse_mode=ParseMode.HTML
        )
        new = await bot.edit_message_media(media, chat_id=USER, message_id=msg.message_id)
        assert isinstance(new, Message) and new.document is not None
        assert new.document.file_name == "v2.csv" and new.caption == "v2"
        edit = fake.calls_of("editMessageMedia")[-1]
        attach = edit.params["media"]["media"]
        assert attach.startswith("attach://")
        assert edit.files[attach.removeprefix("attach://")] == b"v2 bytes"
        capt = await bot.edit_message_caption(USER, msg.message_id, caption="final")
        assert isinstance(capt, Message) and capt.caption == "final"

        photo = await bot.send_photo(USER, photo=tiny_png(200, 100))
        assert (photo.photo[-1].width, photo.photo[-1].height) == (200, 100)
        with pytest.raises(BadRequest, match="Image_process_failed"):
            await bot.send_photo(USER, photo=b"definitely not an image")
        resent = await bot.send_document(USER, document=msg.document.file_id)
        assert resent.document is not None and resent.document.file_name == name
    assert len(fake.messages_to(USER)) == 3


async def test_get_updates_offsets_and_long_poll(fake: FakeBotApi) -> None:
    async with make_bot(fake) as bot:
        first = fake.send_message(USER, "/start", first_name="Ann", username="ann")
        second = fake.send_message(USER, "hello")
        updates = await bot.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [first, second]
        start_msg = updates[0].message
        assert start_msg is not None and start_msg.text == "/start"
        assert start_msg.from_user is not None and start_msg.from_user.username == "ann"
        assert [(e.type, e.offset, e.length) for e in start_msg.entities] == [
            (MessageEntityType.BOT_COMMAND, 0, 6)
        ]

        # Unconfirmed updates are served again; an offset confirms everything before it.
        again = await bot.get_updates(offset=first + 1, timeout=0)
        assert [u.update_id for u in again] == [second]
        assert [u["update_id"] for u in fake.pending_updates] == [second]

        began = time.monotonic()
        assert await bot.get_updates(offset=second + 1, timeout=1) == ()
        assert time.monotonic() - began >= 0.9
        assert fake.pending_updates == []

        asyncio.get_running_loop().call_later(0.2, fake.send_message, USER, "late")
        began = time.monotonic()
        late = await bot.get_updates(offset=second + 1, timeout=5)
        assert time.monotonic() - began < 2
        assert late[0].message is not None and late[0].message.text == "late"

        group = fake.send_message(
            USER, "/here@attn_test_bot 5", chat_id=-1001234, chat_type="supergroup"
        )
        (update,) = await bot.get_updates(offset=late[0].update_id + 1, timeout=0)
        assert update.update_id == group and update.message is not None
        assert update.message.chat.type == "supergroup"
        assert update.message.entities[0].length == len("/here@attn_test_bot")

        # A second bot instance polling concurrently terminates the first poll, like Telegram.
        poll = asyncio.create_task(bot.get_updates(offset=group + 1, timeout=3))
        await asyncio.sleep(0.2)
        async with make_bot(fake) as other:
            assert await other.get_updates(offset=group + 1, timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await poll


# --------------------------------------------------------------------------- full Application


async def test_application_polling_command_and_buttons(fake: FakeBotApi) -> None:
    app = build_app(fake)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "Welcome!",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Check in", callback_data="checkin:1")]]
            ),
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Noted")
        await query.edit_message_text(f"Checked in ({query.data}) ✅")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_button))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    try:
        fake.send_message(USER, "/start", first_name="Ann")
        (reply,) = await fake.wait_for_messages_async(USER, 1)
        assert reply.params["text"] == "Welcome!"
        message_id = reply.message_id
        assert message_id is not None
        [button] = [
            b
            for row in (fake.message(USER, message_id) or {})["reply_markup"]["inline_keyboard"]
            for b in row
            if b["text"] == "Check in"
        ]
        data = button["callback_data"]
        pressed = fake.press_button(USER, message_id, USER, data)
        await fake.wait_for_async(
            lambda f: (
                (f.message(USER, message_id) or {}).get("text") == "Checked in (checkin:1) ✅"
            ),
            message="the button handler to edit the message",
        )
        query_id = fake.get_update(pressed)["callback_query"]["id"]
        [answer] = [
            c
            for c in fake.calls_of("answerCallbackQuery", ok_only=True)
            if str(c.params.get("callback_query_id")) == query_id
        ]
        assert answer.params["text"] == "Noted"
        assert "reply_markup" not in (fake.message(USER, message_id) or {})
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert fake.calls_of("deleteWebhook")  # PTB's polling bootstrap
    assert fake.pending_updates == []  # PTB's last getUpdates confirmed everything


async def test_rate_limiter_survives_injected_429(
    fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without this, PTB's RetryAfter emits a PTBDeprecationWarning (an error under this repo's
    # filterwarnings = ["error"]).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.register_chat(USER)
    fake.inject_429(0.5, retry_after=0.05, seed=1)  # seed 1: 7 rejections, <= 3 in a row
    app = build_app(fake, rate_limiter=AIORateLimiter(max_retries=3))
    async with app:
        for i in range(6):
            await app.bot.send_message(USER, f"msg {i}")
    assert fake.texts_to(USER) == [f"msg {i}" for i in range(6)]
    rejected = [c for c in fake.calls_of("sendMessage") if not c.ok]
    assert rejected and {c.status for c in rejected} == {429}
    assert {c.fault for c in rejected} == {"random_429"}
    assert 1 <= fake.max_messages_in_any_second() <= 6
    assert fake.max_messages_per_chat_in_any_second(USER) == fake.max_messages_in_any_second()


def test_http_level_errors_and_flood_limits(fake: FakeBotApi) -> None:
    """Synchronous use without PTB: exact JSON error shapes and the flood-limit check."""
    assert api_call(fake, "getMe", token="123456:WRONG") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert api_call(fake, "fooBar") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    fake.send_message(USER, "/start")
    fake.inject_429(1.0, retry_after=3, max_failures=1)
    assert api_call(fake, "sendMessage", chat_id=USER, text="hi") == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )
    status, body = api_call(fake, "sendMessage", chat_id=USER, text="123")
    assert status == 200 and body["result"]["text"] == "123"  # strings stay strings

    fake.clear_calls()
    fake.set_flood_limits(FloodLimits(per_chat_per_second=1, retry_after=1))
    assert api_call(fake, "sendMessage", chat_id=USER, text="one")[0] == 200
    status, body = api_call(fake, "sendMessage", chat_id=USER, text="two")
    assert status == 429 and body["parameters"] == {"retry_after": 1}
    assert fake.calls[-1].fault == "flood"
    assert fake.max_messages_per_chat_in_any_second() == 1
    fake.set_flood_limits(None)

    fake.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    assert api_call(fake, "sendMessage", chat_id=USER, text="three")[0] == 502
    assert api_call(fake, "sendMessage", chat_id=USER, text="three")[0] == 200
    fake.wait_for(lambda f: len(f.messages_to(USER)) == 2, timeout=1)
    with pytest.raises(AssertionError, match="timed out"):
        fake.wait_for(lambda f: False, timeout=0.1, message="never")


# --------------------------------------------------------------------------- webhooks


def test_flood_limits_answer_retry_after_like_telegram(fake: FakeBotApi) -> None:
    """Over a limit, `retry_after` is the whole seconds until its window has room again."""
    chats = [USER + i for i in range(5)]
    for chat in chats:
        fake.register_chat(chat)
    fake.set_flood_limits(FloodLimits(global_per_second=3, per_chat_per_second=1))
    for chat in chats[:3]:
        assert api_call(fake, "sendMessage", chat_id=chat, text="hi")[0] == 200
    status, body = api_call(fake, "sendMessage", chat_id=chats[3], text="over")
    assert status == 429 and body["parameters"] == {"retry_after": 1}
    assert body["description"] == "Too Many Requests: retry after 1"
    time.sleep(1.05)  # the window has room again
    assert api_call(fake, "sendMessage", chat_id=chats[3], text="now")[0] == 200
    status, body = api_call(fake, "sendMessage", chat_id=chats[3], text="again")
    assert status == 429 and body["parameters"] == {"retry_after": 1}  # that chat's second
    fake.set_flood_limits(FloodLimits(global_per_second=None, group_per_minute=2))
    fake.register_chat(-100, "group", title="Class")
    for text in ("one", "two"):
        assert api_call(fake, "sendMessage", chat_id=-100, text=text)[0] == 200
        time.sleep(1.01)
    status, body = api_call(fake, "sendMessage", chat_id=-100, text="three")
    assert status == 429 and 57 <= body["parameters"]["retry_after"] <= 59  # a minute's room
    fake.set_flood_limits(None)


async def test_webhook_delivery_to_ptb(fake: FakeBotApi) -> None:
    port = free_port()
    hook_url = f"http://127.0.0.1:{port}/tg-hook"
    app = build_app(fake)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"hi {update.update_id}")

    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="tg-hook",
        webhook_url=hook_url,
        secret_token="s3cret-TOKEN_1",
    )
    await app.start()
    try:
        hook = fake.webhook
        assert hook is not None and hook.url == hook_url
        assert hook.secret_token == "s3cret-TOKEN_1"
        with pytest.raises(Conflict, match="webhook is active"):
            await app.bot.get_updates()
        first = fake.send_message(USER, "/start")
        second = fake.send_message(USER, "/start")
        replies = await fake.wait_for_messages_async(USER, 2)
        assert sorted(c.params["text"] for c in replies) == [f"hi {first}", f"hi {second}"]
        deliveries = fake.webhook_deliveries
        assert [(d.update_id, d.status) for d in deliveries] == [(first, 200), (second, 200)]
        assert {d.secret_token for d in deliveries} == {"s3cret-TOKEN_1"}
        info = await app.bot.get_webhook_info()
        assert info.url == hook_url and info.pending_update_count == 0
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def test_webhook_retries_in_order_then_polling_again(fake: FakeBotApi) -> None:
    received: list[tuple[int, str | None]] = []
    failures = [2]

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if failures[0] > 0:
                failures[0] -= 1
                self.send_response(500)
            else:
                received.append(
                    (body["update_id"], self.headers.get("X-Telegram-Bot-Api-Secret-Token"))
                )
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        ids = [fake.send_message(USER, f"m{i}") for i in range(3)]  # queued before the hook
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert api_call(fake, "setWebhook", url=url, secret_token="abc")[0] == 200
        fake.wait_for(lambda f: len(received) == 3, timeout=5, message="3 deliveries")
        assert received == [(i, "abc") for i in ids]
        # The hook has the third update before the fake records the delivery's answer.
        fake.wait_for(lambda f: len(f.webhook_deliveries) == 5, timeout=5, message="recorded")
        statuses = [d.status for d in fake.webhook_deliveries]
        assert statuses == [500, 500, 200, 200, 200]
        _, info = api_call(fake, "getWebhookInfo")
        assert "500" in info["result"]["last_error_message"]
        assert api_call(fake, "getUpdates")[0] == 409

        assert api_call(fake, "deleteWebhook")[0] == 200
        later = fake.send_message(USER, "after")
        status, body = api_call(fake, "getUpdates", timeout=1)
        assert status == 200 and [u["update_id"] for u in body["result"]] == [later]
        assert len(received) == 3
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --------------------------------------------------------------------------- formatting rules


def test_parse_modes() -> None:
    text, ents = parse_formatted_text(
        '<b>a<i>b</i></b> <a href="https://x.org">l</a> <pre><code class="language-py">'
        "x</code></pre> 😀<u>u</u>",
        "HTML",
    )
    assert text == "ab l x 😀u"
    assert ents == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "italic", "offset": 1, "length": 1},
        {"type": "text_link", "offset": 3, "length": 1, "url": "https://x.org"},
        {"type": "pre", "offset": 5, "length": 1, "language": "py"},
        {"type": "underline", "offset": 9, "length": 1},  # the emoji is 2 UTF-16 units
    ]
    for bad, needle in [
        ("<b>x", "Can't find end tag"),
        ("<b>x</i>", "Unmatched end tag"),
        ("<br>", 'Unsupported start tag "br"'),
        ("x</b>", "Unexpected end tag"),
    ]:
        with pytest.raises(Exception, match=needle):
            parse_formatted_text(bad, "HTML")

    for mode in ("MarkdownV2", "Markdown"):
        with pytest.raises(Exception, match="unsupported parse_mode"):
            parse_formatted_text("*b*", mode)
    assert parse_formatted_text("<b>raw</b>", None) == ("<b>raw</b>", [])


# --------------------------------------------------------------------------- Telegram's refusals


async def test_refuses_what_telegram_refuses(fake: FakeBotApi) -> None:
    """Every limit and error the real server enforces, at its exact boundary."""
    fake.register_chat(USER)
    async with make_bot(fake) as bot:
        # Text: 4096 characters after entity parsing, counted in UTF-16 code units.
        markup_heavy = "<b>" + "x" * 4096 + "</b>"
        assert (await bot.send_message(USER, markup_heavy, parse_mode=ParseMode.HTML)).text
        with pytest.raises(BadRequest, match=r"^Message is too long$"):
            await bot.send_message(USER, "x" * 4097)
        with pytest.raises(BadRequest, match=r"^Message is too long$"):
            await bot.send_message(USER, "😀" * 2049)  # 4098 UTF-16 units
        assert (await bot.send_message(USER, "&amp;" * 4096, parse_mode=ParseMode.HTML)).text
        msg = await bot.send_message(USER, "short")
        with pytest.raises(BadRequest, match=r"^Message is too long$"):
            await bot.edit_message_text("y" * 4097, chat_id=USER, message_id=msg.message_id)
        # Captions: 1024.
        png = tiny_png(20, 20)
        photo = await bot.send_photo(USER, png, caption="c" * 1024)
        with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
            await bot.send_photo(USER, png, caption="c" * 1025)
        with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
            await bot.send_document(USER, b"x", filename="a.csv", caption="c" * 1025)
        with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
            await bot.edit_message_caption(USER, photo.message_id, caption="c" * 1025)
        # Bad HTML.
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(USER, "<b>open", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.edit_message_caption(
                USER, photo.message_id, caption="a < b", parse_mode=ParseMode.HTML
            )
        # callback_data: 1..64 bytes (UTF-8).
        for data in ("", "é" * 33):
            with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
                await bot.send_message(
                    USER,
                    "k",
                    reply_markup=InlineKeyboardMarkup(
                        [[InlineKeyboardButton("x", callback_data=data)]]
                    ),
                )
        ok = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 32)]])
        assert (await bot.send_message(USER, "k", reply_markup=ok)).reply_markup == ok

        # At most 100 buttons in an inline keyboard.
        def keyboard(n: int) -> InlineKeyboardMarkup:
            buttons = [InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(n)]
            return InlineKeyboardMarkup([buttons[i : i + 5] for i in range(0, n, 5)])

        assert (await bot.send_message(USER, "k", reply_markup=keyboard(100))).reply_markup
        with pytest.raises(BadRequest, match=r"^Reply markup is too long$"):
            await bot.send_message(USER, "k", reply_markup=keyboard(101))
        with pytest.raises(BadRequest, match=r"^Reply markup is too long$"):
            await bot.edit_message_reply_markup(USER, msg.message_id, reply_markup=keyboard(101))
        # Chats: unknown, never started, blocked; messages to edit that do not exist.
        with pytest.raises(BadRequest, match=r"^Chat not found$"):
            await bot.send_message(777, "nobody")
        fake.register_user(778, first_name="Seen in a group")
        with pytest.raises(Forbidden, match=r"^Forbidden: bot can't initiate conversation"):
            await bot.send_message(778, "hello")
        with pytest.raises(Forbidden, match=r"^Forbidden: bot can't initiate conversation"):
            await bot.send_document(778, b"x", filename="a.csv")
        fake.send_message(778, "/start")  # once they open the chat, the bot may write
        assert (await bot.send_message(778, "hello")).text == "hello"
        fake.block_bot(778)
        with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
            await bot.send_photo(778, png)
        # A command menu scoped to a chat the bot cannot reach.
        for scope in (BotCommandScopeChat(777), BotCommandScopeChat(779)):
            fake.register_user(779)
            with pytest.raises(BadRequest, match=r"^Chat not found$"):
                await bot.set_my_commands([BotCommand("help", "Help")], scope=scope)
        assert await bot.set_my_commands([BotCommand("help", "Help")], BotCommandScopeChat(USER))
        with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
            await bot.edit_message_caption(USER, 999, caption="x")
        with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
            await bot.edit_message_media(InputMediaPhoto(png), chat_id=USER, message_id=999)


async def test_input_media_needs_media_field(fake: FakeBotApi) -> None:
    """An InputMedia whose ``media`` is missing or names no uploaded part is refused, as
    telegram-bot-api does ("media not found"); bytes, attach=True, file ids and URLs work."""
    fake.register_chat(USER)
    png = tiny_png(30, 30)
    async with make_bot(fake) as bot:
        card = await bot.send_photo(USER, png, caption="card")
        # The QR freeze: an InputFile made without attach=True is uploaded with no "media".
        with pytest.raises(BadRequest, match=r"(?i)^can't parse InputMedia: media not found$"):
            await bot.edit_message_media(
                InputMediaPhoto(InputFile(png, filename="qr.png")),
                chat_id=USER,
                message_id=card.message_id,
            )
        call = fake.calls_of("editMessageMedia")[-1]
        assert "media" not in call.params["media"] and call.status == 400
        # An attach:// name that is not in the upload (raw request: PTB never builds one).
        status, body = api_call(
            fake,
            "editMessageMedia",
            chat_id=USER,
            message_id=card.message_id,
            media={"type": "photo", "media": "attach://nothing"},
        )
        assert (status, body["description"]) == (
            400,
            "Bad Request: can't parse InputMedia: media not found",
        )
        kept = fake.message(USER, card.message_id)
        assert kept is not None and kept["caption"] == "card"
        # What works.
        for media in (
            InputMediaPhoto(png, caption="bytes"),
            InputMediaPhoto(InputFile(tiny_png(31, 31), filename="qr.png", attach=True)),
            InputMediaPhoto(card.photo[-1].file_id, caption="file id"),
            InputMediaPhoto("https://example.com/qr.png", caption="url"),
        ):
            edited = await bot.edit_message_media(media, chat_id=USER, message_id=card.message_id)
            assert isinstance(edited, Message) and edited.photo
        with pytest.raises(BadRequest, match=r"^Wrong file identifier/http url specified$"):
            await bot.edit_message_media(
                InputMediaPhoto("not-a-file-id"), chat_id=USER, message_id=card.message_id
            )
        # A single sendPhoto takes its file from the part named after the parameter.
        status, body = api_call(fake, "sendPhoto", chat_id=USER, photo="attach://nothing")
        assert (status, body["description"]) == (
            400,
            "Bad Request: there is no photo in the request",
        )


async def test_a_chat_scoped_menu_needs_a_chat_the_bot_knows(fake: FakeBotApi) -> None:
    from telegram import BotCommandScopeChat

    async with Bot(TOKEN, base_url=fake.bot_url) as bot:
        scope = BotCommandScopeChat(USER)
        with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
            await bot.set_my_commands([BotCommand("help", "help")], scope=scope)
        with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
            await bot.delete_my_commands(scope=scope)
        fake.send_message(USER, "/start")
        assert await bot.set_my_commands([BotCommand("help", "help")], scope=scope)
        assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["help"]
        assert await bot.delete_my_commands(scope=scope)


async def test_files_users_send_are_sent_again_by_file_id(fake: FakeBotApi) -> None:
    """A photo or PDF a user sent (an excuse's document) is passed on by its file_id, as
    Telegram allows; Telegram refuses an unknown id, a photo's id as a document and a
    document's as a photo, and a caption over 1,024 characters, and so does the fake."""
    TEACHER = 4343
    fake.register_chat(TEACHER)
    photo_update = fake.send_media(USER, tiny_png(30, 20), caption="Flu")
    pdf_update = fake.send_media(
        USER, b"%PDF-1.4", kind="document", filename="note.pdf", mime_type="application/pdf"
    )
    async with make_bot(fake) as bot:
        updates = {u.update_id: u for u in await bot.get_updates(timeout=0)}
        photo_message = updates[photo_update].message
        pdf_message = updates[pdf_update].message
        assert photo_message is not None and pdf_message is not None
        assert photo_message.caption == "Flu" and pdf_message.document is not None
        photo_id = photo_message.photo[-1].file_id
        pdf_id = pdf_message.document.file_id
        sent = await bot.send_photo(TEACHER, photo_id, caption="c" * 1024)
        assert sent.photo[-1].file_id == photo_id
        again = await bot.send_document(TEACHER, pdf_id, caption="<b>reason</b>", parse_mode="HTML")
        assert again.document is not None and again.document.file_name == "note.pdf"
        with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
            await bot.send_photo(TEACHER, photo_id, caption="c" * 1025)
        with pytest.raises(BadRequest, match="Wrong file identifier"):
            await bot.send_photo(TEACHER, "AgACAgIAAxkBAAInosuchfile")
        with pytest.raises(BadRequest, match="Can't use file of type photo as document"):
            await bot.send_document(TEACHER, photo_id)
        with pytest.raises(BadRequest, match="Can't use file of type document as photo"):
            await bot.send_photo(TEACHER, pdf_id)
    assert fake.file_content(photo_id) == tiny_png(30, 20)


async def test_user_documents_download_and_the_20_mb_limit(fake: FakeBotApi) -> None:
    """A file a user sends is fetched as from Telegram (getFile, then the file URL); getFile
    refuses a file over 20 MB with Telegram's "file is too big"."""
    async with make_bot(fake) as bot:
        update_id = fake.send_document(USER, b"1001;Ada\n", "roster.csv", "text/csv")
        document = fake.get_update(update_id)["message"]["document"]
        assert document["file_name"] == "roster.csv" and document["file_size"] == 9
        file = await bot.get_file(document["file_id"])
        assert bytes(await file.download_as_bytearray()) == b"1001;Ada\n"

        big = b"x" * (20 * 1024 * 1024 + 1)
        update_id = fake.send_document(USER, big, "huge.csv")
        document = fake.get_update(update_id)["message"]["document"]
        assert document["file_size"] == len(big)
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await bot.get_file(document["file_id"])
        exact = fake.send_document(USER, big[:-1], "limit.csv")
        file = await bot.get_file(fake.get_update(exact)["message"]["document"]["file_id"])
        assert file.file_size == 20 * 1024 * 1024

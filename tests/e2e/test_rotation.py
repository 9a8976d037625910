"""The rotating QR through the real `attn run` process against the strict fake Bot API.

Against real Telegram the card froze at the first rotation: the new QR was uploaded as an
InputMedia without a `media` field and refused. The fake now refuses it the same way, so this
test shows, for two minutes of 10-second rotations, that after each rotation the card shows
the new code, its QR (decoded from the PNG Telegram received) carries that code, both the
typed code and the QR's deep link check a student in, and the card's count follows.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import zxingcpp
from PIL import Image

from tests.e2e.conftest import TEACHER, BotProcess, bot_env, wait_until_polling
from tests.fakes.botapi import FakeBotApi, JSONDict

T = TypeVar("T")
ROTATION_SECONDS = 10
RUN_SECONDS = 120
STUDENTS = iter(range(9101, 9400))


def card(fake: FakeBotApi) -> JSONDict:
    """The teacher's session card as Telegram shows it now (after every edit)."""
    cards = [m for m in fake.chat_messages(TEACHER) if "photo" in m]
    assert cards, "no session card yet"
    return cards[-1]


def shown_code(message: JSONDict) -> str:
    match = re.search(r"/checkin ([A-Z0-9]{6})", str(message.get("caption", "")))
    assert match, message
    return match[1]


def shown_count(message: JSONDict) -> int:
    match = re.search(r"(\d+) checked in", str(message.get("caption", "")))
    assert match, message
    return int(match[1])


def qr_link(fake: FakeBotApi, message: JSONDict) -> str:
    """Decode the QR in the photo the bot uploaded for this card."""
    content = fake.file_content(message["photo"][-1]["file_id"])
    assert content is not None
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))
    return str(barcode.text)


def wait(what: str, probe: Callable[[], T | None], timeout: float, bot: BotProcess) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        assert bot.proc is not None and bot.proc.poll() is None, bot.log()[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}:\n{bot.log()[-3000:]}")


def check_in(fake: FakeBotApi, student: int, text: str, bot: BotProcess) -> None:
    fake.send_message(student, text, first_name=f"S{student}")
    [reply] = fake.wait_for_messages(student, 1, timeout=10)
    assert "Checked in to <b>Rotating</b>" in (reply.text or ""), (text, reply.text)


def test_the_rotating_qr_follows_every_rotation(fake: FakeBotApi, tmp_path: Path) -> None:
    env = bot_env(fake, tmp_path / "data", ATTN_CARD_REFRESH_SECONDS="5")
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, f"/start_session 30 Rotating rotate={ROTATION_SECONDS}")
        wait("the card", lambda: [m for m in fake.chat_messages(TEACHER) if "photo" in m], 30, bot)
        started = time.monotonic()
        codes: list[str] = []
        checked_in = 0
        while time.monotonic() - started < RUN_SECONDS:

            def new_card() -> JSONDict | None:
                message = card(fake)
                return message if shown_code(message) not in codes else None

            message = wait("the card to show a new code", new_card, ROTATION_SECONDS + 10, bot)
            code = shown_code(message)
            codes.append(code)
            link = qr_link(fake, message)
            payload = re.fullmatch(
                r"https://t\.me/attn_test_bot\?start=(ci_[0-9a-f]{12}-(\w{6}))", link
            )
            assert payload and payload[2] == code, (link, code)
            check_in(fake, next(STUDENTS), f"/checkin {code}", bot)  # typed from the projector
            check_in(fake, next(STUDENTS), f"/start {payload[1]}", bot)  # scanned
            checked_in += 2
            expected = checked_in
            wait(
                f"the card to count {expected}",
                lambda: shown_count(card(fake)) >= expected,  # noqa: B023 (used at once)
                ROTATION_SECONDS + 10,
                bot,
            )
        assert len(codes) >= RUN_SECONDS // ROTATION_SECONDS - 1, codes
        assert len(set(codes)) == len(codes)
        edits = fake.calls_of("editMessageMedia")
        assert edits and all(c.status == 200 for c in edits), [c.error for c in edits]
        assert shown_count(card(fake)) == checked_in
    finally:
        exit_code = bot.stop()
    assert exit_code == 0, bot.log()[-3000:]

"""A session started in a group, through the real `attn run` process over HTTP.

The teacher starts in the group and gets the code privately; ten students check in
privately; the group never receives a code (every message, caption, button and file sent
to it is read). Then a teacher who never opened the bot: the group gets one line with a link
that opens it, nothing else, and no session is left open; after opening it, starting works.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from tests.e2e.conftest import TEACHER, BotProcess, bot_env, current_code, wait_until_polling
from tests.fakes.botapi import Call, FakeBotApi

GROUP = -100_500_600
NEWCOMER = 7002  # a teacher who never opened a private chat with the bot
STUDENTS = list(range(40_001, 40_011))
BOT = "attn_test_bot"
CODE = re.compile(r"[A-Z0-9]{6}")


def to_group(fake: FakeBotApi) -> list[Call]:
    return [c for c in fake.calls if c.chat_id == GROUP]


def codes_shown_to(fake: FakeBotApi, user_id: int) -> set[str]:
    """Every code any card in the teacher's private chat showed (sent or edited in)."""
    codes = set()
    for call in fake.calls:
        if call.chat_id != user_id:
            continue
        media = call.params.get("media")
        caption = media.get("caption") if isinstance(media, dict) else call.text
        codes.update(re.findall(r"/checkin ([A-Z0-9]{6})", caption or ""))
    return codes


def assert_no_code_in_group(fake: FakeBotApi, codes: set[str]) -> None:
    assert codes
    for call in to_group(fake):
        assert call.method not in ("sendPhoto", "sendDocument", "editMessageMedia"), call
        assert not call.files, call
        visible = json.dumps(call.params, ensure_ascii=False, default=str)
        for code in codes:
            assert code not in visible, (code, call.method, visible)
    for message in fake.chat_messages(GROUP):  # what the group shows now, edits included
        if message.get("from", {}).get("is_bot"):
            shown = json.dumps(message, ensure_ascii=False)
            assert not any(code in shown for code in codes), message


def in_group(fake: FakeBotApi, user_id: int, text: str) -> None:
    command, _, rest = text.partition(" ")
    fake.send_message(
        user_id, f"{command}@{BOT} {rest}".strip(), chat_id=GROUP, chat_type="supergroup"
    )


def test_group_session_end_to_end(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.register_chat(GROUP, "supergroup", title="Seminar group", bot_is_admin=True)
    env = bot_env(fake, tmp_path / "data", ATTN_TEACHER_IDS=f"{TEACHER},{NEWCOMER}")
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/start", first_name="Tess")
        fake.wait_for_messages(TEACHER, 1, timeout=30)

        in_group(fake, TEACHER, "/start_session 15 Seminar")
        private = fake.wait_for_messages(TEACHER, 2, timeout=30)[-1]
        assert private.method == "sendPhoto" and private.files, fake.dump()
        [card] = fake.wait_for_messages(GROUP, 1, timeout=30)
        assert "checked in" in (card.text or "")
        code = current_code(fake, TEACHER)
        assert code not in json.dumps(card.params)

        # /start_session again in the group: the "already open (code …)" goes privately.
        in_group(fake, TEACHER, "/start_session 15 Seminar")
        fake.wait_for(
            lambda f: any("already have an open session" in t for t in f.texts_to(TEACHER)),
            timeout=30,
        )

        for student in STUDENTS:
            fake.send_message(student, f"/checkin {current_code(fake, TEACHER)}")
        for student in STUDENTS:
            fake.wait_for(
                lambda f, s=student: any("Checked in" in t for t in f.texts_to(s)), timeout=30
            )
        # One student posts the code into the group by mistake: answered privately.
        in_group(fake, STUDENTS[0], f"/checkin {current_code(fake, TEACHER)}")
        fake.wait_for(
            lambda f: any("already checked in" in t for t in f.texts_to(STUDENTS[0])), timeout=30
        )
        # The group's card follows the count (edited by the refresh job, no code in it).
        fake.wait_for(
            lambda f: any(
                "10 checked in" in str(m.get("text", "")) for m in f.chat_messages(GROUP)
            ),
            timeout=30,
        )
        in_group(fake, TEACHER, "/end_session")
        fake.wait_for(
            lambda f: any(m.method == "sendDocument" for m in f.messages_to(TEACHER)), timeout=60
        )
        summary = next(t for t in fake.texts_to(TEACHER) if "Summary" in t)
        assert "Checked in: <b>10</b>" in summary
        codes = codes_shown_to(fake, TEACHER) | {code}
        assert_no_code_in_group(fake, codes)
        assert len(fake.messages_to(GROUP)) == 1  # the card, edited in place; nothing else

        # A teacher who never opened the bot: one line with a link, nothing else.
        before = len(to_group(fake))
        in_group(fake, NEWCOMER, "/start_session 10 Quiz")
        fake.wait_for(lambda f: len(f.messages_to(GROUP)) == 2, timeout=30)
        time.sleep(2)  # nothing else follows it
        [line] = [c for c in to_group(fake)[before:] if c.method == "sendMessage"]
        assert f"t.me/{BOT}?start=p" in (line.text or "") and "\n" not in (line.text or "")
        assert not CODE.search(re.sub(r"<[^>]*>|https?://\S+|@\w+", "", line.text or ""))
        assert not [c for c in fake.messages_to(NEWCOMER)]
        assert len(fake.messages_to(GROUP)) == 2

        # They open the bot with the link, start again: now the code comes privately.
        fake.send_message(NEWCOMER, "/start p", first_name="Nina")
        fake.wait_for_messages(NEWCOMER, 1, timeout=30)
        in_group(fake, NEWCOMER, "/start_session 10 Quiz")
        card = fake.wait_for_messages(NEWCOMER, 2, timeout=30)[-1]
        assert card.method == "sendPhoto"
        fake.wait_for(lambda f: len(f.messages_to(GROUP)) == 3, timeout=30)
        assert_no_code_in_group(fake, codes | codes_shown_to(fake, NEWCOMER))
    finally:
        code_ = bot.stop()
    assert code_ == 0, bot.log()[-3000:]

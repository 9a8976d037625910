"""/webhook through the bot: the owner sets the course's outgoing webhook (https only; the
signing secret shown once and stored), sees it with its buttons, sends a test event to a
receiver that is down and is told so, replaces and removes it (audited); a bad address, a
co-teacher and a student change nothing."""

from __future__ import annotations

import re

import pytest

from tests.bot.test_api_tokens import alerts
from tests.bot.test_course_staff import CO, join_staff, new_course, say
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables
from tests.support.webhook_receiver import free_port

ANN = 5001
SECRET_RE = re.compile(r"<tg-spoiler><code>(whsec_[A-Za-z0-9_-]{43})</code></tg-spoiler>")
INTERNAL = (
    "That address is inside a private network: the webhook must be a public https:// address."
)


@pytest.fixture
def receivers_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """ATTN_WEBHOOK_ALLOW_PRIVATE for a test whose receiver is on 127.0.0.1 (set before the
    services are built: request it first)."""
    monkeypatch.setenv("ATTN_WEBHOOK_ALLOW_PRIVATE", "true")


async def test_addresses_inside_the_network_are_refused(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    await new_course(bot)
    for bad in (
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://[::1]/",
        "https://2130706433/",
        "https://redis.internal/",
        "https://localhost/",
    ):
        [refused] = await bot.send(TEACHER_ID, f"/webhook {bad}")
        assert refused == INTERNAL, bad
    [refused] = await bot.send(TEACHER_ID, "/webhook http://127.0.0.1:6379/")
    assert refused == "The webhook must be an https:// address (with a host, no login in it)."
    assert await stored_tables.rows("course_webhooks") == []


async def test_the_owner_sets_tests_and_removes_the_webhook(
    receivers_on_this_machine: None, bot: BotHarness, stored_tables: StoredTables
) -> None:
    course_id, _ = await new_course(bot)
    [shown] = await bot.send(TEACHER_ID, "/webhook")
    assert shown.startswith(f"<b>Math 101</b> (course id {course_id}) has no webhook.")

    # Not https: refused, nothing stored.
    for bad in ("http://example.org/hook", "ftp://example.org/x", "https://user:pw@example.org/"):
        [refused] = await bot.send(TEACHER_ID, f"/webhook {bad}")
        assert refused == "The webhook must be an https:// address (with a host, no login in it)."
    assert await stored_tables.rows("course_webhooks") == []

    [made] = await bot.send(TEACHER_ID, "/webhook Math 101 https://lms.example.org/attn")
    assert made.startswith(
        f"Webhook of <b>Math 101</b> (course id {course_id}) set to "
        "<code>https://lms.example.org/attn</code>. Its signing secret is shown only now"
    )
    found = SECRET_RE.search(made)
    assert found, made
    [row] = await stored_tables.rows("course_webhooks")
    assert (row["course_id"], row["url"], row["secret"]) == (
        course_id,
        "https://lms.example.org/attn",
        found[1],
    )

    [status] = await bot.send(TEACHER_ID, "/webhook")
    assert status.startswith(
        f"<b>Webhook of Math 101</b> (course id {course_id})\n"
        "<code>https://lms.example.org/attn</code>\n"
        "Delivered 0 · waiting 0 · failed 0"
    )
    [*_, message] = [m for m in bot.request.api.chat_messages(TEACHER_ID) if "reply_markup" in m]
    rows = message["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in rows for b in row] == [
        f"wh:t:{course_id}",
        f"wh:x:{course_id}",
    ]

    # A receiver that is down (plain http to this machine: ATTN_WEBHOOK_ALLOW_PRIVATE): the test
    # event says what went wrong.
    port = free_port()
    [again] = await bot.send(TEACHER_ID, f"/webhook http://127.0.0.1:{port}/hook")
    second = SECRET_RE.search(again)
    assert second and second[1] != found[1]  # a new URL, a new secret
    await bot.press(TEACHER_ID, f"wh:t:{course_id}")
    assert bot.request.texts(TEACHER_ID)[-1] == "Test event not delivered: ConnectError."

    await bot.press(TEACHER_ID, f"wh:x:{course_id}")
    assert alerts(bot)[-1] == "Webhook removed: nothing more is sent."
    assert await stored_tables.rows("course_webhooks") == []
    await bot.press(TEACHER_ID, f"wh:x:{course_id}")  # a double tap
    assert alerts(bot)[-1] == "This course has no webhook any more."
    [none] = await bot.send(TEACHER_ID, "/webhook off")
    assert none == "<b>Math 101</b> has no webhook."

    audit = sorted(await stored_tables.rows("course_audit"), key=lambda r: r["id"])
    assert [(r["action"], r["old_value"], r["new_value"]) for r in audit] == [
        ("webhook_set", None, "https://lms.example.org/attn"),
        ("webhook_set", "https://lms.example.org/attn", f"http://127.0.0.1:{port}/hook"),
        ("webhook_clear", f"http://127.0.0.1:{port}/hook", None),
    ]


async def test_only_the_owner_sets_the_webhook(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    course_id, _ = await new_course(bot)
    await join_staff(bot, course_id)
    [refused] = await say(bot, CO, "/webhook Math 101 https://evil.example.org/")
    assert refused.startswith("A co-teacher cannot do that")
    [refused] = await say(bot, ANN, "/webhook https://evil.example.org/")
    assert "Only teachers" in refused
    await bot.press(CO, f"wh:x:{course_id}")
    await bot.press(ANN, f"wh:t:{course_id}")
    assert await stored_tables.rows("course_webhooks") == []
    [made] = await bot.send(TEACHER_ID, "/webhook https://lms.example.org/attn")
    assert "set to" in made
    await bot.press(CO, f"wh:x:{course_id}")
    assert "A co-teacher cannot do that" in alerts(bot)[-1]
    assert len(await stored_tables.rows("course_webhooks")) == 1

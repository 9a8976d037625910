"""/api_tokens through the bot: the owner makes a read and a read-and-write token (each shown
once, stored only as its hash, audited), lists and revokes them; a co-teacher, an assistant,
another teacher and a student are refused and change nothing; an admin manages any course
named by its join code."""

from __future__ import annotations

import hashlib
import re

from tests.bot.test_course_lifecycle import make_teacher
from tests.bot.test_course_staff import CO, OTHER, join_staff, new_course, say
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables

ANN = 5001
TOKEN_RE = re.compile(r"<tg-spoiler><code>(attn_[A-Za-z0-9_-]{43})</code></tg-spoiler>")


def alerts(bot: BotHarness) -> list[str]:
    return [
        c.params.get("text", "") for c in bot.request.calls if c.method == "answerCallbackQuery"
    ]


def edited(bot: BotHarness) -> str:
    return [c.params["text"] for c in bot.request.calls if c.method == "editMessageText"][-1]


async def new_token(bot: BotHarness, user: int, course_id: int, letter: str) -> str:
    await bot.press(user, f"ak:n:{course_id}:{letter}")
    shown = bot.request.texts(user)[-1]
    found = TOKEN_RE.search(shown)
    assert found, shown
    return found[1]


async def test_the_owner_makes_lists_and_revokes_tokens(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    course_id, _ = await new_course(bot)
    [listing] = await bot.send(TEACHER_ID, "/api_tokens")
    assert listing.startswith(f"<b>API tokens of Math 101</b> (course id {course_id})")
    assert "No tokens yet." in listing

    read = await new_token(bot, TEACHER_ID, course_id, "r")
    shown = bot.request.texts(TEACHER_ID)[-1]
    assert shown.startswith(f"New read token for <b>Math 101</b> (course id {course_id})")
    write = await new_token(bot, TEACHER_ID, course_id, "w")
    assert "New read and write token" in bot.request.texts(TEACHER_ID)[-1]
    assert read != write

    # Stored: the hash, never the token; the label is the token's first characters.
    rows = sorted(await stored_tables.rows("api_tokens"), key=lambda r: r["id"])
    assert [(r["scope"], r["label"], r["token_hash"]) for r in rows] == [
        ("read", read[:11] + "…", hashlib.sha256(read.encode()).hexdigest()),
        ("read_write", write[:11] + "…", hashlib.sha256(write.encode()).hexdigest()),
    ]
    for table in await stored_tables.names():
        for row in await stored_tables.rows(table):
            assert not any(read in str(v) or write in str(v) for v in row.values()), table

    [listing] = await bot.send(TEACHER_ID, "/api_tokens Math 101")
    assert f"<code>{read[:11]}…</code> — read\n  made " in listing
    assert f"<code>{write[:11]}…</code> — read and write\n  made " in listing
    assert listing.count("last used never") == 2

    await bot.press(TEACHER_ID, f"ak:x:{course_id}:{rows[0]['id']}")
    assert alerts(bot)[-1] == f"Token {read[:11]}… revoked: it no longer works."
    after = edited(bot)
    assert read[:11] not in after and write[:11] in after
    await bot.press(TEACHER_ID, f"ak:x:{course_id}:{rows[0]['id']}")  # a double tap
    assert alerts(bot)[-1] == "Already revoked."

    audit = sorted(await stored_tables.rows("course_audit"), key=lambda r: r["id"])
    assert [(r["action"], r["changed_by"]) for r in audit] == [
        ("api_token_new", TEACHER_ID),
        ("api_token_new", TEACHER_ID),
        ("api_token_revoke", TEACHER_ID),
    ]
    assert audit[-1]["old_value"] == f"{rows[0]['id']} read {read[:11]}…"


async def test_only_the_owner_or_an_admin_manages_tokens(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    course_id, code = await new_course(bot)
    await join_staff(bot, course_id)
    [refused] = await say(bot, CO, "/api_tokens Math 101")
    assert refused.startswith("A co-teacher cannot do that")
    [refused] = await say(bot, ANN, "/api_tokens")
    assert "Only teachers" in refused
    await make_teacher(bot, OTHER)
    for user in (CO, OTHER, ANN):
        await bot.press(user, f"ak:n:{course_id}:w")
    assert await stored_tables.rows("api_tokens") == []
    assert "A co-teacher cannot do that" in alerts(bot)[-3]
    assert "isn't yours" in alerts(bot)[-2] and "Only teachers" in alerts(bot)[-1]

    # An admin names any course by its join code.
    [hint] = await say(bot, ADMIN_ID, "/api_tokens")
    assert hint == "As an admin, name any course by its join code: /api_tokens CODE"
    [listing] = await say(bot, ADMIN_ID, f"/api_tokens {code}")
    assert listing.startswith("<b>API tokens of Math 101</b>")
    token = await new_token(bot, ADMIN_ID, course_id, "r")
    [row] = await stored_tables.rows("api_tokens")
    assert (row["course_id"], row["created_by"]) == (course_id, ADMIN_ID)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()

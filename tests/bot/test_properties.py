"""Property-based: arbitrary text, commands, arguments and button data through every handler.

For every input: no exception escapes (nothing reaches the "something went wrong" reply),
every reply is valid Telegram HTML, and when the bot rejects the input nothing is written
(Redis keys other than the sender's own bookkeeping, and PostgreSQL, are unchanged).
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot import replies
from bot.handlers import REGISTRY
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.stored_tables import StoredTables

STUDENT = 51_515
COMMANDS = sorted({c.name for c in REGISTRY} | {"start", "frobnicate", "checkin@attn_test_bot"})
REJECTIONS = [
    replies.UNKNOWN_COMMAND,
    replies.NOT_A_TEACHER,
    replies.NOT_AN_ADMIN,
    replies.BAD_CODE_FORMAT,
    replies.BAD_BUTTON,
    replies.NO_OPEN_SESSION,
    replies.PLAIN_TEXT_HINT,
    replies.REGISTER_USAGE,
    replies.MARK_USAGE,
    replies.JOIN_USAGE,
    replies.COURSE_SETTINGS_USAGE,
    replies.REMOVE_TEACHER_USAGE,
    replies.UNEXPECTED_LOCATION,
    replies.NO_SUMMARY,
    "That code is not valid",
    "isn't valid",
    "must be",
    "too long",
    "No course has that code",
    "invite link is not valid",
    "8 letters and digits",
    "You have no course by that name",
    "No enrolled student matches",
    "no open session",
    "A name may only contain",
    "A name must be",
    "A student number may only",
    "The status must be",
    "I know no",
    "teacher invitation is not valid",
    "already have a course",
]
TABLES = [
    "courses",
    "enrolments",
    "sessions",
    "attendance",
    "attendance_audit",
    "teachers",
    "teacher_invites",
    "summary_outbox",
]

weird_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=0, max_size=300)
arguments = st.one_of(
    weird_text,
    st.lists(
        st.sampled_from(
            [
                "<b>",
                "&",
                "'",
                '"',
                "@x",
                "0",
                "999",
                "geo",
                "present",
                "late",
                "K7M2QX",
                "ZZZZ2222",
                "💥",
                "\u202e",
                "x" * 70,
                # Unicode digits pass str.isdigit() and crash int(); numbers at their bounds.
                "²",
                "٣",
                "rotate=²",
                "rotate=1",
                "rotate=3601",
                "241",
                "late",
                "warn",
                "101",
            ]
        ),
        max_size=5,
    ).map(" ".join),
)
message = st.one_of(
    st.tuples(st.sampled_from(COMMANDS), arguments).map(lambda t: f"/{t[0]} {t[1]}".rstrip()),
    weird_text.filter(lambda t: t.strip() != ""),
)
button = st.one_of(
    st.text(max_size=64),
    st.sampled_from(["ss:", "ss:1:10:", "ss:999999999999:999:x", "fg:yes", "fg:no", "fg:", ""]),
)


async def snapshot(
    redis: Redis, tables: StoredTables
) -> tuple[set[bytes], dict[str, int], set[tuple[object, ...]]]:
    keys = {
        k async for k in redis.scan_iter(count=1000) if not k.startswith((b"attn:u:", b"attn:seen"))
    }
    counts = {t: len(await tables.rows(t)) for t in TABLES}
    # A user's first message adds a row with their Telegram names (bookkeeping, like the
    # profile cache); what rejected input must never change is a registration.
    registered = {
        (row["id"], row["full_name"], row["student_number"])
        for row in await tables.rows("users")
        if row["full_name"] is not None or row["student_number"] is not None
    }
    return keys, counts, registered


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sender=st.sampled_from([STUDENT, TEACHER_ID, ADMIN_ID]),
    text=message,
    data=button,
    press=st.booleans(),
)
async def test_any_input_is_answered_safely(
    bot: BotHarness,
    clean_redis: Redis,
    stored_tables: StoredTables,
    sender: int,
    text: str,
    data: str,
    press: bool,
) -> None:
    before_state = await snapshot(clean_redis, stored_tables)
    before = len(bot.request.calls)
    if press:
        await bot.press(sender, data)
    else:
        await bot.send(sender, text[:4096])
    calls = bot.request.calls[before:]
    sent = [c.text for c in calls if c.method == "sendMessage"]
    for reply in sent:
        assert_valid_telegram_html(reply)
        assert replies.UNEXPECTED_ERROR not in reply, (text, data)
    answers = [c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery"]
    assert replies.UNEXPECTED_ERROR not in answers
    rejected = (press and replies.BAD_BUTTON in answers) or (
        sent and all(any(r in reply for r in REJECTIONS) for reply in sent)
    )
    event("rejected" if rejected else "accepted or asked for more")
    await bot.services.users.settle()
    if rejected:
        assert await snapshot(clean_redis, stored_tables) == before_state, (text, data, sent)
    # Leave no open session or pending question behind for the next example.
    if await bot.services.sessions.open_session(TEACHER_ID):
        await bot.services.sessions.end_session(TEACHER_ID)
    if await bot.services.sessions.open_session(ADMIN_ID):
        await bot.services.sessions.end_session(ADMIN_ID)

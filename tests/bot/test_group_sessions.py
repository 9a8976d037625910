"""Sessions started in groups, and every personal answer to a command sent in a group.

A group is read by everyone in it: nothing the bot writes there may carry a code, a student
number, a name with an attendance, or a file. These tests send every personal command from a
group and then read every call the bot made to the group.
"""

from __future__ import annotations

import json
import re

from bot.notifier import TelegramNotifier
from services.clock import ManualClock
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.telegram import ApiCall

GROUP = -100_777
BOT = "attn_test_bot"
STUDENTS = {81: ("Marie Curie", "S81001"), 82: ("Rosalind Franklin", "S82002")}
OUTSIDER = 83  # never opened the bot


def group_calls(bot: BotHarness) -> list[ApiCall]:
    return [c for c in bot.request.calls if str(c.params.get("chat_id")) == str(GROUP)]


def private_texts(bot: BotHarness, user_id: int, since: int = 0) -> list[str]:
    return [
        c.text
        for c in bot.request.calls[since:]
        if c.method in ("sendMessage", "sendPhoto") and c.params.get("chat_id") == user_id
    ]


def buttons(call: ApiCall) -> list[dict[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def assert_nothing_personal(calls: list[ApiCall], secrets: list[str]) -> None:
    """Every message, caption, button and file sent to the group: none carries a secret."""
    for call in calls:
        assert call.method not in ("sendPhoto", "sendDocument", "editMessageMedia"), call
        visible = json.dumps(
            {k: v for k, v in call.params.items() if k != "_files"}, ensure_ascii=False
        )
        for secret in secrets:
            assert secret not in visible, (secret, call)


async def in_group(bot: BotHarness, user_id: int, text: str) -> int:
    """Send `text` in the group (commands addressed to the bot, as privacy mode requires)."""
    before = len(bot.request.calls)
    command, _, rest = text.partition(" ")
    await bot.send(user_id, f"{command}@{BOT} {rest}".strip(), chat_id=GROUP, chat_type="group")
    return before


async def test_group_session_and_every_personal_command_stay_private(
    bot: BotHarness, clock: ManualClock
) -> None:
    [created] = await bot.send(TEACHER_ID, "/new_course Chem")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join
    for student, (name, number) in STUDENTS.items():
        await bot.send(student, f"/join {join[1]}")
        await bot.send(student, f"{name} {number}")

    # The teacher starts in the group: a code-less card there, the code card privately.
    since = await in_group(bot, TEACHER_ID, "/start_session Chem 20 Seminar")
    [card] = [c for c in group_calls(bot) if c.method == "sendMessage"]
    [code_card] = [
        c
        for c in bot.request.calls[since:]
        if c.method == "sendPhoto" and c.params["chat_id"] == TEACHER_ID
    ]
    code = re.search(r"<code>([A-Z0-9]{6})</code>", code_card.text)
    assert code, code_card.text
    assert code_card.params["_files"]["photo"][1].startswith(b"\x89PNG")
    assert {"End now", "+5 min", "Who is missing", "Show list"} <= {
        b["text"] for b in buttons(code_card)
    }
    assert "checked in" in card.text and code[1] not in card.text

    # Sending /start_session again in the group: the "already open (code …)" goes privately.
    since = await in_group(bot, TEACHER_ID, "/start_session Chem")
    [again] = private_texts(bot, TEACHER_ID, since)
    assert "already have an open session" in again and code[1] in again

    # A student checks in from the group: the answer (with advice) privately.
    since = await in_group(bot, 81, f"/checkin {code[1]}")
    [checked] = private_texts(bot, 81, since)
    assert "Checked in to" in checked and "not in the group" in checked

    # Personal commands from the group: answered privately, whatever they carry.
    since = await in_group(bot, 82, "/mydata")
    [mine] = private_texts(bot, 82, since)
    assert "S82002" in mine and "Chem" in mine
    since = await in_group(bot, 81, "/history")
    assert "Chem" in private_texts(bot, 81, since)[0]
    since = await in_group(bot, TEACHER_ID, "/courses")
    assert join[1] in private_texts(bot, TEACHER_ID, since)[0]
    since = await in_group(bot, TEACHER_ID, "/mark Rosalind late")
    assert "Rosalind Franklin" in private_texts(bot, TEACHER_ID, since)[0]
    since = await in_group(bot, TEACHER_ID, "/extend 5")
    assert "now runs until" in private_texts(bot, TEACHER_ID, since)[0]

    # "Who is missing" pressed on the group's card: the names go to the teacher privately.
    data = {b["text"]: b.get("callback_data") for b in buttons(card)}
    since = len(bot.request.calls)
    await bot.press(TEACHER_ID, str(data["Who is missing"]), chat_id=GROUP)
    [missing] = private_texts(bot, TEACHER_ID, since)
    assert "Rosalind Franklin" in missing and "Marie Curie" not in missing
    await bot.press(TEACHER_ID, str(data["Show list"]), chat_id=GROUP)

    # The report: table, spreadsheet and chart, all privately.
    since = await in_group(bot, TEACHER_ID, "/report Chem")
    files = [
        c.method
        for c in bot.request.calls[since:]
        if c.method in ("sendMessage", "sendDocument", "sendPhoto")
        and c.params["chat_id"] == TEACHER_ID
    ]
    assert files == ["sendMessage", "sendDocument", "sendDocument", "sendPhoto"]  # + gradebook

    await in_group(bot, TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    since = await in_group(bot, TEACHER_ID, "/summary")
    assert any("Summary" in t for t in private_texts(bot, TEACHER_ID, since))

    names = [part for name, _ in STUDENTS.values() for part in name.split()]
    numbers = [number for _, number in STUDENTS.values()]
    assert_nothing_personal(group_calls(bot), [code[1], join[1], *numbers, *names])
    # The group saw: its card (then its edits) and the deletion of the code-bearing post.
    assert {c.method for c in group_calls(bot)} <= {
        "sendMessage",
        "editMessageText",
        "deleteMessage",
    }
    assert len([c for c in group_calls(bot) if c.method == "sendMessage"]) == 1


async def test_someone_who_never_opened_the_bot_gets_one_line_with_a_link(
    bot: BotHarness, clock: ManualClock
) -> None:
    bot.request.never_started.update({OUTSIDER, ADMIN_ID})
    since = await in_group(bot, OUTSIDER, "/mydata")
    [pointer] = [c for c in bot.request.calls[since:] if c.params.get("chat_id") == GROUP]
    assert f"t.me/{BOT}?start=p" in pointer.text and "Telegram id" not in pointer.text
    assert "\n" not in pointer.text

    # A teacher (an admin here) who never opened the bot starts a session in the group: one
    # line with a link, no card, no code, and no session left open to block them.
    since = await in_group(bot, ADMIN_ID, "/start_session 10 Quiz")
    into_group = [c for c in bot.request.calls[since:] if c.params.get("chat_id") == GROUP]
    assert len(into_group) == 1 and f"t.me/{BOT}?start=p" in into_group[0].text
    assert await bot.services.sessions.open_session(ADMIN_ID) is None

    # They open the bot through the link, then start again: now it works.
    bot.request.never_started.discard(ADMIN_ID)
    [opened] = await bot.send(ADMIN_ID, "/start p")
    assert "send the command again" in opened
    since = await in_group(bot, ADMIN_ID, "/start_session 10 Quiz")
    session = await bot.services.sessions.open_session(ADMIN_ID)
    assert session is not None
    private = [
        c
        for c in bot.request.calls[since:]
        if c.method == "sendPhoto" and c.params["chat_id"] == ADMIN_ID
    ]
    assert len(private) == 1 and session.code in private[0].text
    assert_nothing_personal(group_calls(bot), [session.code])


async def test_course_buttons_asked_privately_card_still_in_the_group(
    bot: BotHarness, clock: ManualClock
) -> None:
    await bot.send(TEACHER_ID, "/new_course Chem")
    await bot.send(TEACHER_ID, "/new_course Bio")
    since = await in_group(bot, TEACHER_ID, "/start_session 30 Lab fixed")
    [question] = [
        c
        for c in bot.request.calls[since:]
        if c.method == "sendMessage" and c.text.startswith("Which")
    ]
    assert question.params["chat_id"] == TEACHER_ID and not group_calls(bot)
    data = {b["text"]: b["callback_data"] for b in buttons(question)}
    since = len(bot.request.calls)
    await bot.press(TEACHER_ID, data["Bio"])  # in the private chat, where the buttons are
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.course_name == "Bio" and session.title == "Lab"
    assert session.chat_id == GROUP and session.rotation_seconds == 0
    [card] = [c for c in group_calls(bot) if c.method == "sendMessage"]
    assert "checked in" in card.text
    [code_card] = [c for c in bot.request.calls[since:] if c.method == "sendPhoto"]
    assert code_card.params["chat_id"] == TEACHER_ID and session.code in code_card.text
    assert_nothing_personal(group_calls(bot), [session.code])


async def test_group_that_does_not_let_the_bot_post_gets_a_clear_answer_not_went_wrong(
    bot: BotHarness, clock: ManualClock
) -> None:
    """/start_session in a group where only admins may write (400 "not enough rights") or
    that removed the bot (403): the teacher used to get the code card, then "Sorry,
    something went wrong" while the session was open ("already open" on retry). Now the
    session runs with the private code card only (complete: students check in privately),
    and the teacher is told in one message why the group has no card."""
    from bot import replies

    await bot.send(TEACHER_ID, "/start")
    for code, description in (
        (400, "Bad Request: not enough rights to send text messages to the chat"),
        (403, "Forbidden: bot is not a member of the group chat"),
    ):
        bot.request.api.fail_next(
            "sendMessage", error_code=code, description=description, times=5, chat_id=GROUP
        )
        since = await in_group(bot, TEACHER_ID, "/start_session 60 Lab fixed")
        to_teacher = [
            c.text
            for c in bot.request.calls[since:]
            if c.status == 200 and c.params.get("chat_id") == TEACHER_ID
        ]
        assert all(replies.UNEXPECTED_ERROR not in t for t in to_teacher), to_teacher
        assert replies.GROUP_REFUSES_CARD in to_teacher, to_teacher
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None and session.card_message_id is None
        assert any(session.code in t for t in to_teacher)  # the code card, privately
        into_group = [
            c
            for c in bot.request.calls[since:]
            if str(c.params.get("chat_id")) == str(GROUP) and c.status == 200
        ]
        assert into_group == []

        # The session works: a student checks in privately, the teacher ends it.
        [checked] = await bot.send(81, f"/checkin {session.code}")
        assert "Checked in" in checked
        [ended] = await bot.send(TEACHER_ID, "/end_session")
        assert "closed" in ended
        clock.advance(minutes=1)
        await bot.services.sweeper.sweep_attendances()


async def test_group_card_that_fails_for_another_reason_leaves_a_running_session(
    bot: BotHarness, clock: ManualClock
) -> None:
    from bot import replies

    await bot.send(TEACHER_ID, "/start")
    bot.request.api.fail_next("sendMessage", error_code=502, times=10, chat_id=GROUP)
    since = await in_group(bot, TEACHER_ID, "/start_session 60 Lab fixed")
    to_teacher = [
        c.text
        for c in bot.request.calls[since:]
        if c.status == 200 and c.params.get("chat_id") == TEACHER_ID
    ]
    assert replies.GROUP_CARD_FAILED in to_teacher, to_teacher
    assert all(replies.UNEXPECTED_ERROR not in t for t in to_teacher)
    assert await bot.services.sessions.open_session(TEACHER_ID) is not None


async def test_thirty_students_checking_in_from_the_group_do_not_flood_it(
    bot: BotHarness, clock: ManualClock
) -> None:
    """First lesson: 30 students who never opened the bot type "/checkin@bot CODE" in the
    group. They used to get 30 "open @bot once, then send the command here again" lines
    (over Telegram's 20 a minute per group, and inviting them to post the code again). Now:
    one line per group in a short while, that does not ask for the code in the group; every
    check-in is recorded, and a student the bot can reach is still answered privately."""
    await bot.send(TEACHER_ID, "/start")
    await in_group(bot, TEACHER_ID, "/start_session 60 Lab fixed")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    students = list(range(300, 330))
    bot.request.never_started.update(students)
    since = len(bot.request.calls)
    for student in students:
        await in_group(bot, student, f"/checkin {session.code}")
    await bot.send(81, "/start")
    mark = await in_group(bot, 81, f"/checkin {session.code}")
    [confirmed] = private_texts(bot, 81, mark)
    assert "Checked in to" in confirmed

    to_group = [
        c
        for c in bot.request.calls[since:]
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(GROUP)
    ]
    assert len(to_group) == 1, [c.text for c in to_group]
    [pointer] = to_group
    assert f"t.me/{BOT}?start=p" in pointer.text and "here again" not in pointer.text
    assert "not in the group" in pointer.text
    assert set(await bot.services.live.checkins.checked_in(session.id)) == {*students, 81}
    assert_nothing_personal(group_calls(bot), [session.code])


async def test_student_who_replies_to_the_group_card_with_the_code_gets_an_answer(
    bot: BotHarness, clock: ManualClock
) -> None:
    """In a group the bot (privacy mode) receives replies to its own messages. A student
    answering the group card with the code as plain text used to get no answer at all (no
    check-in, and the code stayed in the group). Now it is a check-in from the group: the
    answer privately, the code's message deleted; a reply that is no code is left alone."""
    await bot.send(TEACHER_ID, "/start")
    await in_group(bot, TEACHER_ID, "/start_session 60 Lab fixed")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.card_message_id is not None
    await bot.send(81, "/start")  # the student can be written to privately
    since = len(bot.request.calls)
    await bot.send(
        81,
        session.code.lower(),
        chat_id=GROUP,
        chat_type="group",
        reply_to_message_id=session.card_message_id,
    )
    [answer] = private_texts(bot, 81, since)
    assert "Checked in to" in answer and "not in the group" in answer
    assert 81 in await bot.services.live.checkins.checked_in(session.id)
    deleted = [c for c in bot.request.calls[since:] if c.method == "deleteMessage"]
    assert len(deleted) == 1 and str(deleted[0].params["chat_id"]) == str(GROUP)

    # Someone who never opened the bot: the group's one pointer line, and still recorded.
    bot.request.never_started.update({OUTSIDER})
    since = len(bot.request.calls)
    await bot.send(
        OUTSIDER,
        session.code,
        chat_id=GROUP,
        chat_type="group",
        reply_to_message_id=session.card_message_id,
    )
    [pointer] = [
        c
        for c in bot.request.calls[since:]
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(GROUP)
    ]
    assert f"t.me/{BOT}?start=p" in pointer.text
    assert OUTSIDER in await bot.services.live.checkins.checked_in(session.id)

    # Chatter in reply to the card, or a code that replies to nothing: nothing happens.
    since = len(bot.request.calls)
    await bot.send(
        82, "thanks!", chat_id=GROUP, chat_type="group", reply_to_message_id=session.card_message_id
    )
    await bot.send(82, session.code, chat_id=GROUP, chat_type="group")
    assert bot.request.calls[since:] == [], [c.method for c in bot.request.calls[since:]]
    assert 82 not in await bot.services.live.checkins.checked_in(session.id)
    assert_nothing_personal(group_calls(bot), [session.code])


async def test_group_refusal_after_the_course_button_is_told_privately_too(
    bot: BotHarness, clock: ManualClock
) -> None:
    from bot import replies

    await bot.send(TEACHER_ID, "/new_course Chem")
    await bot.send(TEACHER_ID, "/new_course Bio")
    since = await in_group(bot, TEACHER_ID, "/start_session 30 Lab fixed")
    [question] = [c for c in bot.request.calls[since:] if c.method == "sendMessage"]
    data = {b["text"]: b["callback_data"] for b in buttons(question)}
    bot.request.api.fail_next(
        "sendMessage",
        error_code=403,
        description="Forbidden: bot was kicked from the group chat",
        chat_id=GROUP,
    )
    since = len(bot.request.calls)
    await bot.press(TEACHER_ID, data["Bio"])
    told = private_texts(bot, TEACHER_ID, since)
    assert replies.GROUP_REFUSES_CARD in told and replies.UNEXPECTED_ERROR not in told
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.course_name == "Bio"

"""/excuse end to end: a student asks with a photo, the teacher approves with one tap and the
record is `excused` in the summary, the report, the export and the audit; a declined one
stays absent; double taps, a second decider, forged buttons and repeated requests are each
answered with a short alert and change nothing; /cancel, /mydata and /forgetme follow."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.context import AttnContext
from bot.jobs import sweep_attendances_task
from bot.notifier import TelegramNotifier
from services.clock import ManualClock
from services.models import CourseRole, UserProfile
from services.timetable_slots import SlotRule
from tests.conftest import TEACHER_ID
from tests.fakes.test_bot_api_server import tiny_png
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.stored_tables import StoredTables

ADA, BOB = 81_001, 81_002


async def course_with(bot: BotHarness, name: str) -> None:
    [made] = await bot.send(TEACHER_ID, f"/new_course {name}")
    join = re.search(r"/join ([A-Z0-9]{8})", made)
    assert join, made
    for student, full_name in ((ADA, "Ada Lovelace 4711"), (BOB, "Bob Stone 4712")):
        await bot.send(student, f"/join {join[1]}")
        await bot.send(student, full_name)


async def saved_session(bot: BotHarness, clock: ManualClock, course: str) -> str:
    """A session of `course` nobody checked in to, ended, swept and summarised."""
    await bot.send(TEACHER_ID, f"/start_session {course} 30 Lecture 1")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    clock.advance(hours=1)
    return session.id


def last_markup(bot: BotHarness, user: int) -> tuple[int, dict[str, str]]:
    """The newest message with buttons in the user's chat: its id and {label: data}."""
    [*_, message] = [m for m in bot.request.api.chat_messages(user) if "reply_markup" in m]
    rows = message["reply_markup"]["inline_keyboard"]
    return int(message["message_id"]), {b["text"]: b["callback_data"] for r in rows for b in r}


def answers(bot: BotHarness, since: int) -> list[dict[str, Any]]:
    return [c.params for c in bot.request.calls[since:] if c.method == "answerCallbackQuery"]


async def ask(bot: BotHarness, student: int, session_id: str) -> None:
    """/excuse, then the session's button: the reason is asked for."""
    await bot.send(student, "/excuse")
    message_id, buttons = last_markup(bot, student)
    [data] = [d for d in buttons.values() if d == f"ex:s:{session_id}"]
    await bot.press(student, data, message_id=message_id)


async def attendance_of(tables: StoredTables, session_id: str) -> dict[int, str]:
    return {
        r["student_id"]: r["status"]
        for r in await tables.rows("attendance")
        if r["session_id"] == session_id
    }


async def test_an_excuse_with_a_photo_is_approved_with_one_tap(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    await course_with(bot, "Biology")
    session_id = await saved_session(bot, clock, "Biology")
    assert await attendance_of(stored_tables, session_id) == {ADA: "absent", BOB: "absent"}

    # Ada: /excuse (one course: straight to its sessions), the session, then a photo whose
    # caption is the reason (HTML in it is shown as typed).
    [question] = await bot.send(ADA, "/excuse")
    assert "<b>Biology</b>: which session?" in question
    await ask(bot, ADA, session_id)
    prompt = bot.request.api.chat_messages(ADA)[-1]["text"]
    assert "Why did you miss Lecture 1" in prompt and "/cancel" in prompt
    reason = "Flu <b>& fever</b>, note attached"
    await bot.send_media(ADA, tiny_png(40, 30), caption=reason)
    assert "went to your teacher" in bot.request.texts(ADA)[-1]
    photo_call = [c for c in bot.request.sent(TEACHER_ID) if c.method == "sendPhoto"][-1]
    ada_photo = bot.request.api.chat_messages(ADA)
    file_id = next(m["photo"][-1]["file_id"] for m in ada_photo if "photo" in m)
    assert photo_call.params["photo"] == file_id  # the file stays in Telegram: sent by id
    caption = str(photo_call.params["caption"])
    assert_valid_telegram_html(caption)
    assert "Flu &lt;b&gt;&amp; fever&lt;/b&gt;, note attached" in caption
    assert "Ada Lovelace" in caption and "Biology" in caption
    [request] = await stored_tables.rows("excuse_requests")
    assert (request["student_id"], request["file_id"], request["file_kind"]) == (
        ADA,
        file_id,
        "photo",
    )
    assert (request["reason"], request["state"]) == (reason, "pending")

    # One tap: excused, audited as the teacher's correction, the student told.
    card_id, buttons = last_markup(bot, TEACHER_ID)
    assert set(buttons) == {"✅ Approve", "✖️ Decline"}
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, buttons["✅ Approve"], message_id=card_id)
    assert answers(bot, before)[0]["text"] == "Approved: Ada Lovelace is excused."
    assert await attendance_of(stored_tables, session_id) == {ADA: "excused", BOB: "absent"}
    audit = [
        r for r in await stored_tables.rows("attendance_audit") if r["session_id"] == session_id
    ]
    assert [
        (r["student_id"], r["changed_by"], r["old_status"], r["new_status"]) for r in audit
    ] == [(ADA, TEACHER_ID, "absent", "excused")]
    [decided] = await stored_tables.rows("excuse_requests")
    assert (decided["state"], decided["decided_by"]) == ("approved", TEACHER_ID)
    told = bot.request.texts(ADA)[-1]
    assert "was approved: you are excused" in told
    card = next(m for m in bot.request.api.chat_messages(TEACHER_ID) if m["message_id"] == card_id)
    assert "Approved by" in card["caption"] and "reply_markup" not in card

    # A double tap: a short alert, no second record.
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, buttons["✅ Approve"], message_id=card_id)
    [alert] = answers(bot, before)
    assert alert["text"] == "This request was approved already." and alert["show_alert"]
    assert len(await stored_tables.rows("attendance_audit")) == 1

    # Summary, report, export: excused everywhere.
    before = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/summary")
    summary = [c for c in bot.request.calls[before:] if c.method == "sendMessage"]
    assert any("Absent 1 · Excused 1" in str(c.params.get("text")) for c in summary), summary
    [csv_name, csv_bytes] = bot.request.files(TEACHER_ID)[-1]
    assert csv_name.endswith(".csv") and b"Ada Lovelace" in csv_bytes and b"excused" in csv_bytes
    [table] = [t for t in await bot.send(TEACHER_ID, "/report") if "<pre>" in t]
    assert re.search(r"\n100% .*\b0 0 1 0 Ada Lovelace", table), table
    assert re.search(r"\n +0% .*\b0 0 0 1 Bob Stone", table), table
    exported = {
        r.student_id: r.status.value for r in await bot.services.exports.session_rows(session_id)
    }
    assert exported == {ADA: "excused", BOB: "absent"}

    # The same session again: already excused, refused with a short alert.
    [nothing] = await bot.send(ADA, "/excuse")
    assert "there is nothing to excuse" in nothing
    message_id, _ = last_markup(bot, ADA)  # an old chooser still showing the session
    before = len(bot.request.calls)
    await bot.press(ADA, f"ex:s:{session_id}", message_id=message_id)
    [refused] = answers(bot, before)
    assert refused["text"] == "You are already excused from that session." and refused["show_alert"]

    # /mydata shows the request; /forgetme deletes it (the excused record stays, pseudonymised).
    [mine] = await bot.send(ADA, "/mydata")
    assert "Excuse requests: 1" in mine
    await bot.send(ADA, "/forgetme")
    message_id, buttons = last_markup(bot, ADA)
    await bot.press(ADA, "fg:yes", message_id=message_id)
    assert await stored_tables.rows("excuse_requests") == []
    statuses = sorted((await attendance_of(stored_tables, session_id)).values())
    assert statuses == ["absent", "excused"]


async def test_a_declined_excuse_stays_absent_and_each_mistake_is_answered(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    await course_with(bot, "Physics")
    session_id = await saved_session(bot, clock, "Physics")

    # Bob: a file that is neither a photo nor a PDF, a photo without a reason, then /cancel.
    await ask(bot, BOB, session_id)
    [wrong] = await bot.send_media(
        BOB, b"PK\x03\x04", kind="document", filename="a.docx", mime_type="application/msword"
    )
    assert "photo or a PDF only" in wrong
    [no_reason] = await bot.send_media(BOB, tiny_png(10, 10))
    assert "send the reason too" in no_reason
    [cancelled] = await bot.send(BOB, "/cancel")
    assert cancelled == "Cancelled. I'm not waiting for an answer any more."
    [hint] = await bot.send_media(BOB, tiny_png(10, 10), caption="late bus")
    assert "start with /excuse" in hint
    assert await stored_tables.rows("excuse_requests") == []

    # Too long, then as a PDF with the reason as its caption.
    await ask(bot, BOB, session_id)
    [too_long] = await bot.send(BOB, "x" * 501)
    assert "at most 500 characters" in too_long
    [sent] = await bot.send_media(
        BOB,
        b"%PDF-1.4 note",
        kind="document",
        filename="note.pdf",
        mime_type="application/pdf",
        caption="Bus strike",
    )
    assert "went to your teacher" in sent
    doc_call = [c for c in bot.request.sent(TEACHER_ID) if c.method == "sendDocument"][-1]
    assert "Bus strike" in str(doc_call.params["caption"])

    # A second request for the same session while the first waits: not offered, and a tap
    # on an older chooser is refused.
    [nothing] = await bot.send(BOB, "/excuse")
    assert "there is nothing to excuse" in nothing
    before = len(bot.request.calls)
    await bot.press(BOB, f"ex:s:{session_id}")
    [waiting] = answers(bot, before)
    assert (
        waiting["text"]
        == "Your excuse for that session is still waiting for your teacher's answer."
    )
    assert len(await stored_tables.rows("excuse_requests")) == 1

    # Someone else's tap (a student, a forged button): refused, nothing decided.
    card_id, buttons = last_markup(bot, TEACHER_ID)
    before = len(bot.request.calls)
    await bot.press(ADA, buttons["✖️ Decline"], message_id=None)
    [refusal] = answers(bot, before)
    assert refusal["show_alert"]
    assert (await stored_tables.rows("excuse_requests"))[0]["state"] == "pending"

    # Declined: the record stays absent, no audit row, the student told.
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, buttons["✖️ Decline"], message_id=card_id)
    assert answers(bot, before)[0]["text"] == "Declined: the record stays as it was."
    assert (await attendance_of(stored_tables, session_id))[BOB] == "absent"
    assert await stored_tables.rows("attendance_audit") == []
    assert "was declined" in bot.request.texts(BOB)[-1]
    # Approve after the decline: already decided, nothing changes.
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, buttons["✅ Approve"], message_id=card_id)
    assert answers(bot, before)[0]["text"] == "This request was declined already."
    assert (await attendance_of(stored_tables, session_id))[BOB] == "absent"


async def test_an_excuse_for_the_open_session_is_kept_when_it_is_saved(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """The open session is offered (for a student not checked in); approved while it is
    live, the sweep saves the student as excused, audited once."""
    await course_with(bot, "Chemistry")
    await bot.send(TEACHER_ID, "/start_session Chemistry 60 Lab")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    await bot.send(ADA, "/excuse")
    _, buttons = last_markup(bot, ADA)
    assert any(label.startswith("open now") for label in buttons), buttons
    await ask(bot, ADA, session.id)
    await bot.send(ADA, "Hospital appointment")
    assert "went to your teacher" in bot.request.texts(ADA)[-1]
    card_id, buttons = last_markup(bot, TEACHER_ID)
    await bot.press(TEACHER_ID, buttons["✅ Approve"], message_id=card_id)
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    assert await attendance_of(stored_tables, session.id) == {ADA: "excused", BOB: "absent"}
    audit = await stored_tables.rows("attendance_audit")
    assert [(r["student_id"], r["old_status"], r["new_status"]) for r in audit] == [
        (ADA, "absent", "excused")
    ]
    # /excuses: nothing waits any more.
    [none] = await bot.send(TEACHER_ID, "/excuses")
    assert none == "No excuse request is waiting for your answer."


async def test_every_one_who_may_mark_gets_it_and_the_first_tap_decides(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """With an assistant on the course both get the card; the assistant approves (the
    audit names them), the owner's tap afterwards is answered "approved already" and
    changes nothing. A student may not use /excuses."""
    assistant = 82_001
    await course_with(bot, "Latin")
    session_id = await saved_session(bot, clock, "Latin")
    [course] = await bot.services.courses.teacher_courses(TEACHER_ID)
    staff = bot.services.records.staff
    await staff.create_staff_invite(
        "hash-latin",
        course_id=course.id,
        role=CourseRole.ASSISTANT,
        created_by=TEACHER_ID,
        now=clock.now(),
        expires_at=clock.now() + timedelta(days=1),
    )
    used = await staff.use_staff_invite(
        "hash-latin", profile=UserProfile(assistant, "Asa"), now=clock.now()
    )
    assert used is not None
    await bot.send(assistant, "/start")  # opens the private chat with the bot

    await ask(bot, BOB, session_id)
    await bot.send(BOB, "Family emergency")
    owner_card, owner_buttons = last_markup(bot, TEACHER_ID)
    helper_card, helper_buttons = last_markup(bot, assistant)
    assert "Family emergency" in bot.request.texts(assistant)[-1]

    await bot.press(assistant, helper_buttons["✅ Approve"], message_id=helper_card)
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, owner_buttons["✅ Approve"], message_id=owner_card)
    [late] = answers(bot, before)
    assert late["text"] == "This request was approved already." and late["show_alert"]
    assert (await attendance_of(stored_tables, session_id))[BOB] == "excused"
    audit = await stored_tables.rows("attendance_audit")
    assert [(r["student_id"], r["changed_by"], r["new_status"]) for r in audit] == [
        (BOB, assistant, "excused")
    ]
    [refused] = await bot.send(ADA, "/excuses")
    assert "teacher" in refused.lower()


async def test_an_excuse_for_a_coming_class_is_applied_unless_the_student_checks_in(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """Coming timetable classes are offered; approved, nothing changes until the class's
    session is saved: then the student who stayed away is excused (audited as the teacher's
    correction, once, however often the job runs) and the one who came is recorded present."""
    await course_with(bot, "Greek")
    [course] = await bot.services.courses.teacher_courses(TEACHER_ID)
    # Wednesday 2026-09-02, 10:00-11:00 (the clock starts on Tuesday 09:00 UTC).
    await bot.services.timetables.add_slot(TEACHER_ID, course.id, SlotRule(2, time(10, 0), 60))
    starts = datetime(2026, 9, 2, 10, 0, tzinfo=UTC)
    coming = f"ex:t:{course.id}:{int(starts.timestamp())}"
    for student, reason in ((ADA, "Dentist"), (BOB, "Maybe late train")):
        await bot.send(student, "/excuse")
        message_id, buttons = last_markup(bot, student)
        [label] = [label for label, data in buttons.items() if data == coming]
        assert label.startswith("coming · ")
        await bot.press(student, coming, message_id=message_id)
        assert "Why will you miss" in bot.request.api.chat_messages(student)[-1]["text"]
        await bot.send(student, reason)
        card_id, decision = last_markup(bot, TEACHER_ID)
        before = len(bot.request.calls)
        await bot.press(TEACHER_ID, decision["✅ Approve"], message_id=card_id)
        assert "will be excused from that class unless they check in" in str(
            answers(bot, before)[0]["text"]
        )
        assert "you will be excused from that class" in bot.request.texts(student)[-1]
    assert await stored_tables.rows("attendance_audit") == []
    assert await bot.services.excuses.apply_premarks() == 0  # no session yet

    clock.advance(hours=25)  # Wednesday 10:00: the class opens by itself
    await bot.services.timetable_runs.run_due()
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.course_id == course.id
    [ok] = await bot.send(BOB, f"/checkin {session.code}")
    assert "Checked in" in ok or "checked in" in ok.lower()
    assert await bot.services.excuses.apply_premarks() == 0  # still live
    clock.advance(hours=1, minutes=1)
    await bot.services.sweeper.sweep_attendances()
    assert await bot.services.excuses.apply_premarks() == 1
    assert await bot.services.excuses.apply_premarks() == 0
    assert await attendance_of(stored_tables, session.id) == {ADA: "excused", BOB: "present"}
    audit = await stored_tables.rows("attendance_audit")
    assert [
        (r["session_id"], r["student_id"], r["changed_by"], r["new_status"]) for r in audit
    ] == [(session.id, ADA, TEACHER_ID, "excused")]
    requests = await stored_tables.rows("excuse_requests")
    assert {r["session_id"] for r in requests} == {session.id}


async def test_the_summary_of_a_coming_class_already_counts_its_approved_excuse(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """The sweep job applies the excuses approved in advance before the class's summary is
    read: the teacher's summary says excused, not absent."""
    await course_with(bot, "Greek")
    [course] = await bot.services.courses.teacher_courses(TEACHER_ID)
    await bot.services.timetables.add_slot(TEACHER_ID, course.id, SlotRule(2, time(10, 0), 60))
    starts = datetime(2026, 9, 2, 10, 0, tzinfo=UTC)
    coming = f"ex:t:{course.id}:{int(starts.timestamp())}"
    await bot.send(ADA, "/excuse")
    message_id, _ = last_markup(bot, ADA)
    await bot.press(ADA, coming, message_id=message_id)
    await bot.send(ADA, "Dentist")
    card_id, decision = last_markup(bot, TEACHER_ID)
    await bot.press(TEACHER_ID, decision["✅ Approve"], message_id=card_id)

    clock.advance(hours=25)
    await bot.services.timetable_runs.run_due()
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    await bot.send(BOB, f"/checkin {session.code}")
    clock.advance(hours=1, minutes=1)
    await sweep_attendances_task(AttnContext(bot.app))
    before = len(bot.request.calls)
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    sent = [str(c.params.get("text")) for c in bot.request.calls[before:]]
    assert any("Excused 1" in text for text in sent), sent
    assert await attendance_of(stored_tables, session.id) == {ADA: "excused", BOB: "present"}

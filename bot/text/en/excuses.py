"""Excuse requests: the student's /excuse, the teacher's Approve / Decline, /excuses."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "command.excuse.about": "ask to be excused from a session, with a reason and a document",
    "command.excuse.usage": "/excuse",
    "command.excuses.about": "excuse requests waiting for your answer",
    "command.excuses.usage": "/excuses",
    "excuse.choose_course": "Which course is the excuse for?",
    "excuse.no_courses": "You are not enrolled in any course yet: join one with /join first.",
    "excuse.choose_session": (
        "<b>{course}</b>: which session? Listed: the open one, and past ones where you were "
        "absent or late."
    ),
    "excuse.no_sessions": (
        "<b>{course}</b>: there is nothing to excuse. No session is open now, and you were not "
        "absent or late in a past one (or your requests are still waiting for an answer)."
    ),
    "excuse.session_button": "{status} · {when} · {title}",
    "excuse.open_session": "open now",
    "excuse.coming_session": "coming",
    "excuse.ask_reason_coming": (
        "Why will you miss <b>{title}</b> ({when})? Send the reason in one message (at most "
        "{limit} characters). To add a document, send a photo or a PDF with the reason as "
        "its caption."
    ),
    "excuse.premarked_notice": (
        "✅ Your excuse for <b>{title}</b> ({when}, {course}) was approved: you will be "
        "excused from that class. If you come after all, check in as usual."
    ),
    "excuse.alert.premarked": (
        "Approved: {name} will be excused from that class unless they check in."
    ),
    "excuse.ask_reason": (
        "Why did you miss <b>{title}</b> ({when})? Send the reason in one message (at most "
        "{limit} characters). To add a document, send a photo or a PDF with the reason as "
        "its caption."
    ),
    "excuse.sent": (
        "Your excuse for <b>{title}</b> ({when}) went to your teacher. I will tell you "
        "their answer."
    ),
    "excuse.sent_later": (
        "Your excuse for <b>{title}</b> ({when}) is saved, but I cannot write to your "
        "teacher yet. They will see it with /excuses; I will tell you their answer."
    ),
    "excuse.need_caption": (
        "Please send the reason too: as the caption of the photo or PDF, or as a text message."
    ),
    "excuse.wrong_file": (
        "I take a photo or a PDF only. Send the reason as text, or a photo or PDF with the "
        "reason as its caption."
    ),
    "excuse.too_long": "That is too long: at most {limit} characters, please. Send it again.",
    "excuse.no_prompt": "To send a document with an excuse, start with /excuse.",
    "excuse.refused.excused": "You are already excused from that session.",
    "excuse.refused.pending": (
        "Your excuse for that session is still waiting for your teacher's answer."
    ),
    "excuse.refused.present": "You attended that session: there is nothing to excuse.",
    "excuse.refused.unknown": "That is not a session of your courses I can take an excuse for.",
    "excuse.approved_notice": (
        "✅ Your excuse for <b>{title}</b> ({when}, {course}) was approved: you are excused."
    ),
    "excuse.declined_notice": (
        "Your excuse for <b>{title}</b> ({when}, {course}) was declined: your record stays "
        "as it was."
    ),
    "excuse.card": (
        "📝 <b>Excuse request</b> from {student}\n"
        "<b>{course}</b> · {title} ({when})\n"
        "Reason: {reason}"
    ),
    "excuse.card_approved": "✅ Approved by {name}.",
    "excuse.card_declined": "✖️ Declined by {name}.",
    "excuse.button.approve": "✅ Approve",
    "excuse.button.decline": "✖️ Decline",
    "excuse.alert.approved": "Approved: {name} is excused.",
    "excuse.alert.declined": "Declined: the record stays as it was.",
    "excuse.alert.already_approved": "This request was approved already.",
    "excuse.alert.already_declined": "This request was declined already.",
    "excuse.alert.already_excused": "Approved. The record was excused already: nothing changed.",
    "excuse.alert.not_yours": "Only the course's teachers and assistants can decide this request.",
    "excuse.alert.gone": "This request no longer exists.",
    "excuse.none_waiting": "No excuse request is waiting for your answer.",
    "excuse.waiting": Plural(
        one="{count} excuse request is waiting for your answer:",
        other="{count} excuse requests are waiting for your answer:",
    ),
    "excuse.mydata": Plural(
        one="Excuse requests: {count} (reason and the document's Telegram file id)",
        other="Excuse requests: {count} (reasons and the documents' Telegram file ids)",
    ),
}

"""Replies about excuse requests: the student's steps and notices, the teacher's card."""

from __future__ import annotations

from datetime import tzinfo

from bot.replies.courses import status_word
from bot.replies.format import fmt_datetime_in
from bot.replies.general import prompt
from bot.telegram_limits import CUT_MARK, MAX_CAPTION_LENGTH, visible_length
from bot.text import Text, join, t
from services.excuses import MAX_REASON_LENGTH, SLOT_PREFIX, ExcuseChoice, NotExcusable
from services.models import Course
from services.ports.excuses import ExcuseRequest, ExcuseState, ExcuseTarget


def when(target: ExcuseTarget, course: Course | None, tz: tzinfo) -> str:
    """The session's start, in its course's zone."""
    return fmt_datetime_in(target.started_at, course.time_zone if course else None, tz)


def session_button(choice: ExcuseChoice, tz: tzinfo) -> str:
    """A session's button: open now, or its status and start; then its title."""
    status: str
    if choice.live:
        status = t("excuse.open_session")
    elif choice.target.session_id.startswith(SLOT_PREFIX):
        status = t("excuse.coming_session")
    else:
        status = status_word_or_none(choice)
    started = fmt_datetime_in(choice.target.started_at, choice.time_zone, tz)
    return t(
        "excuse.session_button",
        status=status,
        when=started,
        title=choice.target.title[:40],
        html=False,
    )


def status_word_or_none(choice: ExcuseChoice) -> str:
    return status_word(choice.status) if choice.status else t("common.none", html=False)


def ask_reason(target: ExcuseTarget, course: Course | None, tz: tzinfo) -> Text:
    started = when(target, course, tz)
    if target.session_id.startswith(SLOT_PREFIX):
        text = t(
            "excuse.ask_reason_coming", title=target.title, when=started, limit=MAX_REASON_LENGTH
        )
    else:
        text = t("excuse.ask_reason", title=target.title, when=started, limit=MAX_REASON_LENGTH)
    return prompt(text)


def sent(request: ExcuseRequest, course: Course, tz: tzinfo, *, delivered: bool) -> Text:
    key = "excuse.sent" if delivered else "excuse.sent_later"
    return t(key, title=request.target.title, when=when(request.target, course, tz))


def refused(error: NotExcusable) -> Text:
    """Why that session cannot be asked about (`NotExcusable.why`)."""
    if error.why == "excused":
        return t("excuse.refused.excused")
    if error.why == "pending":
        return t("excuse.refused.pending")
    if error.why == "present":
        return t("excuse.refused.present")
    return t("excuse.refused.unknown")


def too_long() -> Text:
    return t("excuse.too_long", limit=MAX_REASON_LENGTH)


def decision_notice(request: ExcuseRequest, course: Course, tz: tzinfo) -> Text:
    """What the student is told once the teacher decided."""
    started = when(request.target, course, tz)
    title = request.target.title
    if request.state != ExcuseState.APPROVED:
        return t("excuse.declined_notice", title=title, when=started, course=course.name)
    if request.target.session_id.startswith(SLOT_PREFIX):
        return t("excuse.premarked_notice", title=title, when=started, course=course.name)
    return t("excuse.approved_notice", title=title, when=started, course=course.name)


def card(
    request: ExcuseRequest, course: Course, student: str, tz: tzinfo, decided_by: str | None = None
) -> Text:
    """The teacher's card, a caption when a document is attached: the reason is cut (never
    the rest) so that it fits Telegram's 1,024 characters."""
    outcome: list[Text] = []
    if decided_by is not None:
        key = (
            "excuse.card_approved"
            if request.state == ExcuseState.APPROVED
            else "excuse.card_declined"
        )
        outcome.append(t(key, name=decided_by))

    def render(reason: str) -> Text:
        text = t(
            "excuse.card",
            student=student,
            course=course.name,
            title=request.target.title,
            when=when(request.target, course, tz),
            reason=reason,
        )
        return join([text, *outcome], "\n\n")

    reason = request.reason
    text = render(reason)
    while visible_length(text) > MAX_CAPTION_LENGTH and reason:
        reason = reason[: max(0, len(reason) - (visible_length(text) - MAX_CAPTION_LENGTH) - 1)]
        text = render(reason + CUT_MARK)
    return text


def waiting(count: int) -> Text:
    if count == 0:
        return t("excuse.none_waiting")
    return t("excuse.waiting", count=count)


def mydata_line(count: int) -> Text:
    return t("excuse.mydata", count=count)

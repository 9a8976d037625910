"""Replies about check-ins: outcomes, codes, locations, private chats."""

from __future__ import annotations

from datetime import tzinfo

from bot.replies.format import fmt_time_in
from bot.replies.general import prompt
from bot.text import Text, t
from services.models import AttendanceStatus, CheckInOutcome, CheckInResult

SHARE_LOCATION_BUTTON = t("location.share_button", html=False)
ASK_TEACHER_LOCATION = t("location.ask_teacher")
ASK_TEACHER_LOCATION_AGAIN = prompt(t("location.ask_teacher_again"))
LOCATION_SET = t("location.set")
LOCATION_PROMPT_SENT = t("location.prompt_sent")
NOT_A_GEO_SESSION = t("location.not_a_geo_session")
WAITING_FOR_LOCATION = t("checkin.waiting_for_location")
CODE_LEAKED_TIP = t("checkin.code_leaked_tip")
CLASSROOM_LOCATION_MISSING = t("checkin.classroom_location_missing")

#: Outcomes whose reply names nothing but the outcome.
_FIXED = {
    CheckInOutcome.EXPIRED_CODE: "checkin.expired_code",
    CheckInOutcome.LOCKED_OUT: "checkin.locked_out",
    CheckInOutcome.LOCATION_REFUSED: "checkin.location_refused",
    CheckInOutcome.LOCATION_NOT_READY: "checkin.location_not_ready",
}
#: Outcomes whose reply names the session.
_TITLED = {
    CheckInOutcome.CLOSED: "checkin.closed",
    CheckInOutcome.NOT_ENROLLED: "checkin.not_enrolled",
    CheckInOutcome.NEEDS_LOCATION: "checkin.needs_location",
}


def check_in_result(result: CheckInResult, tz: tzinfo) -> Text:
    title = result.session_title or t("checkin.the_session")
    outcome = result.outcome
    if outcome is CheckInOutcome.RECORDED and result.checked_in_at:
        late = result.status is AttendanceStatus.LATE
        key = "checkin.recorded_late" if late else "checkin.recorded"
        return t(key, title=title, at=fmt_time_in(result.checked_in_at, result.time_zone, tz))
    if outcome is CheckInOutcome.DUPLICATE and result.checked_in_at:
        at = fmt_time_in(result.checked_in_at, result.time_zone, tz)
        return t("checkin.duplicate", title=title, at=at)
    if outcome in _TITLED:
        return t(_TITLED[outcome], title=title)
    if outcome in _FIXED:
        return t(_FIXED[outcome])
    if outcome is CheckInOutcome.LOCATION_OUTSIDE:
        return t("checkin.location_outside", distance=result.distance_m, title=title)
    return t("checkin.invalid_code")


def open_bot_first(bot_username: str, payload: str) -> Text:
    """The one line a group gets when the sender has no private chat with the bot yet."""
    # Not "send it here again": a check-in from the group is recorded already, and codes
    # posted in the group are read by everyone.
    link = f"https://t.me/{bot_username}?start={payload}"
    return t("private.open_bot_first", link=link, bot=bot_username)


def location_not_ready_kept() -> Text:
    return t("checkin.location_not_ready_kept")

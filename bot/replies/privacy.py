"""Replies about privacy: what is stored, /mydata, /forgetme."""

from __future__ import annotations

from collections.abc import Sequence

from bot.replies.cards import card_heading
from bot.replies.format import fit_text
from bot.replies.staff import role_name
from bot.text import Named, Raw, Text, constants, join, t
from services.models import PersonalData, Session

#: Named texts, rendered when read (in the reader's language); (key, False): plain text.
CONSTANTS: dict[str, Named] = {
    "FORGET_CANCELLED": "forget.cancelled",
    "FORGET_CONFIRM": "forget.confirm",
    "FORGOTTEN": "forget.done",
    "FORGET_YES_BUTTON": ("forget.button.yes", False),
    "FORGET_NO_BUTTON": ("forget.button.no", False),
}
__getattr__ = constants(CONSTANTS)


def privacy_text(retention_days: int) -> Text:
    return t("privacy.text", days=retention_days)


def personal_data(data: PersonalData, places: Sequence[Text] = ()) -> Text:
    """Everything stored about the user; `places`: their claimed roster places."""
    profile = data.profile or data.cached_profile
    if (
        profile is None
        and not data.courses
        and not data.attendance_records
        and not data.staff_of
        and not data.excuse_requests
        and data.preferences is None
    ):
        return t("mydata.nothing")
    none = t("common.none")
    lines = [t("mydata.heading")]
    if profile is not None:
        lines.append(t("mydata.telegram_id", id=profile.user_id))
        telegram_name = " ".join(x for x in (profile.first_name, profile.last_name or "") if x)
        lines.append(t("mydata.telegram_name", name=telegram_name or none))
        if profile.username:
            lines.append(t("mydata.username", username=profile.username))
        lines.append(t("mydata.full_name", name=profile.full_name or none))
        lines.append(t("mydata.student_number", number=profile.student_number or none))
    lines.append(t("mydata.courses", courses=", ".join(data.courses) or none))
    lines.append(t("mydata.records", count=data.attendance_records))
    if data.staff_of:
        items = [
            t("staff.mydata_item", name=name, role=role_name(role)) for name, role in data.staff_of
        ]
        lines.append(t("staff.mydata", courses=Raw(", ".join(items))))
    if data.excuse_requests:
        lines.append(t("excuse.mydata", count=data.excuse_requests))
    lines.extend(places)
    if data.is_teacher:
        lines.append(t("mydata.teacher"))
    lines.extend(_settings_lines(data))
    return fit_text(join(lines))


def _settings_lines(data: PersonalData) -> list[Text]:
    """The language (chosen, and the Telegram app's: the cached profile is the fresher) and
    what /settings stored, if anything."""
    profiles = [p for p in (data.cached_profile, data.profile) if p is not None]
    chosen = next((p.language for p in profiles if p.language), None)
    app = next((p.language_code for p in profiles if p.language_code), None)
    lines: list[Text] = []
    if chosen:
        lines.append(t("mydata.language", name=t("language.name", language=chosen, html=False)))
    if app:
        lines.append(t("mydata.app_language", code=app))
    preferences = data.preferences
    if preferences is None:
        return lines
    lines.append(t("settings.nudges_on") if preferences.nudges else t("settings.nudges_off"))
    lines.append(t("settings.alerts_on") if preferences.alerts else t("settings.alerts_off"))
    if preferences.session_minutes is not None:
        lines.append(t("mydata.session_minutes", minutes=preferences.session_minutes))
    if preferences.rotation_seconds == 0:
        lines.append(t("mydata.rotation_fixed"))
    elif preferences.rotation_seconds is not None:
        lines.append(t("mydata.rotation_every", seconds=preferences.rotation_seconds))
    return lines


def forget_confirm(is_teacher: bool) -> Text:
    """The /forgetme question; a teacher is told what stays."""
    if not is_teacher:
        return t("forget.confirm")
    return join([t("forget.confirm"), t("forget.teacher_note")], "")


def forgotten(is_teacher: bool) -> Text:
    if not is_teacher:
        return t("forget.done")
    return join([t("forget.done"), t("forget.done_teacher_note")], "")


def forget_refused_open_session(session: Session) -> Text:
    """/forgetme while the user's own session is open: nothing is deleted yet."""
    return t("forget.open_session", heading=card_heading(session.course_name, session.title))

"""The Mini App's check-in, answered in the HTTP response instead of a Bot API message.

The same services and the same rules as the chat path (bot/checkins.py): the user is seen
(their profile registered, any lock-out for wrong codes read) as every update is; the code
is judged by the one atomic Redis step; a location-checked session binds the valid code to
the session while the location is fetched, exactly as the chat's "Share my location" prompt
does (the same pending action, so a rotation meanwhile does not refuse the student).
Only the words differ where the chat's would point at a chat button.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache

from bot import replies
from bot.checkins import binding_payload, parse_binding
from bot.container import Services
from bot.metrics import Metrics
from bot.prompts import PendingAction
from bot.text import Text, available_languages, pick_language, speaking, t
from bot.web.init_data import Refusal, WebAppUser
from services.codes import normalize_code
from services.errors import InvalidArgument
from services.models import CheckInOutcome, CheckInResult, UserProfile
from services.qr import decode_checkin_payload, decode_group_payload

RTL_LANGUAGES = frozenset({"fa", "ar", "he", "ur"})
# A scanned QR or a pasted link: the start parameter of a t.me link (`start` or `startapp`).
_LINK_PARAMETER = re.compile(r"[?&]start(?:app)?=([A-Za-z0-9_-]{1,64})")
_TAG = re.compile(r"<[^<>]+>")

# Outcomes whose chat wording points at a chat button: the Mini App says it its own way.
_WEB_WORDING = {
    CheckInOutcome.NEEDS_LOCATION: "miniapp.needs_location",
    CheckInOutcome.LOCATION_REFUSED: "miniapp.location_refused",
}

# Every text the page shows itself (the server's answers carry their own message).
PAGE_TEXTS = (
    "miniapp.title",
    "miniapp.code_label",
    "miniapp.code_hint",
    "miniapp.scan",
    "miniapp.scan_prompt",
    "miniapp.scan_not_ours",
    "miniapp.submit",
    "miniapp.sending",
    "miniapp.locating",
    "miniapp.location_denied",
    "miniapp.history",
    "miniapp.back",
    "miniapp.loading",
    "miniapp.network",
    "miniapp.not_a_code",
    "miniapp.refused.missing",
    "miniapp.refused.invalid",
    "miniapp.refused.expired",
)


@dataclass(frozen=True)
class Location:
    """Where the student's phone says it is, as the Mini App read it just now."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class WebAnswer:
    """A check-in's answer for the page: the outcome and its message in plain text."""

    result: CheckInResult
    message: str

    def as_json(self) -> dict[str, object]:
        result = self.result
        return {
            "outcome": result.outcome.value,
            "message": self.message,
            "session_title": result.session_title,
            "status": result.status.value if result.status else None,
            "checked_in_at": result.checked_in_at.isoformat() if result.checked_in_at else None,
            "location_required": result.outcome is CheckInOutcome.NEEDS_LOCATION,
            "distance_m": result.distance_m,
        }


@lru_cache(maxsize=1024)
def plain(text: Text) -> str:
    """A catalog text (Telegram HTML) as plain text for the page, which shows it with
    `textContent`: the tags go, the escaped values come back as they were typed. (Cached:
    a hall's confirmations are the same few texts, each checked in within the same minute.)"""
    return html.unescape(_TAG.sub("", text))


def code_and_session(text: str) -> tuple[str, str | None]:
    """(code, session id or None) from what the student typed, scanned or opened: a bare
    code, a check-in start parameter (`ci_<session>-<code>`), or a t.me link carrying one.

    A group card's parameter (`cg_<session>`) names no code: it gives an empty code.
    """
    text = text.strip()
    link = _LINK_PARAMETER.search(text)
    parameter = link[1] if link else text
    scanned = decode_checkin_payload(parameter)
    if scanned is not None:
        session_id, code = scanned
        return code, session_id
    if decode_group_payload(parameter) is not None:
        return "", None
    return text, None


def page_direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def page_texts(language: str) -> dict[str, str]:
    """The page's own texts in `language`, plain."""
    with speaking(language):
        return {key.removeprefix("miniapp."): plain(t(key)) for key in PAGE_TEXTS}


def refusal_message(reason: Refusal, language_code: str | None) -> str:
    """Why the page cannot act for this user, in the language their initData claims."""
    with speaking(pick_language(None, language_code)):
        return plain(t(f"miniapp.refused.{reason.value}"))


class MiniAppDesk:
    """What the Mini App's API does for one verified user; one instance per process."""

    def __init__(self, services: Services, metrics: Metrics, tz: tzinfo) -> None:
        self._services = services
        self._metrics = metrics
        self._tz = tz

    async def language(self, user: WebAppUser) -> str:
        """The language to answer in, after recording the visit: the profile is cached and
        registered as for any update (its registered name loaded back, a new user added to
        PostgreSQL in the background), and their own language choice read."""
        visit = await self._services.users.seen(_profile(user))
        return pick_language(visit.language, user.language_code)

    async def check_in(
        self, user: WebAppUser, code_text: str, location: Location | None
    ) -> WebAnswer:
        """Judge the code (and the location, when given); the answer in the user's language.

        Raises:
            InvalidArgument: the text cannot be a code (nothing is counted or recorded).
        """
        code, session_id = code_and_session(code_text)
        normalize_code(code)  # not a code at all: refused before any store is touched
        if location is None:
            # The visit and the check-in in one Redis step, as a chat /checkin takes them
            # (no update to claim: an HTTP request is answered once, by whoever got it).
            visit, arrived = await self._services.checkins.check_in_on_arrival(
                _profile(user), None, code, session_id
            )
            assert arrived is not None, "only a claimed update can be a duplicate"
            result = await self._bind_for_location(user.user_id, code, arrived)
        else:
            visit = await self._services.users.seen(_profile(user))
            result = await self._judge_location(
                user.user_id, code, session_id, location, visit.locked_until
            )
        language = pick_language(visit.language, user.language_code)
        self._metrics.checkin(result.outcome)
        with speaking(language):
            key = _WEB_WORDING.get(result.outcome)
            title = result.session_title or t("checkin.the_session")
            text = t(key, title=title) if key else replies.check_in_result(result, self._tz)
            return WebAnswer(result, plain(text))

    async def history(self, user: WebAppUser) -> dict[str, object]:
        """What /history shows the student: their standing in each course, as text and
        as numbers."""
        visit = await self._services.users.seen(_profile(user))
        lines = await self._services.reports.student_history(user.user_id)
        with speaking(pick_language(visit.language, user.language_code)):
            text = plain(replies.history_text(lines))
        courses = []
        for line in lines:
            standing = line.standing
            courses.append(
                {
                    "course": line.course.name,
                    "sessions": standing.sessions if standing else 0,
                    "present": standing.present if standing else 0,
                    "late": standing.late if standing else 0,
                    "excused": standing.excused if standing else 0,
                    "absent": standing.absent if standing else 0,
                    "percent": standing.percent if standing else None,
                }
            )
        return {"message": text, "courses": courses}

    async def _judge_code(
        self, student_id: int, code: str, session_id: str | None, locked_until: datetime | None
    ) -> CheckInResult:
        result = await self._services.checkins.check_in(student_id, code, locked_until, session_id)
        return await self._bind_for_location(student_id, code, result)

    async def _bind_for_location(
        self, student_id: int, code: str, result: CheckInResult
    ) -> CheckInResult:
        """As the chat's location prompt: a code found valid by a location-checked session
        is bound to it until the location arrives (from this page or from the chat's
        location button)."""
        if result.outcome is CheckInOutcome.NEEDS_LOCATION and result.session_id:
            payload = binding_payload(result.session_id, code, self._services.sessions.now())
            await self._services.users.expect_reply(student_id, PendingAction.GEO_CHECKIN, payload)
        return result

    async def _judge_location(
        self,
        student_id: int,
        code: str,
        session_id: str | None,
        location: Location,
        locked_until: datetime | None,
    ) -> CheckInResult:
        """A location with its code: the pending binding of that code if there is one (the
        page asked for the location after `needs_location`), else the code judged now."""
        users, checkins = self._services.users, self._services.checkins
        pending = await users.take_expected_reply(student_id, (PendingAction.GEO_CHECKIN,))
        binding = parse_binding(pending[1]) if pending else None
        if binding is not None and not _same_code(binding[1], code):
            binding = None
        if binding is None:
            first = await self._judge_code(student_id, code, session_id, locked_until)
            if first.outcome is not CheckInOutcome.NEEDS_LOCATION or first.session_id is None:
                return first
            pending = await users.take_expected_reply(student_id, (PendingAction.GEO_CHECKIN,))
            binding = parse_binding(pending[1]) if pending else None
            if binding is None:  # taken meanwhile by a location from the chat
                return first
        bound_session, bound_code, bound_at = binding
        payload = binding_payload(bound_session, bound_code, bound_at) if bound_at else ""
        result = await checkins.check_in_at(
            student_id,
            bound_session,
            bound_code,
            location.latitude,
            location.longitude,
            self._services.sessions.now(),
            False,  # read from the device just now: never a forwarded location
            locked_until,
            bound_at,
        )
        if payload and result.outcome in (
            CheckInOutcome.LOCATION_NOT_READY,
            CheckInOutcome.LOCATION_REFUSED,
        ):
            # Not the student's fault (or a bad reading): the binding stays, with its
            # original time, for the next try, as in the chat.
            await users.expect_reply(student_id, PendingAction.GEO_CHECKIN, payload)
        return result


def _same_code(bound: str, sent: str) -> bool:
    try:
        return normalize_code(bound) == normalize_code(sent)
    except InvalidArgument:
        return False


def _profile(user: WebAppUser) -> UserProfile:
    return UserProfile(
        user_id=user.user_id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


def known_language(language: str | None) -> str:
    """`language` if the catalog has it, else the installation's default (the page's
    texts before the user is known)."""
    return pick_language(language if language in available_languages() else None, language)

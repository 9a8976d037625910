"""How the live models are written into Redis hashes and read back (field names and value
formats are documented with their keys in `storage.redis.keys`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from redis.typing import EncodableT, FieldT

from services.clock import from_ms, to_ms
from services.models import AttendanceStatus, CheckIn, Session, SessionState, UserProfile
from storage.redis import keys


def text(value: Any) -> str:
    """A reply value as str (the client does not decode replies)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def pairs(flat: Sequence[Any]) -> dict[str, str]:
    """A flat [field, value, ...] reply (HGETALL inside Lua) as a dict."""
    return {text(flat[i]): text(flat[i + 1]) for i in range(0, len(flat), 2)}


def texts(fields: dict[Any, Any]) -> dict[str, str]:
    """An HGETALL reply as a dict of str."""
    return {text(k): text(v) for k, v in fields.items()}


def session_fields(session: Session) -> dict[FieldT, EncodableT]:
    return {
        "id": session.id,
        "teacher_id": str(session.teacher_id),
        "chat_id": str(session.chat_id),
        "title": session.title,
        "code": session.code,
        "started_at": str(to_ms(session.started_at)),
        "ends_at": str(to_ms(session.ends_at)),
        "late_at": str(to_ms(session.late_at)) if session.late_at else "",
        "course_id": str(session.course_id) if session.course_id is not None else "",
        "course_name": session.course_name or "",
        "tz": session.time_zone or "",
        "roster": "1" if session.has_roster else "",
        "roster_size": str(session.roster_size),
        "prev_code": "",
        "prev_until": "0",
        "geo": "1" if session.geo else "",
        "anchor": "",
        "rotation": str(session.rotation_seconds),
        "grace": str(session.grace_seconds),
        "code_since": str(to_ms(session.code_since or session.started_at)),
        "state": session.state.value,
        "lease": "",
        "lease_until": "0",
    }


def session_from(fields: dict[str, str]) -> Session:
    return Session(
        id=fields["id"],
        teacher_id=int(fields["teacher_id"]),
        chat_id=int(fields["chat_id"]),
        title=fields["title"],
        code=fields["code"],
        started_at=from_ms(fields["started_at"]),
        ends_at=from_ms(fields["ends_at"]),
        state=SessionState(fields["state"]),
        late_at=from_ms(fields["late_at"]) if fields.get("late_at") else None,
        course_id=int(fields["course_id"]) if fields.get("course_id") else None,
        course_name=fields.get("course_name") or None,
        time_zone=fields.get("tz") or None,
        roster_size=int(fields.get("roster_size") or 0),
        geo=fields.get("geo") == "1",
        anchor=anchor_from(fields.get("anchor", "")),
        rotation_seconds=int(fields.get("rotation") or 0),
        grace_seconds=int(fields.get("grace") or 0),
        code_since=from_ms(fields["code_since"]) if fields.get("code_since") else None,
        card_chat_id=int(fields["card_chat"]) if fields.get("card_chat") else None,
        card_message_id=int(fields["card_msg"]) if fields.get("card_msg") else None,
        code_card_chat_id=int(fields["code_card_chat"]) if fields.get("code_card_chat") else None,
        code_card_message_id=int(fields["code_card_msg"]) if fields.get("code_card_msg") else None,
        projector_generation=int(fields.get("projector_gen") or 0),
    )


@functools.lru_cache(maxsize=4096)
def checkin_keys(session_id: str) -> list[str]:
    """The check-in script's keys for a session (built once per session, not per check-in)."""
    return [
        keys.session(session_id),
        keys.session_checkins(session_id),
        keys.session_roster(session_id),
        keys.session_codes(session_id),
    ]


def anchor_from(value: str) -> tuple[float, float] | None:
    lat, _, lon = value.partition(",")
    return (float(lat), float(lon)) if lat and lon else None


def parse_checkin_value(value: str) -> tuple[int, bool]:
    """ "<ms><p|l>[ <metres>]" -> (time in ms, late)."""
    stamp = value.split(" ", 1)[0]
    return int(stamp[:-1]), stamp.endswith("l")


_PRESENT, _LATE = AttendanceStatus.PRESENT, AttendanceStatus.LATE


def checkin_from(session_id: str, student: str | bytes, value: str | bytes) -> CheckIn:
    """ "<ms><p|l>[ <metres>]" -> CheckIn, straight from the reply's bytes (sweeps parse
    thousands: no decoding, no datetime)."""
    if isinstance(value, str):
        value = value.encode()
    stamp, _, metres = value.partition(b" ")
    status = _LATE if stamp[-1:] == b"l" else _PRESENT
    return CheckIn(
        session_id, int(student), int(stamp[:-1]), status, int(metres) if metres else None
    )


def checkins_from(session_id: str, flat: Sequence[bytes]) -> list[CheckIn]:
    """A flat [student, value, ...] reply (HGETALL of a session's check-ins in Lua) as
    check-ins: `checkin_from` unrolled for the sweep, which reads a whole class at once."""
    make = tuple.__new__
    late = ord("l")
    items = iter(flat)
    return [
        make(
            CheckIn,
            (
                session_id,
                int(student),
                int(stamp[:-1]),
                _LATE if stamp[-1] == late else _PRESENT,
                int(metres) if metres else None,
            ),
        )
        for student, value in zip(items, items, strict=True)
        for stamp, _, metres in (value.partition(b" "),)
    ]


def profile_fields(profile: UserProfile) -> dict[FieldT, EncodableT]:
    return {
        "first_name": profile.first_name,
        "last_name": profile.last_name or "",
        "username": profile.username or "",
        "full_name": profile.full_name or "",
        "student_number": profile.student_number or "",
        "last_seen": str(to_ms(profile.last_seen)) if profile.last_seen else "0",
        "language_code": profile.language_code or "",
        "language": profile.language or "",
    }


def profile_from(user_id: int, fields: dict[str, str]) -> UserProfile:
    return UserProfile(
        user_id=user_id,
        first_name=fields.get("first_name", ""),
        last_name=fields.get("last_name") or None,
        username=fields.get("username") or None,
        full_name=fields.get("full_name") or None,
        student_number=fields.get("student_number") or None,
        last_seen=from_ms(fields["last_seen"]) if fields.get("last_seen", "0") != "0" else None,
        language_code=fields.get("language_code") or None,
        language=fields.get("language") or None,
    )

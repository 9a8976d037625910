"""In-memory stand-ins for the PostgreSQL store and the notifier, for fast unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.errors import StorageUnavailable
from services.models import (
    AttendanceLine,
    CheckIn,
    ExportRow,
    Session,
    SessionSummary,
    SummaryPart,
    SummaryProgress,
    UserProfile,
)


@dataclass
class InMemoryRecordStore:
    """Behaves like the stores in `storage/postgres/`: idempotent writes, leased outbox."""

    sessions: dict[str, Session] = field(default_factory=dict)
    attendance: dict[tuple[str, int], CheckIn] = field(default_factory=dict)
    users: dict[int, UserProfile] = field(default_factory=dict)
    outbox: dict[str, dict[str, datetime | None]] = field(default_factory=dict)
    enrolments: dict[int, set[int]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    unreachable: set[int] = field(default_factory=set)
    parts_sent: dict[str, set[SummaryPart]] = field(default_factory=dict)
    available: bool = True

    def _check(self) -> None:
        if not self.available:
            raise StorageUnavailable("PostgreSQL")

    async def persist_session(
        self, session: Session, checkins: Sequence[CheckIn]
    ) -> tuple[int, list[int]]:
        self._check()
        self.sessions.setdefault(session.id, session)
        new_users = [c.student_id for c in checkins if c.student_id not in self.users]
        for student in new_users:
            self.users[student] = UserProfile(student, "")
        added = 0
        for checkin in checkins:
            if (session.id, checkin.student_id) not in self.attendance:
                self.attendance[(session.id, checkin.student_id)] = checkin
                added += 1
        self.outbox.setdefault(session.id, {"claimed_until": None, "sent_at": None})
        return added, new_users

    async def upsert_profiles(self, profiles: Sequence[UserProfile]) -> None:
        self._check()
        for profile in profiles:
            old = self.users.get(profile.user_id)
            if old is not None:
                profile = replace(
                    profile,
                    full_name=profile.full_name or old.full_name,
                    student_number=profile.student_number or old.student_number,
                )
            self.users[profile.user_id] = profile

    async def load_profiles(self, user_ids: Sequence[int]) -> dict[int, UserProfile]:
        self._check()
        return {uid: self.users[uid] for uid in user_ids if uid in self.users}

    async def add_new_users(self, profiles: Sequence[UserProfile]) -> None:
        self._check()
        for profile in profiles:
            self.users.setdefault(profile.user_id, profile)

    async def load_profile(self, user_id: int) -> UserProfile | None:
        self._check()
        return self.users.get(user_id)

    async def save_registration(
        self, profile: UserProfile, *, full_name: str, student_number: str | None
    ) -> None:
        self._check()
        self.users[profile.user_id] = replace(
            profile, full_name=full_name, student_number=student_number
        )

    async def claim_pending_summaries(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[tuple[str, int]]:
        self._check()
        claimed = []
        for session_id, row in self.outbox.items():
            until, due = row["claimed_until"], row.get("next_attempt_at")
            if (
                row["sent_at"] is None
                and row.get("failed_at") is None
                and (until is None or until < now)
                and (due is None or due <= now)
            ):
                row["claimed_until"] = now + timedelta(seconds=lease_seconds)
                self.attempts[session_id] = self.attempts.get(session_id, 0) + 1
                claimed.append((session_id, self.attempts[session_id]))
            if len(claimed) == limit:
                break
        return claimed

    async def postpone_summary(self, session_id: str, at: datetime, error: str) -> None:
        self._check()
        self.outbox[session_id].update(claimed_until=None, next_attempt_at=at)

    async def give_up_summary(
        self, session_id: str, *, now: datetime, failure: str, error: str
    ) -> None:
        self._check()
        self.outbox[session_id].update(claimed_until=None, failed_at=now)
        self.failures[session_id] = failure

    async def give_up_unreachable(self, now: datetime) -> dict[str, int]:
        self._check()
        ended = 0
        for session_id, row in self.outbox.items():
            if (
                self.sessions[session_id].teacher_id in self.unreachable
                and row["sent_at"] is None
                and row.get("failed_at") is None
            ):
                row["failed_at"] = now
                self.failures[session_id] = "unreachable"
                ended += 1
        return {"summary": ended, "nudge": 0}

    async def set_unreachable(self, user_id: int, reason: str, now: datetime) -> None:
        self._check()
        self.unreachable.add(user_id)

    async def load_summary(self, session_id: str) -> SessionSummary | None:
        self._check()
        session = self.sessions.get(session_id)
        if session is None:
            return None
        lines = [
            AttendanceLine(
                c.student_id,
                self.users.get(c.student_id, UserProfile(c.student_id, "")).display_name,
                c.status,
                c.checked_in_at,
            )
            for (sid, _), c in self.attendance.items()
            if sid == session_id
        ]
        return SessionSummary(
            session.id,
            session.teacher_id,
            session.chat_id,
            session.title,
            session.started_at,
            session.ends_at,
            lines,
        )

    async def mark_summary_sent(self, session_id: str, now: datetime) -> None:
        self._check()
        if self.outbox[session_id]["sent_at"] is None:
            self.outbox[session_id]["sent_at"] = now

    async def extend_summary_lease(self, session_id: str, until: datetime) -> None:
        self._check()
        if self.outbox[session_id]["sent_at"] is None:
            self.outbox[session_id]["claimed_until"] = until

    async def release_summary(self, session_id: str) -> None:
        self._check()
        self.outbox[session_id]["claimed_until"] = None

    async def summary_parts_sent(self, session_id: str) -> frozenset[SummaryPart]:
        self._check()
        return frozenset(self.parts_sent.get(session_id, set()))

    async def mark_summary_part_sent(self, session_id: str, part: SummaryPart) -> None:
        self._check()
        self.parts_sent.setdefault(session_id, set()).add(part)

    async def export_rows(self, session_id: str | None) -> list[ExportRow]:
        self._check()
        return [
            ExportRow(
                sid,
                self.sessions[sid].title,
                self.sessions[sid].teacher_id,
                c.student_id,
                self.users.get(c.student_id, UserProfile(c.student_id, "")).display_name,
                c.checked_in_at,
                c.status,
            )
            for (sid, _), c in self.attendance.items()
            if session_id in (None, sid)
        ]

    async def roster(self, course_id: int) -> list[int]:
        self._check()
        return sorted(self.enrolments.get(course_id, set()))

    async def claim_pending_nudges(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[object]:
        self._check()
        return []


@dataclass
class RecordingNotifier:
    """Collects the summaries it is asked to send, part by part as the Telegram notifier
    sends them (text, card, CSV); can be told to fail, as a whole or at one part."""

    sent: list[SessionSummary] = field(default_factory=list)
    fail: bool = False
    #: Raised for these teachers only (e.g. a `DeliveryFailed` the bot layer would raise).
    errors: dict[int, Exception] = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)
    #: Raised, one per attempt and in order, when that part is reached.
    part_errors: dict[SummaryPart, list[Exception]] = field(default_factory=dict)
    #: Every part Telegram "took": (session id, part).
    parts: list[tuple[str, SummaryPart]] = field(default_factory=list)

    async def send_summary(
        self, summary: SessionSummary, progress: SummaryProgress | None = None
    ) -> None:
        self.attempts.append(summary.session_id)
        if self.fail:
            raise RuntimeError("Telegram unreachable")
        if summary.teacher_id in self.errors:
            raise self.errors[summary.teacher_id]
        for part in SummaryPart:
            if progress is not None and part in progress.done:
                continue
            if self.part_errors.get(part):
                raise self.part_errors[part].pop(0)
            self.parts.append((summary.session_id, part))
            if progress is not None:
                await progress.record(part)
        self.sent.append(summary)

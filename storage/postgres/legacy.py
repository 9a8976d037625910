"""A temporary whole-store facade over the narrow PostgreSQL stores (issue 11).

It keeps the one-object `RecordStore` shape for callers that still take it, delegating every
method to the store of its port. Delete it once every service takes its narrow ports and
`bot/bootstrap.py` hands them `postgres_record_stores(pool)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.models import (
    AttendanceStatus,
    CheckIn,
    Course,
    ExportRow,
    Nudge,
    PersonalData,
    Session,
    SessionSummary,
    StudentStanding,
    SummaryPart,
    UserProfile,
)
from storage.postgres import postgres_record_stores
from storage.postgres.health import PostgresPing


class WholePostgresRecordStore:
    """Every record port in one object, as `services.ports.legacy.RecordStore` wants it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._stores = postgres_record_stores(pool)
        self._ping = PostgresPing(pool)

    @property
    def pool(self) -> asyncpg.Pool:
        """The shared pool, for callers that still reach past the stores (bench, bootstrap)."""
        return self._pool

    async def ping(self) -> None:
        """Readiness, as `services.health.readiness` asks every backend."""
        await self._ping.ping()

    # --- sessions -----------------------------------------------------------------------------

    async def persist_session(
        self, session: Session, checkins: Sequence[CheckIn]
    ) -> tuple[int, list[int]]:
        return await self._stores.sessions.persist_session(session, checkins)

    async def persisted_session(self, session_id: str) -> Session | None:
        return await self._stores.sessions.persisted_session(session_id)

    async def latest_session(self, teacher_id: int) -> Session | None:
        return await self._stores.sessions.latest_session(teacher_id)

    # --- attendance ---------------------------------------------------------------------------

    async def course_standings(self, course_id: int) -> list[StudentStanding]:
        return await self._stores.attendance.course_standings(course_id)

    async def course_sessions(
        self, course_id: int
    ) -> list[tuple[str, str, datetime, int, int, int, int, int]]:
        return await self._stores.attendance.course_sessions(course_id)

    async def export_rows(self, session_id: str | None) -> list[ExportRow]:
        return await self._stores.attendance.export_rows(session_id)

    async def correct_status(
        self,
        session_id: str,
        student_id: int,
        status: AttendanceStatus,
        changed_by: int,
        now: datetime,
    ) -> AttendanceStatus | None:
        return await self._stores.attendance.correct_status(
            session_id, student_id, status, changed_by, now
        )

    async def audit_live_correction(
        self,
        session_id: str,
        student_id: int,
        changed_by: int,
        now: datetime,
        old: AttendanceStatus | None,
        new: AttendanceStatus,
    ) -> int:
        return await self._stores.attendance.audit_live_correction(
            session_id, student_id, changed_by, now, old, new
        )

    async def delete_audit(self, audit_id: int) -> None:
        return await self._stores.attendance.delete_audit(audit_id)

    # --- courses ------------------------------------------------------------------------------

    async def create_course(
        self, teacher_id: int, name: str, join_code: str, invite_token: str
    ) -> Course | None:
        return await self._stores.courses.create_course(teacher_id, name, join_code, invite_token)

    async def course_name_taken(self, teacher_id: int, name: str) -> bool:
        return await self._stores.courses.course_name_taken(teacher_id, name)

    async def course(self, course_id: int) -> Course | None:
        return await self._stores.courses.course(course_id)

    async def course_by_join_code(self, join_code: str) -> Course | None:
        return await self._stores.courses.course_by_join_code(join_code)

    async def course_by_invite(self, invite_token: str) -> Course | None:
        return await self._stores.courses.course_by_invite(invite_token)

    async def teacher_courses(self, teacher_id: int) -> list[Course]:
        return await self._stores.courses.teacher_courses(teacher_id)

    async def student_courses(self, student_id: int) -> list[Course]:
        return await self._stores.courses.student_courses(student_id)

    async def update_course_settings(
        self, course_id: int, late_after_minutes: int, warn_below_percent: int
    ) -> None:
        return await self._stores.courses.update_course_settings(
            course_id, late_after_minutes, warn_below_percent
        )

    async def enrol(self, course_id: int, profile: UserProfile) -> bool:
        return await self._stores.courses.enrol(course_id, profile)

    async def roster(self, course_id: int) -> list[int]:
        return await self._stores.courses.roster(course_id)

    async def roster_profiles(self, course_id: int) -> list[UserProfile]:
        return await self._stores.courses.roster_profiles(course_id)

    # --- summaries ----------------------------------------------------------------------------

    async def claim_pending_summaries(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[tuple[str, int]]:
        return await self._stores.summaries.claim_pending_summaries(now, lease_seconds, limit)

    async def claim_undelivered_summaries(
        self, teacher_id: int, now: datetime, lease_seconds: float
    ) -> list[str]:
        return await self._stores.summaries.claim_undelivered_summaries(
            teacher_id, now, lease_seconds
        )

    async def load_summary(self, session_id: str) -> SessionSummary | None:
        return await self._stores.summaries.load_summary(session_id)

    async def summary_parts_sent(self, session_id: str) -> frozenset[SummaryPart]:
        return await self._stores.summaries.summary_parts_sent(session_id)

    async def mark_summary_part_sent(self, session_id: str, part: SummaryPart) -> None:
        return await self._stores.summaries.mark_summary_part_sent(session_id, part)

    async def mark_summary_sent(self, session_id: str, now: datetime) -> None:
        return await self._stores.summaries.mark_summary_sent(session_id, now)

    async def extend_summary_lease(self, session_id: str, until: datetime) -> None:
        return await self._stores.summaries.extend_summary_lease(session_id, until)

    async def release_summary(self, session_id: str) -> None:
        return await self._stores.summaries.release_summary(session_id)

    async def postpone_summary(self, session_id: str, at: datetime, error: str) -> None:
        return await self._stores.summaries.postpone_summary(session_id, at, error)

    async def give_up_summary(
        self, session_id: str, now: datetime, failure: str, error: str
    ) -> None:
        return await self._stores.summaries.give_up_summary(session_id, now, failure, error)

    async def outbox_pending(self) -> dict[str, int]:
        return await self._stores.summaries.outbox_pending()

    # --- nudges -------------------------------------------------------------------------------

    async def claim_pending_nudges(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[Nudge]:
        return await self._stores.nudges.claim_pending_nudges(now, lease_seconds, limit)

    async def mark_nudge_sent(self, nudge: Nudge, now: datetime) -> None:
        return await self._stores.nudges.mark_nudge_sent(nudge, now)

    async def extend_nudge_lease(self, nudge: Nudge, until: datetime) -> None:
        return await self._stores.nudges.extend_nudge_lease(nudge, until)

    async def release_nudge(self, nudge: Nudge) -> None:
        return await self._stores.nudges.release_nudge(nudge)

    async def postpone_nudge(self, nudge: Nudge, at: datetime, error: str) -> None:
        return await self._stores.nudges.postpone_nudge(nudge, at, error)

    async def give_up_nudge(self, nudge: Nudge, now: datetime, failure: str, error: str) -> None:
        return await self._stores.nudges.give_up_nudge(nudge, now, failure, error)

    # --- reachability -------------------------------------------------------------------------

    async def set_unreachable(self, user_id: int, reason: str, now: datetime) -> None:
        return await self._stores.reachability.set_unreachable(user_id, reason, now)

    async def set_reachable(self, user_id: int) -> None:
        return await self._stores.reachability.set_reachable(user_id)

    async def awaited_users(self) -> set[int]:
        return await self._stores.reachability.awaited_users()

    async def give_up_unreachable(self, now: datetime) -> dict[str, int]:
        return await self._stores.reachability.give_up_unreachable(now)

    # --- users --------------------------------------------------------------------------------

    async def upsert_profiles(self, profiles: Sequence[UserProfile]) -> None:
        return await self._stores.users.upsert_profiles(profiles)

    async def add_new_users(self, profiles: Sequence[UserProfile]) -> None:
        return await self._stores.users.add_new_users(profiles)

    async def load_profile(self, user_id: int) -> UserProfile | None:
        return await self._stores.users.load_profile(user_id)

    async def load_profiles(self, user_ids: Sequence[int]) -> dict[int, UserProfile]:
        return await self._stores.users.load_profiles(user_ids)

    async def save_registration(
        self, profile: UserProfile, full_name: str, student_number: str | None
    ) -> None:
        return await self._stores.users.save_registration(profile, full_name, student_number)

    async def user_by_username(self, username: str) -> int | None:
        return await self._stores.users.user_by_username(username)

    # --- roles --------------------------------------------------------------------------------

    async def is_teacher(self, user_id: int) -> bool:
        return await self._stores.roles.is_teacher(user_id)

    async def teachers(self) -> list[UserProfile]:
        return await self._stores.roles.teachers()

    async def create_teacher_invite(
        self, token_hash: str, created_by: int, now: datetime, expires_at: datetime
    ) -> None:
        return await self._stores.roles.create_teacher_invite(
            token_hash, created_by, now, expires_at
        )

    async def use_teacher_invite(self, token_hash: str, user_id: int, now: datetime) -> bool:
        return await self._stores.roles.use_teacher_invite(token_hash, user_id, now)

    async def remove_teacher(self, user_id: int) -> bool:
        return await self._stores.roles.remove_teacher(user_id)

    # --- privacy ------------------------------------------------------------------------------

    async def personal_data(self, user_id: int) -> PersonalData:
        return await self._stores.privacy.personal_data(user_id)

    async def forget_user(self, user_id: int, pseudonym: int, now: datetime) -> None:
        return await self._stores.privacy.forget_user(user_id, pseudonym, now)

    async def delete_older_than(self, cutoff: datetime, forgotten_cutoff: datetime) -> int:
        return await self._stores.privacy.delete_older_than(cutoff, forgotten_cutoff)

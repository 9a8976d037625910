"""Rows to models, shared by the stores that read the same tables (users, courses, sessions)."""

from __future__ import annotations

import asyncpg

from services.models import Course, Session, SessionState, StudentStanding, UserProfile


def profile_from_row(row: asyncpg.Record) -> UserProfile:
    return UserProfile(
        user_id=row["id"],
        first_name=row["first_name"] or "",
        last_name=row["last_name"],
        username=row["username"],
        full_name=row["full_name"],
        student_number=row["student_number"],
        last_seen=row["last_seen"],
        # Only the queries that load a profile for its language select these.
        language_code=row.get("language_code"),
        language=row.get("language"),
    )


def course_from_row(row: asyncpg.Record) -> Course:
    return Course(
        id=row["id"],
        teacher_id=row["teacher_id"],
        name=row["name"],
        join_code=row["join_code"],
        invite_token=row["invite_token"],
        late_after_minutes=row["late_after_minutes"],
        warn_below_percent=row["warn_below_percent"],
        roster_size=row["roster_size"],
        time_zone=row["time_zone"],
        archived=row["archived_at"] is not None,
    )


def standing_from_row(row: asyncpg.Record) -> StudentStanding:
    return StudentStanding(
        student_id=row["student_id"],
        name=name_from_row(row, row["student_id"]),
        student_number=row["student_number"],
        sessions=row["sessions"],
        present=row["present"],
        late=row["late"],
        excused=row["excused"],
        absent=row["absent"],
        enrolled=row.get("enrolled", True),
    )


def session_from_row(row: asyncpg.Record) -> Session:
    return Session(
        id=row["id"],
        teacher_id=row["teacher_id"],
        chat_id=row["chat_id"],
        title=row["title"],
        code="",
        started_at=row["started_at"],
        ends_at=row["ends_at"],
        state=SessionState.SEALED,
        late_at=row["late_at"],
        course_id=row["course_id"],
    )


def name_from_row(row: asyncpg.Record, student_id: int) -> str:
    """The name reports show for a joined `users` row (a missing row shows the id)."""
    return UserProfile(
        user_id=student_id,
        first_name=row["first_name"] or "",
        last_name=row["last_name"],
        username=row["username"],
        full_name=row["full_name"],
    ).display_name

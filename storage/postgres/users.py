"""Saved profiles and registrations (full name, student number)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.models import Preferences, UserProfile
from storage.postgres.pool import pg_guard
from storage.postgres.rows import profile_from_row

# Names from a cache never erase a registered name: COALESCE keeps what is stored.
UPSERT_PROFILES = """
INSERT INTO users AS u (id, first_name, last_name, username, full_name, student_number,
                        last_seen, language_code, language)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::timestamptz[], $8::text[], $9::text[])
    AS t(id, first_name, last_name, username, full_name, student_number, last_seen,
         language_code, language)
WHERE NOT EXISTS (SELECT 1 FROM forgotten_users f
                  WHERE f.user_id = t.id AND f.forgotten_at >= t.last_seen)
ON CONFLICT (id) DO UPDATE SET
    first_name = EXCLUDED.first_name,
    last_name = EXCLUDED.last_name,
    username = EXCLUDED.username,
    full_name = COALESCE(EXCLUDED.full_name, u.full_name),
    student_number = COALESCE(EXCLUDED.student_number, u.student_number),
    last_seen = GREATEST(EXCLUDED.last_seen, u.last_seen),
    language_code = COALESCE(EXCLUDED.language_code, u.language_code),
    language = COALESCE(EXCLUDED.language, u.language),
    updated_at = now()
"""

SELECT_PROFILE = """
SELECT id, first_name, last_name, username, full_name, student_number, last_seen,
       language_code, language
FROM users WHERE id = $1
"""

SELECT_PROFILES = """
SELECT id, first_name, last_name, username, full_name, student_number, last_seen,
       language_code, language
FROM users WHERE id = ANY($1::bigint[])
"""

# Names read before a user asked to be forgotten are never written back (a profile cached or
# loaded just before /forgetme); a later visit (last_seen after it) stores them again.
INSERT_NEW_USERS = """
INSERT INTO users (id, first_name, last_name, username, last_seen, language_code)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                     $6::text[])
    AS t(id, first_name, last_name, username, last_seen, language_code)
WHERE NOT EXISTS (SELECT 1 FROM forgotten_users f
                  WHERE f.user_id = t.id AND f.forgotten_at >= t.last_seen)
ON CONFLICT (id) DO NOTHING
"""

SAVE_REGISTRATION = """
INSERT INTO users (id, first_name, last_name, username, full_name, student_number, last_seen)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
    full_name = EXCLUDED.full_name,
    student_number = EXCLUDED.student_number,
    updated_at = now()
"""

# A user who chose a language before any row of theirs was saved gets a row with it.
SAVE_LANGUAGE = """
INSERT INTO users (id, first_name, language) VALUES ($1, '', $2)
ON CONFLICT (id) DO UPDATE SET language = EXCLUDED.language, updated_at = now()
"""

SELECT_PREFERENCES = """
SELECT nudges, session_minutes, rotation_seconds, alerts FROM user_preferences
WHERE user_id = $1
"""

SAVE_PREFERENCES = """
INSERT INTO user_preferences (user_id, nudges, session_minutes, rotation_seconds, alerts)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id) DO UPDATE SET
    nudges = EXCLUDED.nudges,
    alerts = EXCLUDED.alerts,
    session_minutes = EXCLUDED.session_minutes,
    rotation_seconds = EXCLUDED.rotation_seconds,
    updated_at = now()
"""

SELECT_USER_BY_USERNAME = "SELECT id FROM users WHERE lower(username) = lower($1) LIMIT 1"


async def upsert_profiles_on(conn: asyncpg.Connection, profiles: Sequence[UserProfile]) -> None:
    """Store cached profiles on `conn`, so enrolling can do it inside its own transaction."""
    ordered = sorted(profiles, key=lambda p: p.user_id)  # a fixed order avoids deadlocks
    await conn.execute(
        UPSERT_PROFILES,
        [p.user_id for p in ordered],
        [p.first_name for p in ordered],
        [p.last_name for p in ordered],
        [p.username for p in ordered],
        [p.full_name for p in ordered],
        [p.student_number for p in ordered],
        [p.last_seen for p in ordered],
        [p.language_code for p in ordered],
        [p.language for p in ordered],
    )


class PostgresUserRecords:
    """`UserRecords` over PostgreSQL: saved profiles and registrations."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def upsert_profiles(self, profiles: Sequence[UserProfile]) -> None:
        if not profiles:
            return
        async with pg_guard(), self._pool.acquire() as conn:
            await upsert_profiles_on(conn, profiles)

    async def add_new_users(self, profiles: Sequence[UserProfile]) -> None:
        """Rows for users seen for the first time (their Telegram names); existing rows stay."""
        ordered = sorted(profiles, key=lambda p: p.user_id)
        async with pg_guard():
            await self._pool.execute(
                INSERT_NEW_USERS,
                [p.user_id for p in ordered],
                [p.first_name for p in ordered],
                [p.last_name for p in ordered],
                [p.username for p in ordered],
                [p.last_seen for p in ordered],
                [p.language_code for p in ordered],
            )

    async def load_profile(self, user_id: int) -> UserProfile | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_PROFILE, user_id)
        return profile_from_row(row) if row else None

    async def load_profiles(self, user_ids: Sequence[int]) -> dict[int, UserProfile]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_PROFILES, list(user_ids))
        return {row["id"]: profile_from_row(row) for row in rows}

    async def save_registration(
        self, profile: UserProfile, *, full_name: str, student_number: str | None
    ) -> None:
        async with pg_guard():
            await self._pool.execute(
                SAVE_REGISTRATION,
                profile.user_id,
                profile.first_name,
                profile.last_name,
                profile.username,
                full_name,
                student_number,
                profile.last_seen,
            )

    async def save_language(self, user_id: int, *, language: str | None) -> None:
        async with pg_guard():
            await self._pool.execute(SAVE_LANGUAGE, user_id, language)

    async def load_preferences(self, user_id: int) -> Preferences:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_PREFERENCES, user_id)
        if row is None:
            return Preferences()
        return Preferences(
            nudges=bool(row["nudges"]),
            session_minutes=row["session_minutes"],
            rotation_seconds=row["rotation_seconds"],
            alerts=bool(row["alerts"]),
        )

    async def save_preferences(self, user_id: int, preferences: Preferences) -> None:
        async with pg_guard():
            await self._pool.execute(
                SAVE_PREFERENCES,
                user_id,
                preferences.nudges,
                preferences.session_minutes,
                preferences.rotation_seconds,
                preferences.alerts,
            )

    async def user_by_username(self, username: str) -> int | None:
        async with pg_guard():
            value = await self._pool.fetchval(SELECT_USER_BY_USERNAME, username)
        return int(value) if value is not None else None

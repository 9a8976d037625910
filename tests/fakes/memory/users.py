"""In-memory `UserRecords`: profiles and registrations, with the /forgetme guard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from services.models import Preferences, UserProfile
from tests.fakes.memory.database import MemoryDatabase


def _forgotten_after_seen(db: MemoryDatabase, profile: UserProfile) -> bool:
    """`forgotten_at >= last_seen`: names read before /forgetme are never written back
    (a NULL last_seen compares as unknown, so such names are written)."""
    row = db.forgotten_users.get(profile.user_id)
    return (
        row is not None and profile.last_seen is not None and row.forgotten_at >= profile.last_seen
    )


def upsert_profiles(db: MemoryDatabase, profiles: Sequence[UserProfile]) -> None:
    """UPSERT_PROFILES: cached names never erase a registered name or number."""
    for profile in sorted(profiles, key=lambda p: p.user_id):
        if _forgotten_after_seen(db, profile):
            continue
        old = db.users.get(profile.user_id)
        if old is None:
            db.users[profile.user_id] = profile
            continue
        seen = [t for t in (profile.last_seen, old.last_seen) if t is not None]
        db.users[profile.user_id] = replace(
            profile,
            full_name=profile.full_name if profile.full_name is not None else old.full_name,
            student_number=(
                profile.student_number if profile.student_number is not None else old.student_number
            ),
            last_seen=max(seen) if seen else None,
            language_code=profile.language_code or old.language_code,
            language=profile.language if profile.language is not None else old.language,
        )


class MemoryUserRecords:
    """Saved profiles and registrations."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def upsert_profiles(self, profiles: Sequence[UserProfile]) -> None:
        if not profiles:
            return
        self._db.check()
        upsert_profiles(self._db, profiles)

    async def add_new_users(self, profiles: Sequence[UserProfile]) -> None:
        db = self._db
        db.check()
        for p in sorted(profiles, key=lambda p: p.user_id):
            if p.user_id not in db.users and not _forgotten_after_seen(db, p):
                db.users[p.user_id] = UserProfile(
                    user_id=p.user_id,
                    first_name=p.first_name,
                    last_name=p.last_name,
                    username=p.username,
                    last_seen=p.last_seen,
                    language_code=p.language_code,
                )

    async def load_profile(self, user_id: int) -> UserProfile | None:
        self._db.check()
        return self._db.users.get(user_id)

    async def load_profiles(self, user_ids: Sequence[int]) -> dict[int, UserProfile]:
        self._db.check()
        return {i: self._db.users[i] for i in user_ids if i in self._db.users}

    async def save_registration(
        self, profile: UserProfile, *, full_name: str, student_number: str | None
    ) -> None:
        db = self._db
        db.check()
        old = db.users.get(profile.user_id)
        if old is None:
            db.users[profile.user_id] = replace(
                profile, full_name=full_name, student_number=student_number
            )
        else:
            db.users[profile.user_id] = replace(
                old, full_name=full_name, student_number=student_number
            )

    async def save_language(self, user_id: int, *, language: str | None) -> None:
        """SAVE_LANGUAGE: a row for someone never saved, else only the language changes."""
        db = self._db
        db.check()
        old = db.users.get(user_id) or UserProfile(user_id, "")
        db.users[user_id] = replace(old, language=language)

    async def load_preferences(self, user_id: int) -> Preferences:
        self._db.check()
        return self._db.user_preferences.get(user_id, Preferences())

    async def save_preferences(self, user_id: int, preferences: Preferences) -> None:
        """SAVE_PREFERENCES: the whole row, inserted or replaced."""
        self._db.check()
        self._db.user_preferences[user_id] = preferences

    async def user_by_username(self, username: str) -> int | None:
        self._db.check()
        for user in self._db.users.values():
            if user.username is not None and user.username.lower() == username.lower():
                return user.user_id
        return None

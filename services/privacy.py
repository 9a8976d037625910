"""What ATTN stores about a person, and forgetting it on request."""

from __future__ import annotations

import secrets
from datetime import timedelta

from services.clock import Clock
from services.errors import OpenSessionBlocksForget
from services.models import PersonalData
from services.ports import PrivacyRecords, ProfileCache
from services.sessions import SessionService

# Forgotten users' id -> pseudonym rows only need to outlive any session live at the time:
# a session lasts at most MAX_SESSION_HOURS (24), and is saved a sweep later.
FORGOTTEN_MAPPING_DAYS = 2


class PrivacyService:
    """`/mydata`, `/forgetme` and the retention job."""

    def __init__(
        self,
        *,
        profiles: ProfileCache,
        privacy: PrivacyRecords,
        sessions: SessionService,
        clock: Clock,
        retention_days: int,
    ) -> None:
        self._profiles = profiles
        self._sessions = sessions
        self._privacy = privacy
        self._clock = clock
        self._retention = timedelta(days=retention_days)

    @property
    def retention_days(self) -> int:
        return self._retention.days

    async def personal_data(self, user_id: int) -> PersonalData:
        stored = await self._privacy.personal_data(user_id)
        cached = await self._profiles.cached_profile(user_id)
        return PersonalData(
            profile=stored.profile,
            courses=stored.courses,
            attendance_records=stored.attendance_records,
            is_teacher=stored.is_teacher,
            cached_profile=cached,
            staff_of=stored.staff_of,
            excuse_requests=stored.excuse_requests,
            preferences=stored.preferences,
        )

    async def forget(self, user_id: int) -> None:
        """Remove the user's names, number, cached profile and pending prompts, and take them
        off every roster; records stay under a fresh pseudonym (negative, so it can never be
        a Telegram user id, and nothing is ever sent to it), so teachers' counts stay right.

        Safe to repeat any number of times (after re-joining, too). PostgreSQL goes first: if
        it is away nothing changes; if Redis fails after it, asking again finishes the job.

        A teacher keeps the role and their courses (the institution's records, not personal
        data); only their personal data goes.

        Raises:
            OpenSessionBlocksForget: the user runs a session that is still open; it must
                end first (its card, roster and summary depend on the teacher).
        """
        session = await self._sessions.open_session(user_id)
        if session is not None:
            raise OpenSessionBlocksForget(session)
        pseudonym = -(secrets.randbelow(2**62) + 1)
        await self._privacy.forget_user(user_id, pseudonym=pseudonym, now=self._clock.now())
        await self._profiles.forget_user(user_id)

    async def apply_retention(self) -> int:
        """Delete sessions (with their records) older than the retention period."""
        now = self._clock.now()
        return await self._privacy.delete_older_than(
            cutoff=now - self._retention,
            forgotten_cutoff=now - timedelta(days=FORGOTTEN_MAPPING_DAYS),
        )

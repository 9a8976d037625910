"""The imported roster: places a student claims, and claims waiting for the teacher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from services.models import UserProfile
from services.places import ClaimRequest, ClaimResult, ImportOutcome, Place, PlaceRow


class RosterPlaces(Protocol):
    """A course's places (idempotent by student number) and the claims on them.

    A claim is one transaction: the place is taken only if still free, the stand-in's records
    move to the student, and the student is enrolled. `claim_place` returns the place as it
    was found (a place just claimed still names the stand-in it had, for a live session's
    roster to swap). Imports, claims and decisions write their `course_audit` row in the
    same transaction.
    """

    async def add_places(
        self, course_id: int, rows: Sequence[PlaceRow], *, by: int, at: datetime
    ) -> ImportOutcome: ...
    async def places(self, course_id: int) -> list[Place]: ...
    async def has_places(self, course_id: int) -> bool: ...
    async def claimed_place(self, course_id: int, *, student_id: int) -> Place | None: ...
    async def claim_place(
        self, course_id: int, *, student_number: str, student: UserProfile, at: datetime
    ) -> tuple[ClaimResult, Place | None]: ...
    async def request_claim(
        self, course_id: int, *, student_id: int, student_number: str, at: datetime
    ) -> ClaimRequest: ...
    async def claim_request(self, request_id: int) -> ClaimRequest | None: ...
    async def claim_requests(self, course_id: int) -> list[ClaimRequest]:
        """The course's claims waiting for the teacher, oldest first."""
        ...

    async def take_claim_request(
        self, request_id: int, *, approved: bool, by: int, at: datetime
    ) -> ClaimRequest | None: ...
    async def student_places(self, student_id: int) -> list[tuple[str, Place]]: ...
    async def remove_place(
        self, course_id: int, *, stand_in: int, by: int, at: datetime
    ) -> bool: ...

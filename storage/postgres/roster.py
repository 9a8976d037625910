"""Imported roster places and the claims on them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.models import CourseAction, UserProfile
from services.places import ClaimRequest, ClaimResult, ImportOutcome, Place, PlaceRow
from storage.postgres.pool import pg_guard
from storage.postgres.users import upsert_profiles_on

#: A fresh negative id, as /forgetme's pseudonyms are (nothing links it to anyone).
NEW_STAND_IN = "-(1 + floor(random() * 4611686018427387903))::bigint"

# New numbers become places with a stand-in and its named `users` row; numbers already on
# the course's roster are left as they are (importing the same file twice adds nothing).
ADD_PLACES = f"""
WITH input AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
        AS t(student_number, full_name, email, group_name)
), inserted AS (
    INSERT INTO roster_places (course_id, student_number, full_name, email, group_name,
                               imported_by, imported_at, stand_in)
    SELECT $1, i.student_number, i.full_name, i.email, i.group_name, $6, $7, {NEW_STAND_IN}
    FROM input i
    ON CONFLICT (course_id, student_number) DO NOTHING
    RETURNING stand_in, full_name, student_number
), named AS (
    INSERT INTO users (id, first_name, full_name, student_number)
    SELECT stand_in, '', full_name, student_number FROM inserted
    ON CONFLICT (id) DO NOTHING
)
SELECT i.student_number, EXISTS (
    SELECT 1 FROM inserted n WHERE n.student_number = i.student_number) AS added
FROM input i
"""  # noqa: S608

PLACE_COLUMNS = "id, course_id, student_number, full_name, email, group_name, stand_in, claimed_by"

SELECT_PLACES = (
    f"SELECT {PLACE_COLUMNS} FROM roster_places WHERE course_id = $1 "  # noqa: S608
    "ORDER BY lower(full_name), student_number"
)

HAS_PLACES = "SELECT EXISTS (SELECT 1 FROM roster_places WHERE course_id = $1)"

SELECT_CLAIMED = (
    f"SELECT {PLACE_COLUMNS} FROM roster_places "  # noqa: S608
    "WHERE course_id = $1 AND claimed_by = $2"
)

LOCK_PLACE = (
    f"SELECT {PLACE_COLUMNS} FROM roster_places "  # noqa: S608
    "WHERE course_id = $1 AND student_number = $2 FOR UPDATE"
)

# The stand-in's records become the student's (a session the student already has a record
# of keeps theirs), its audit rows follow, and the stand-in goes.
CLAIM_MOVES = [
    """UPDATE attendance a SET student_id = $2 WHERE a.student_id = $1
       AND NOT EXISTS (SELECT 1 FROM attendance b
                       WHERE b.session_id = a.session_id AND b.student_id = $2)""",
    "UPDATE attendance_audit SET student_id = $2 WHERE student_id = $1",
]
CLAIM_DELETES = [
    "DELETE FROM attendance WHERE student_id = $1",
    "DELETE FROM users WHERE id = $1",
]

TAKE_PLACE = """
UPDATE roster_places SET stand_in = NULL, claimed_by = $2, claimed_at = $3 WHERE id = $1
"""

ENROL = """
INSERT INTO enrolments (course_id, student_id) VALUES ($1, $2)
ON CONFLICT (course_id, student_id) DO NOTHING
"""

# The registry's name and number, for a student who has not registered one yet.
NAME_FROM_PLACE = """
UPDATE users SET full_name = $2, student_number = $3, updated_at = now()
WHERE id = $1 AND coalesce(full_name, '') = ''
"""

# Students enrolled before the roster came, whose registered number is a free place's: that
# place is theirs (one place per student, one student per place, the earliest enrolled).
MATCH_ENROLLED = f"""
SELECT DISTINCT ON (p.id) {", ".join("p." + c for c in PLACE_COLUMNS.split(", "))},
       e.student_id AS enrolled_student
FROM roster_places p
JOIN enrolments e ON e.course_id = p.course_id
JOIN users u ON u.id = e.student_id
WHERE p.course_id = $1 AND p.stand_in IS NOT NULL
  AND upper(btrim(u.student_number)) = p.student_number
  AND NOT EXISTS (SELECT 1 FROM roster_places q
                  WHERE q.course_id = $1 AND q.claimed_by = e.student_id)
ORDER BY p.id, e.enrolled_at, e.student_id
"""  # noqa: S608

INSERT_AUDIT = """
INSERT INTO course_audit (course_id, changed_by, changed_at, action, old_value, new_value)
VALUES ($1, $2, $3, $4, $5, $6)
"""

DROP_REQUESTS = "DELETE FROM roster_claims WHERE course_id = $1 AND student_id = $2"

REQUEST_CLAIM = """
INSERT INTO roster_claims (course_id, student_id, student_number, requested_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (course_id, student_id) DO UPDATE
    SET student_number = EXCLUDED.student_number, requested_at = EXCLUDED.requested_at
RETURNING id, course_id, student_id, student_number, requested_at
"""

SELECT_REQUEST = """
SELECT id, course_id, student_id, student_number, requested_at FROM roster_claims WHERE id = $1
"""

# The course's waiting claims, oldest first (roster_claims' unique (course_id, student_id)
# index serves the lookup).
SELECT_REQUESTS = """
SELECT id, course_id, student_id, student_number, requested_at FROM roster_claims
WHERE course_id = $1 ORDER BY requested_at, id
"""

TAKE_REQUEST = """
DELETE FROM roster_claims WHERE id = $1
RETURNING id, course_id, student_id, student_number, requested_at
"""

SELECT_STUDENT_PLACES = """
SELECT c.name AS course_name, p.id, p.course_id, p.student_number, p.full_name, p.email,
       p.group_name, p.stand_in, p.claimed_by
FROM roster_places p JOIN courses c ON c.id = p.course_id
WHERE p.claimed_by = $1 ORDER BY c.name
"""


# An unclaimed place taken off the roster (imported by mistake): its records so far stay
# under the stand-in, whose named `users` row stays while they do.
DELETE_PLACE = """
DELETE FROM roster_places WHERE course_id = $1 AND stand_in = $2 RETURNING student_number
"""


def place_from_row(row: asyncpg.Record) -> Place:
    return Place(
        id=row["id"],
        course_id=row["course_id"],
        student_number=row["student_number"],
        full_name=row["full_name"],
        email=row["email"],
        group=row["group_name"],
        stand_in=row["stand_in"],
        claimed_by=row["claimed_by"],
    )


def request_from_row(row: asyncpg.Record) -> ClaimRequest:
    return ClaimRequest(
        id=row["id"],
        course_id=row["course_id"],
        student_id=row["student_id"],
        student_number=row["student_number"],
        requested_at=row["requested_at"],
    )


async def _take_place(
    conn: asyncpg.Connection, place: Place, student_id: int, at: datetime
) -> None:
    """The place becomes the student's: the stand-in's records move to them, the stand-in
    goes, they are enrolled (named from the roster if they had no name), waiting claims go."""
    assert place.stand_in is not None
    for statement in CLAIM_MOVES:
        await conn.execute(statement, place.stand_in, student_id)
    for statement in CLAIM_DELETES:
        await conn.execute(statement, place.stand_in)
    await conn.execute(TAKE_PLACE, place.id, student_id, at)
    await conn.execute(ENROL, place.course_id, student_id)
    await conn.execute(NAME_FROM_PLACE, student_id, place.full_name, place.student_number)
    await conn.execute(DROP_REQUESTS, place.course_id, student_id)


class PostgresRosterPlaces:
    """`RosterPlaces` over PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_places(
        self, course_id: int, rows: Sequence[PlaceRow], *, by: int, at: datetime
    ) -> ImportOutcome:
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            result = await conn.fetch(
                ADD_PLACES,
                course_id,
                [r.student_number for r in rows],
                [r.full_name for r in rows],
                [r.email for r in rows],
                [r.group for r in rows],
                by,
                at,
            )
            added = sum(1 for r in result if r["added"])
            there = [r["student_number"] for r in result if not r["added"]]
            summary = f"{added} new, {len(there)} unchanged"
            await conn.execute(
                INSERT_AUDIT, course_id, by, at, CourseAction.ROSTER_IMPORT.value, None, summary
            )
            linked: set[int] = set()
            for match in await conn.fetch(MATCH_ENROLLED, course_id):
                student = match["enrolled_student"]
                if student in linked:  # one place per student
                    continue
                linked.add(student)
                place = place_from_row(match)
                await _take_place(conn, place, student, at)
                await conn.execute(
                    INSERT_AUDIT,
                    course_id,
                    by,
                    at,
                    CourseAction.LINK_PLACE.value,
                    str(student),
                    place.student_number,
                )
        return ImportOutcome(added, there, len(linked))

    async def places(self, course_id: int) -> list[Place]:
        async with pg_guard():
            return [place_from_row(r) for r in await self._pool.fetch(SELECT_PLACES, course_id)]

    async def has_places(self, course_id: int) -> bool:
        async with pg_guard():
            return bool(await self._pool.fetchval(HAS_PLACES, course_id))

    async def claimed_place(self, course_id: int, *, student_id: int) -> Place | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_CLAIMED, course_id, student_id)
        return place_from_row(row) if row else None

    async def claim_place(
        self, course_id: int, *, student_number: str, student: UserProfile, at: datetime
    ) -> tuple[ClaimResult, Place | None]:
        """Take the free place with this number for the student, in one transaction."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            own = await conn.fetchrow(SELECT_CLAIMED, course_id, student.user_id)
            if own is not None:
                return ClaimResult.CLAIMED, place_from_row(own)
            row = await conn.fetchrow(LOCK_PLACE, course_id, student_number)
            if row is None:
                return ClaimResult.NO_PLACE, None
            place = place_from_row(row)
            if place.stand_in is None:
                return ClaimResult.TAKEN, place
            await upsert_profiles_on(conn, [student])
            await _take_place(conn, place, student.user_id, at)
            await conn.execute(
                INSERT_AUDIT,
                course_id,
                student.user_id,
                at,
                CourseAction.CLAIM_PLACE.value,
                None,
                place.student_number,
            )
        return ClaimResult.CLAIMED, place

    async def request_claim(
        self, course_id: int, *, student_id: int, student_number: str, at: datetime
    ) -> ClaimRequest:
        async with pg_guard():
            row = await self._pool.fetchrow(
                REQUEST_CLAIM, course_id, student_id, student_number, at
            )
        return request_from_row(row)

    async def claim_request(self, request_id: int) -> ClaimRequest | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_REQUEST, request_id)
        return request_from_row(row) if row else None

    async def claim_requests(self, course_id: int) -> list[ClaimRequest]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_REQUESTS, course_id)
        return [request_from_row(row) for row in rows]

    async def take_claim_request(
        self, request_id: int, *, approved: bool, by: int, at: datetime
    ) -> ClaimRequest | None:
        """Remove a waiting claim and return it, audited as decided: of two presses, only
        one gets it."""
        action = CourseAction.APPROVE_CLAIM if approved else CourseAction.DECLINE_CLAIM
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(TAKE_REQUEST, request_id)
            if row is None:
                return None
            request = request_from_row(row)
            await conn.execute(
                INSERT_AUDIT,
                request.course_id,
                by,
                at,
                action.value,
                request.student_number,
                str(request.student_id),
            )
        return request

    async def student_places(self, student_id: int) -> list[tuple[str, Place]]:
        """(course name, place) of every place the student claimed, for /mydata."""
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_STUDENT_PLACES, student_id)
        return [(r["course_name"], place_from_row(r)) for r in rows]

    async def remove_place(self, course_id: int, *, stand_in: int, by: int, at: datetime) -> bool:
        """Take an unclaimed place off the course's roster, audited as a removal."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            number = await conn.fetchval(DELETE_PLACE, course_id, stand_in)
            if number is None:
                return False
            await conn.execute(
                INSERT_AUDIT,
                course_id,
                by,
                at,
                CourseAction.REMOVE_STUDENT.value,
                number,
                None,
            )
        return True

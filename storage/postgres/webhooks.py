"""Course webhooks and their outbox: the hook (URL, signing secret) and one delivery row per
saved session, leased by the courier that sends it."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from services.models import CourseAction
from services.ports.webhooks import (
    CourseWebhook,
    WebhookDelivery,
    WebhookNotice,
    WebhookStatus,
)
from storage.postgres.pool import pg_guard

HOOK_COLUMNS = "id, course_id, url, secret, created_by, created_at"

SELECT_HOOK = f"SELECT {HOOK_COLUMNS} FROM course_webhooks WHERE course_id = $1"  # noqa: S608

DELETE_HOOK = "DELETE FROM course_webhooks WHERE course_id = $1 RETURNING url"

INSERT_HOOK = f"""
INSERT INTO course_webhooks (course_id, url, secret, created_by, created_at)
VALUES ($1, $2, $3, $4, $5) RETURNING {HOOK_COLUMNS}
"""  # noqa: S608

AUDIT = """
INSERT INTO course_audit (course_id, changed_by, changed_at, action, old_value, new_value)
VALUES ($1, $2, $3, $4, $5, $6)
"""

# Runs in the sweep's transaction (storage/postgres/sessions.py): one delivery per hook of the
# session's course, never a second one when the sweep of the session runs again.
INSERT_WEBHOOK_DELIVERIES = """
INSERT INTO webhook_outbox (session_id, hook_id)
SELECT $1, h.id FROM course_webhooks h WHERE h.course_id = $2
ON CONFLICT (session_id, hook_id) DO NOTHING
"""

SELECT_STATUS = """
SELECT count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
       count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL) AS pending,
       count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
       (SELECT last_error FROM webhook_outbox x
        WHERE x.hook_id = $1 AND x.delivered_at IS NULL AND x.last_error IS NOT NULL
        ORDER BY x.id DESC LIMIT 1) AS last_error
FROM webhook_outbox WHERE hook_id = $1
"""

# Per hook, its oldest due rows (at most $4), hooks in $5 skipped (they have their share in
# flight): a dead receiver's backlog never fills a claim that other courses' rows wait for.
CLAIM_DELIVERIES = """
WITH hooks AS (
    SELECT DISTINCT hook_id FROM webhook_outbox
    WHERE delivered_at IS NULL AND failed_at IS NULL
      AND (claimed_until IS NULL OR claimed_until < $1)
      AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
      AND NOT (hook_id = ANY($5::bigint[]))
), due AS MATERIALIZED (
    SELECT d.id, d.due_at FROM hooks h CROSS JOIN LATERAL (
        SELECT o.id, coalesce(o.next_attempt_at, o.created_at) AS due_at
        FROM webhook_outbox o
        WHERE o.hook_id = h.hook_id
          AND o.delivered_at IS NULL AND o.failed_at IS NULL
          AND (o.claimed_until IS NULL OR o.claimed_until < $1)
          AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $1)
        ORDER BY coalesce(o.next_attempt_at, o.created_at), o.id
        LIMIT $4
        FOR UPDATE SKIP LOCKED
    ) d
    ORDER BY d.due_at, d.id
    LIMIT $3
), claimed AS (
    UPDATE webhook_outbox o SET claimed_until = $2, attempts = o.attempts + 1
    FROM due WHERE o.id = due.id
    RETURNING o.id, o.session_id, o.hook_id, o.event, o.attempts
)
SELECT c.id, c.session_id, c.hook_id, c.event, c.attempts, h.course_id, h.url, h.secret
FROM claimed c JOIN course_webhooks h ON h.id = c.hook_id
ORDER BY c.id
"""

EXTEND_LEASE = """
UPDATE webhook_outbox SET claimed_until = $2 WHERE id = $1 AND delivered_at IS NULL
"""

MARK_DELIVERED = """
WITH delivered AS (
    UPDATE webhook_outbox SET delivered_at = $2, claimed_until = NULL, last_status = $3
    WHERE id = $1 AND delivered_at IS NULL RETURNING hook_id
)
UPDATE course_webhooks h SET failing_since = NULL
FROM delivered d WHERE h.id = d.hook_id AND h.failing_since IS NOT NULL
"""

POSTPONE = """
UPDATE webhook_outbox
SET claimed_until = NULL, next_attempt_at = $2, last_status = $3, last_error = $4
WHERE id = $1 AND delivered_at IS NULL
"""

GIVE_UP = """
WITH failed AS (
    UPDATE webhook_outbox
    SET claimed_until = NULL, failed_at = $2, last_status = $3, last_error = $4
    WHERE id = $1 AND delivered_at IS NULL AND failed_at IS NULL
    RETURNING hook_id, session_id, attempts
)
INSERT INTO webhook_notices (hook_id, session_id, kind, attempts, error, created_at)
SELECT hook_id, session_id, 'gave_up', attempts, $4, $2 FROM failed WHERE $5
"""

# The hook's first failing spell since its last delivery that went through: flagged and told.
NOTE_FAILING = """
WITH d AS (
    SELECT hook_id, session_id, attempts FROM webhook_outbox WHERE id = $1
), flagged AS (
    UPDATE course_webhooks h SET failing_since = $2
    FROM d WHERE h.id = d.hook_id AND h.failing_since IS NULL
    RETURNING h.id
)
INSERT INTO webhook_notices (hook_id, session_id, kind, attempts, error, created_at)
SELECT d.hook_id, d.session_id, 'failing', d.attempts, $3, $2 FROM d, flagged
RETURNING id
"""

CLAIM_NOTICES = """
WITH due AS MATERIALIZED (
    SELECT id FROM webhook_notices WHERE sent_at IS NULL
    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE webhook_notices n SET sent_at = $1 FROM due WHERE n.id = due.id
    RETURNING n.id, n.hook_id, n.session_id, n.kind, n.attempts, n.error
)
SELECT c.id, c.kind, c.session_id, c.attempts, c.error, h.url,
       k.id AS course_id, k.name AS course_name, k.teacher_id AS owner_id,
       s.title AS session_title, s.started_at AS session_started_at
FROM claimed c
JOIN course_webhooks h ON h.id = c.hook_id
JOIN courses k ON k.id = h.course_id
LEFT JOIN sessions s ON s.id = c.session_id
ORDER BY c.id
"""

RELEASE = """
UPDATE webhook_outbox SET claimed_until = NULL, attempts = greatest(0, attempts - 1)
WHERE id = $1 AND delivered_at IS NULL
"""


def _hook(row: asyncpg.Record) -> CourseWebhook:
    return CourseWebhook(
        id=row["id"],
        course_id=row["course_id"],
        url=row["url"],
        secret=row["secret"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


async def remove_course_webhook(
    conn: asyncpg.Connection, course_id: int, *, by: int, now: datetime
) -> bool:
    """Removes the course's webhook (its queued deliveries and notices go with it), audited,
    on `conn` (in the caller's transaction); False when it had none (nothing audited)."""
    old = await conn.fetchval(DELETE_HOOK, course_id)
    if old is None:
        return False
    await conn.execute(AUDIT, course_id, by, now, CourseAction.WEBHOOK_CLEAR.value, old, None)
    return True


class PostgresWebhooks:
    """`WebhookRecords` over PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def set_course_webhook(
        self, course_id: int, *, url: str, secret: str, by: int, now: datetime
    ) -> CourseWebhook:
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            old = await conn.fetchval(DELETE_HOOK, course_id)
            row = await conn.fetchrow(INSERT_HOOK, course_id, url, secret, by, now)
            await conn.execute(AUDIT, course_id, by, now, CourseAction.WEBHOOK_SET.value, old, url)
        return _hook(row)

    async def clear_course_webhook(self, course_id: int, *, by: int, now: datetime) -> bool:
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            return await remove_course_webhook(conn, course_id, by=by, now=now)

    async def course_webhook(self, course_id: int) -> CourseWebhook | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_HOOK, course_id)
        return _hook(row) if row is not None else None

    async def webhook_status(self, course_id: int) -> WebhookStatus | None:
        async with pg_guard(), self._pool.acquire() as conn:
            row = await conn.fetchrow(SELECT_HOOK, course_id)
            if row is None:
                return None
            counts = await conn.fetchrow(SELECT_STATUS, row["id"])
        return WebhookStatus(
            hook=_hook(row),
            delivered=counts["delivered"],
            pending=counts["pending"],
            failed=counts["failed"],
            last_error=counts["last_error"],
        )

    async def claim_webhook_deliveries(
        self,
        now: datetime,
        lease_seconds: float,
        limit: int,
        *,
        per_hook: int,
        skip_hooks: list[int],
    ) -> list[WebhookDelivery]:
        async with pg_guard():
            rows = await self._pool.fetch(
                CLAIM_DELIVERIES,
                now,
                now + timedelta(seconds=lease_seconds),
                limit,
                per_hook,
                skip_hooks,
            )
        return [
            WebhookDelivery(
                id=row["id"],
                session_id=row["session_id"],
                hook_id=row["hook_id"],
                course_id=row["course_id"],
                event=row["event"],
                url=row["url"],
                secret=row["secret"],
                attempts=row["attempts"],
            )
            for row in rows
        ]

    async def extend_webhook_lease(self, delivery_id: int, until: datetime) -> None:
        async with pg_guard():
            await self._pool.execute(EXTEND_LEASE, delivery_id, until)

    async def mark_webhook_delivered(self, delivery_id: int, now: datetime, status: int) -> None:
        async with pg_guard():
            await self._pool.execute(MARK_DELIVERED, delivery_id, now, status)

    async def postpone_webhook(
        self, delivery_id: int, at: datetime, status: int | None, error: str
    ) -> None:
        async with pg_guard():
            await self._pool.execute(POSTPONE, delivery_id, at, status, error[:500])

    async def give_up_webhook(
        self,
        delivery_id: int,
        now: datetime,
        status: int | None,
        error: str,
        *,
        tell_owner: bool = False,
    ) -> None:
        async with pg_guard():
            await self._pool.execute(GIVE_UP, delivery_id, now, status, error[:500], tell_owner)

    async def note_hook_failing(self, delivery_id: int, now: datetime, error: str) -> bool:
        async with pg_guard():
            return (
                await self._pool.fetchval(NOTE_FAILING, delivery_id, now, error[:500]) is not None
            )

    async def claim_webhook_notices(self, now: datetime, limit: int) -> list[WebhookNotice]:
        async with pg_guard():
            rows = await self._pool.fetch(CLAIM_NOTICES, now, limit)
        return [
            WebhookNotice(
                id=row["id"],
                kind=row["kind"],
                owner_id=row["owner_id"],
                course_id=row["course_id"],
                course_name=row["course_name"],
                url=row["url"],
                session_id=row["session_id"],
                session_title=row["session_title"],
                session_started_at=row["session_started_at"],
                attempts=row["attempts"],
                error=row["error"],
            )
            for row in rows
        ]

    async def release_webhook(self, delivery_id: int) -> None:
        async with pg_guard():
            await self._pool.execute(RELEASE, delivery_id)

"""In-memory `WebhookRecords`, row for row as storage/postgres/webhooks.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.models import CourseAction
from services.ports.webhooks import (
    FAILING,
    GAVE_UP,
    CourseWebhook,
    WebhookDelivery,
    WebhookNotice,
    WebhookStatus,
)
from tests.fakes.memory.database import (
    CourseAuditRow,
    MemoryDatabase,
    WebhookNoticeRow,
    WebhookOutboxRow,
    WebhookRow,
)


def enqueue_webhook_deliveries(db: MemoryDatabase, session_id: str, course_id: int) -> None:
    """INSERT_WEBHOOK_DELIVERIES: one row per hook of the course, never a second one."""
    for hook_id, hook in db.course_webhooks.items():
        if hook.course_id != course_id:
            continue
        if any(
            r.session_id == session_id and r.hook_id == hook_id for r in db.webhook_outbox.values()
        ):
            continue
        db.webhook_outbox[next(db.webhook_outbox_ids)] = WebhookOutboxRow(session_id, hook_id)


def _hook(hook_id: int, row: WebhookRow) -> CourseWebhook:
    return CourseWebhook(
        hook_id, row.course_id, row.url, row.secret, row.created_by, row.created_at
    )


def _due(row: WebhookOutboxRow, now: datetime) -> bool:
    return (
        row.delivered_at is None
        and row.failed_at is None
        and (row.claimed_until is None or row.claimed_until < now)
        and (row.next_attempt_at is None or row.next_attempt_at <= now)
    )


def _delete_hook(db: MemoryDatabase, course_id: int) -> str | None:
    """DELETE_HOOK, its deliveries and notices going with it (ON DELETE CASCADE): its URL."""
    found = next(((i, h) for i, h in db.course_webhooks.items() if h.course_id == course_id), None)
    if found is None:
        return None
    hook_id, row = found
    del db.course_webhooks[hook_id]
    for i in [i for i, r in db.webhook_outbox.items() if r.hook_id == hook_id]:
        del db.webhook_outbox[i]
    for i in [i for i, n in db.webhook_notices.items() if n.hook_id == hook_id]:
        del db.webhook_notices[i]
    return row.url


def remove_course_webhook(db: MemoryDatabase, course_id: int, *, by: int, now: datetime) -> bool:
    """The course's webhook removed and audited as /webhook off audits it (a transfer's)."""
    old = _delete_hook(db, course_id)
    if old is None:
        return False
    db.course_audit[next(db.course_audit_ids)] = CourseAuditRow(
        course_id, by, now, CourseAction.WEBHOOK_CLEAR.value, old, None
    )
    return True


class MemoryWebhooks:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def _hook_of(self, course_id: int) -> tuple[int, WebhookRow] | None:
        return next(
            ((i, h) for i, h in self._db.course_webhooks.items() if h.course_id == course_id), None
        )

    def _delete(self, course_id: int) -> str | None:
        return _delete_hook(self._db, course_id)

    def _audit(
        self,
        course_id: int,
        by: int,
        at: datetime,
        action: CourseAction,
        old: str | None,
        new: str | None,
    ) -> None:
        self._db.course_audit[next(self._db.course_audit_ids)] = CourseAuditRow(
            course_id, by, at, action.value, old, new
        )

    async def set_course_webhook(
        self, course_id: int, *, url: str, secret: str, by: int, now: datetime
    ) -> CourseWebhook:
        db = self._db
        db.check()
        if course_id not in db.courses:
            raise KeyError("course")  # the foreign key
        old = self._delete(course_id)
        hook_id = next(db.webhook_ids)
        row = WebhookRow(course_id, url, secret, by, now)
        db.course_webhooks[hook_id] = row
        self._audit(course_id, by, now, CourseAction.WEBHOOK_SET, old, url)
        return _hook(hook_id, row)

    async def clear_course_webhook(self, course_id: int, *, by: int, now: datetime) -> bool:
        self._db.check()
        return remove_course_webhook(self._db, course_id, by=by, now=now)

    async def course_webhook(self, course_id: int) -> CourseWebhook | None:
        self._db.check()
        found = self._hook_of(course_id)
        return _hook(*found) if found is not None else None

    async def webhook_status(self, course_id: int) -> WebhookStatus | None:
        self._db.check()
        found = self._hook_of(course_id)
        if found is None:
            return None
        rows = sorted((i, r) for i, r in self._db.webhook_outbox.items() if r.hook_id == found[0])
        errors = [r.last_error for _, r in rows if r.delivered_at is None and r.last_error]
        return WebhookStatus(
            hook=_hook(*found),
            delivered=sum(r.delivered_at is not None for _, r in rows),
            pending=sum(r.delivered_at is None and r.failed_at is None for _, r in rows),
            failed=sum(r.failed_at is not None for _, r in rows),
            last_error=errors[-1] if errors else None,
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
        db = self._db
        db.check()
        due = sorted(
            (
                (r.next_attempt_at or r.created_at, i)
                for i, r in db.webhook_outbox.items()
                if _due(r, now) and r.hook_id not in skip_hooks
            )
        )
        taken: dict[int, int] = {}
        claimed: list[WebhookDelivery] = []
        for _, i in due:
            row = db.webhook_outbox[i]
            if taken.get(row.hook_id, 0) >= per_hook:
                continue
            if len(claimed) >= limit:
                break
            taken[row.hook_id] = taken.get(row.hook_id, 0) + 1
            row.claimed_until = now + timedelta(seconds=lease_seconds)
            row.attempts += 1
            hook = db.course_webhooks[row.hook_id]
            claimed.append(
                WebhookDelivery(
                    i,
                    row.session_id,
                    row.hook_id,
                    hook.course_id,
                    row.event,
                    hook.url,
                    hook.secret,
                    row.attempts,
                )
            )
        return sorted(claimed, key=lambda d: d.id)

    async def extend_webhook_lease(self, delivery_id: int, until: datetime) -> None:
        self._db.check()
        row = self._db.webhook_outbox.get(delivery_id)
        if row is not None and row.delivered_at is None:
            row.claimed_until = until

    async def mark_webhook_delivered(self, delivery_id: int, now: datetime, status: int) -> None:
        self._db.check()
        row = self._db.webhook_outbox.get(delivery_id)
        if row is not None and row.delivered_at is None:
            row.delivered_at, row.claimed_until, row.last_status = now, None, status
            self._db.course_webhooks[row.hook_id].failing_since = None

    async def postpone_webhook(
        self, delivery_id: int, at: datetime, status: int | None, error: str
    ) -> None:
        self._db.check()
        row = self._db.webhook_outbox.get(delivery_id)
        if row is not None and row.delivered_at is None:
            row.claimed_until, row.next_attempt_at = None, at
            row.last_status, row.last_error = status, error[:500]

    async def give_up_webhook(
        self,
        delivery_id: int,
        now: datetime,
        status: int | None,
        error: str,
        *,
        tell_owner: bool = False,
    ) -> None:
        self._db.check()
        row = self._db.webhook_outbox.get(delivery_id)
        if row is not None and row.delivered_at is None and row.failed_at is None:
            row.claimed_until, row.failed_at = None, now
            row.last_status, row.last_error = status, error[:500]
            if tell_owner:
                self._notice(row, GAVE_UP, error, now)

    def _notice(self, row: WebhookOutboxRow, kind: str, error: str, now: datetime) -> None:
        self._db.webhook_notices[next(self._db.webhook_notice_ids)] = WebhookNoticeRow(
            row.hook_id, row.session_id, kind, row.attempts, error[:500], now
        )

    async def note_hook_failing(self, delivery_id: int, now: datetime, error: str) -> bool:
        self._db.check()
        row = self._db.webhook_outbox.get(delivery_id)
        if row is None or self._db.course_webhooks[row.hook_id].failing_since is not None:
            return False
        self._db.course_webhooks[row.hook_id].failing_since = now
        self._notice(row, FAILING, error, now)
        return True

    async def claim_webhook_notices(self, now: datetime, limit: int) -> list[WebhookNotice]:
        db = self._db
        db.check()
        claimed: list[WebhookNotice] = []
        for i, n in sorted(db.webhook_notices.items()):
            if n.sent_at is not None:
                continue
            if len(claimed) >= limit:
                break
            n.sent_at = now
            hook = db.course_webhooks[n.hook_id]
            course = db.courses[hook.course_id]
            session = db.sessions.get(n.session_id)
            claimed.append(
                WebhookNotice(
                    id=i,
                    kind=n.kind,
                    owner_id=course.teacher_id,
                    course_id=course.id,
                    course_name=course.name,
                    url=hook.url,
                    session_id=n.session_id,
                    session_title=session.title if session else None,
                    session_started_at=session.started_at if session else None,
                    attempts=n.attempts,
                    error=n.error,
                )
            )
        return claimed

    async def release_webhook(self, delivery_id: int) -> None:
        self._db.check()
        row = self._db.webhook_outbox.get(delivery_id)
        if row is not None and row.delivered_at is None:
            row.claimed_until, row.attempts = None, max(0, row.attempts - 1)

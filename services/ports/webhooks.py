"""The outgoing webhook of a course (issue 16): its URL and signing secret, and the outbox of
deliveries owed to it, one per saved session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CourseWebhook:
    """A course's webhook as stored. `secret` signs every delivery (so it is kept as it is);
    it is shown to the owner once, when made, and never logged."""

    id: int
    course_id: int
    url: str
    secret: str
    created_by: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookStatus:
    """What the owner sees of a course's webhook: the hook, and how its deliveries went."""

    hook: CourseWebhook
    delivered: int
    pending: int
    failed: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One delivery owed, leased to the courier that claimed it.

    `attempts` counts this one (1 = the first); `url` and `secret` are the hook's now.
    """

    id: int
    session_id: str
    hook_id: int
    course_id: int
    event: str
    url: str
    secret: str
    attempts: int


@dataclass(frozen=True, slots=True)
class WebhookNotice:
    """What the course's owner is told of its webhook: a delivery given up (`gave_up`) or a
    hook that started failing (`failing`). `error` is the outbox's (no URL, no secret);
    the session's title and start are None when the session is gone."""

    id: int
    kind: str
    owner_id: int
    course_id: int
    course_name: str
    url: str
    session_id: str
    session_title: str | None
    session_started_at: datetime | None
    attempts: int
    error: str


GAVE_UP = "gave_up"
FAILING = "failing"


class WebhookRecords(Protocol):
    """Course webhooks and their outbox (rows written by `SessionRecords.persist_session`, in
    the same transaction as the session)."""

    async def set_course_webhook(
        self, course_id: int, *, url: str, secret: str, by: int, now: datetime
    ) -> CourseWebhook:
        """Replace the course's webhook (audited); deliveries queued for the old one go."""
        ...

    async def clear_course_webhook(self, course_id: int, *, by: int, now: datetime) -> bool:
        """Remove it (audited) with its queued deliveries; False when there was none."""
        ...

    async def course_webhook(self, course_id: int) -> CourseWebhook | None: ...
    async def webhook_status(self, course_id: int) -> WebhookStatus | None: ...

    async def claim_webhook_deliveries(
        self,
        now: datetime,
        lease_seconds: float,
        limit: int,
        *,
        per_hook: int,
        skip_hooks: list[int],
    ) -> list[WebhookDelivery]:
        """Lease up to `limit` due deliveries (not leased, past their back-off, not final),
        at most `per_hook` of each hook and none of `skip_hooks`, oldest due first; a row
        another process holds is skipped, never waited for."""
        ...

    async def extend_webhook_lease(self, delivery_id: int, until: datetime) -> None: ...
    async def mark_webhook_delivered(self, delivery_id: int, now: datetime, status: int) -> None:
        """Delivered; the hook is no longer failing (its next failing spell is told)."""
        ...

    async def postpone_webhook(
        self, delivery_id: int, at: datetime, status: int | None, error: str
    ) -> None: ...
    async def give_up_webhook(
        self,
        delivery_id: int,
        now: datetime,
        status: int | None,
        error: str,
        *,
        tell_owner: bool = False,
    ) -> None:
        """Failed for good; with `tell_owner`, a `gave_up` notice in the same transaction."""
        ...

    async def note_hook_failing(self, delivery_id: int, now: datetime, error: str) -> bool:
        """A `failing` notice of the delivery's hook, unless one was written since the hook's
        last delivery that went through; True when written."""
        ...

    async def claim_webhook_notices(self, now: datetime, limit: int) -> list[WebhookNotice]:
        """The notices not sent yet, oldest first, marked sent (each is claimed once, across
        processes)."""
        ...

    async def release_webhook(self, delivery_id: int) -> None:
        """Give the lease back, the attempt not made (it does not count)."""
        ...

"""A course's outgoing webhook as its owner manages it in the bot (/webhook): set the URL (a
new signing secret, shown once), see how deliveries went, send a test event, remove it. The
owner, or an admin for any course: the same people as the course's API tokens, since a
webhook too hands the course's records to another system."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from services.clock import Clock
from services.course_access import CourseAccess, Permission
from services.delivery import DeliveryFailed
from services.errors import InvalidArgument
from services.models import Course
from services.ports import CourseRecords, WebhookRecords
from services.ports.webhooks import CourseWebhook, WebhookNotice, WebhookStatus
from services.webhook_signing import new_signing_secret
from services.webhooks import WebhookCourier, check_webhook_url

log = logging.getLogger(__name__)

#: Notices sent per tick, at most (the rest on the next).
NOTICES_PER_TICK = 50


class WebhookNoticeSender(Protocol):
    """Tells a course's owner of its webhook (the bot layer's, in their language).

    Raises:
        DeliveryFailed: Telegram refused it (the owner blocked the bot, …).
    """

    async def send_webhook_notice(self, notice: WebhookNotice) -> None: ...


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """A webhook just set: its secret, shown once."""

    course: Course
    hook: CourseWebhook


class WebhookService:
    """Set, show, test and clear a course's webhook: its owner, or an admin for any course
    (the same people as its API tokens)."""

    def __init__(
        self,
        *,
        access: CourseAccess,
        webhooks: WebhookRecords,
        courses: CourseRecords,
        courier: WebhookCourier,
        clock: Clock,
        allow_private: bool = False,
    ) -> None:
        self._allow_private = allow_private  # ATTN_WEBHOOK_ALLOW_PRIVATE
        self._access = access
        self._webhooks = webhooks
        self._courses = courses
        self._courier = courier
        self._clock = clock

    async def course(self, user_id: int, words: list[str]) -> Course:
        """The course named by the words (all of the user's own when they own one only).

        Raises:
            InvalidArgument, NotPermitted, NotATeacher.
        """
        if await self._access.roles.is_admin(user_id) and words:
            course = await self._courses.course_by_join_code(words[0].upper())
            if course is not None:
                return course
        await self._access.require_any(user_id, Permission.API_TOKENS)
        if not words:
            owned = [
                c
                for c in await self._access.courses(user_id, Permission.API_TOKENS)
                if not c.archived
            ]
            if len(owned) != 1:
                raise InvalidArgument("course", "unknown")
            return owned[0]
        course, _ = await self._access.find(user_id, words, Permission.API_TOKENS)
        return course

    async def _checked(self, user_id: int, course_id: int) -> Course:
        if await self._access.roles.is_admin(user_id):
            course = await self._courses.course(course_id)
            if course is None:
                raise InvalidArgument("course", "unknown")
            return course
        return await self._access.course(user_id, course_id, Permission.API_TOKENS)

    async def status(self, user_id: int, course_id: int) -> WebhookStatus | None:
        course = await self._checked(user_id, course_id)
        return await self._webhooks.webhook_status(course.id)

    async def set_url(self, user_id: int, course_id: int, url: str) -> NewWebhook:
        """Set (or replace) the URL, with a new signing secret (audited).

        Raises:
            InvalidArgument("webhook_url", …): not https, or inside the deployment.
        """
        course = await self._checked(user_id, course_id)
        checked = check_webhook_url(url, allow_private=self._allow_private)
        hook = await self._webhooks.set_course_webhook(
            course.id, url=checked, secret=new_signing_secret(), by=user_id, now=self._clock.now()
        )
        return NewWebhook(course, hook)

    async def clear(self, user_id: int, course_id: int) -> bool:
        course = await self._checked(user_id, course_id)
        return await self._webhooks.clear_course_webhook(
            course.id, by=user_id, now=self._clock.now()
        )

    async def test(self, user_id: int, course_id: int) -> int | str | None:
        """Send the test event: the receiver's status, what went wrong, or None (no hook)."""
        course = await self._checked(user_id, course_id)
        hook = await self._webhooks.course_webhook(course.id)
        if hook is None:
            return None
        return await self._courier.ping(hook)

    async def tell_owners(self, sender: WebhookNoticeSender) -> int:
        """Send the owners' notices not sent yet (each claimed once, across processes: at
        most once; an owner who blocked the bot is logged, not retried). Returns how many
        Telegram took."""
        sent = 0
        for notice in await self._webhooks.claim_webhook_notices(
            self._clock.now(), NOTICES_PER_TICK
        ):
            try:
                await sender.send_webhook_notice(notice)
            except DeliveryFailed as failed:
                log.warning(
                    "webhook notice %s to the owner of course %s not delivered: %s",
                    notice.id,
                    notice.course_id,
                    failed.reason,
                )
                continue
            sent += 1
        return sent

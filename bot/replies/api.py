"""Replies about a course's REST API tokens."""

from __future__ import annotations

from datetime import tzinfo

from bot.replies.format import fmt_datetime, zone_of
from bot.text import Text, join, t
from services.api_tokens import NewToken, TokenListing
from services.models import Course
from services.ports.api import ApiScope
from services.ports.webhooks import WebhookStatus
from services.webhook_settings import NewWebhook

#: Literal keys, so the catalog check sees them used.
_SCOPE = {ApiScope.READ: "api.scope.read", ApiScope.READ_WRITE: "api.scope.read_write"}


def scope_name(scope: ApiScope) -> Text:
    return t(_SCOPE[scope])


def token_listing(listing: TokenListing, tz: tzinfo) -> Text:
    """/api_tokens: the course's tokens in force (label, scope, made, last used)."""
    course = listing.course
    zone = zone_of(course.time_zone, tz)
    heading = t("api.heading", name=course.name, course_id=course.id)
    if listing.tokens:
        body = join(
            [
                t(
                    "api.token",
                    label=token.label,
                    scope=scope_name(token.scope),
                    created=fmt_datetime(token.created_at, zone),
                    used=fmt_datetime(token.last_used_at, zone)
                    if token.last_used_at
                    else t("api.never_used"),
                )
                for token in listing.tokens
            ]
        )
    else:
        body = t("api.empty")
    return join([heading, body, t("api.explain")], "\n\n")


def token_created(new: NewToken) -> Text:
    return t(
        "api.created",
        scope=scope_name(new.token.scope),
        name=new.course.name,
        course_id=new.course.id,
        secret=new.secret,
    )


def webhook_status(course: Course, status: WebhookStatus | None) -> Text:
    """/webhook: the URL and how its deliveries went, or how to set one."""
    if status is None:
        return t("webhook.none", name=course.name, course_id=course.id)
    lines = [
        t("webhook.heading", name=course.name, course_id=course.id, url=status.hook.url),
        t(
            "webhook.counts",
            delivered=status.delivered,
            pending=status.pending,
            failed=status.failed,
        ),
    ]
    if status.last_error:
        lines.append(t("webhook.last_error", error=status.last_error))
    lines.append(t("webhook.explain"))
    return join(lines, "\n")


def webhook_set(new: NewWebhook) -> Text:
    return t(
        "webhook.set",
        name=new.course.name,
        course_id=new.course.id,
        url=new.hook.url,
        secret=new.hook.secret,
    )


def webhook_tested(outcome: int | str | None) -> Text:
    """The test event's outcome: the receiver's status, or what went wrong."""
    if outcome is None:
        return t("webhook.already_removed")
    if isinstance(outcome, int):
        key = "webhook.test_ok" if 200 <= outcome < 300 else "webhook.test_status"
        return t(key, status=outcome)
    return t("webhook.test_failed", error=outcome)

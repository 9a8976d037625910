"""Replies about a course's REST API tokens."""

from __future__ import annotations

from datetime import tzinfo

from bot.replies.format import fmt_datetime, zone_of
from bot.text import Text, join, t
from services.api_tokens import NewToken, TokenListing
from services.ports.api import ApiScope

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

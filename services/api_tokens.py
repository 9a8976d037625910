"""A course's REST API tokens (issue 16): made and revoked in the bot by the course's owner or
an admin, shown once, stored only as a SHA-256 hash, each making and revocation audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from services.clock import Clock
from services.course_access import CourseAccess, Permission
from services.errors import DomainError, InvalidArgument
from services.models import Course
from services.ports import ApiTokenRecords, CourseRecords
from services.ports.api import ApiScope, ApiToken
from services.roles import hash_token

#: Every token starts so, for secret scanners and for the reader who finds one in a config.
TOKEN_PREFIX = "attn_"
#: Characters of the secret shown in the label (of 43): enough to tell tokens apart.
LABEL_CHARACTERS = 6
#: Tokens in force per course: the list and its buttons stay readable.
MAX_TOKENS_PER_COURSE = 20


@dataclass
class TooManyTokens(DomainError):
    """The course has `MAX_TOKENS_PER_COURSE` tokens in force: revoke one first."""

    limit: int


@dataclass(frozen=True, slots=True)
class TokenListing:
    """What /api_tokens shows: the course and its tokens in force."""

    course: Course
    tokens: list[ApiToken]


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just made: the secret itself, shown once and never again."""

    course: Course
    token: ApiToken
    secret: str


def new_secret() -> str:
    """A token: the prefix and 256 random bits (so a plain SHA-256 is a safe hash)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiTokenService:
    """Make, list and revoke a course's API tokens: its owner, or an admin for any course."""

    def __init__(
        self,
        *,
        access: CourseAccess,
        tokens: ApiTokenRecords,
        courses: CourseRecords,
        clock: Clock,
    ) -> None:
        self._access = access
        self._tokens = tokens
        self._courses = courses
        self._clock = clock

    async def manageable_courses(self, user_id: int) -> list[Course]:
        """The user's own courses (an admin names others by join code).

        Raises:
            NotATeacher, NotPermitted: not a teacher, or only staff of others' courses.
        """
        await self._access.require_any(user_id, Permission.API_TOKENS)
        return await self._access.courses(user_id, Permission.API_TOKENS)

    async def find_course(self, user_id: int, words: list[str]) -> Course:
        """The course named by the words among the user's own; an admin's join code names
        any course.

        Raises:
            InvalidArgument, NotPermitted, NotATeacher.
        """
        if await self._access.roles.is_admin(user_id) and words:
            course = await self._courses.course_by_join_code(words[0].upper())
            if course is not None:
                return course
        await self._access.require_any(user_id, Permission.API_TOKENS)
        course, _ = await self._access.find(user_id, words, Permission.API_TOKENS)
        return course

    async def _course(self, user_id: int, course_id: int) -> Course:
        """The course (from a button: forgeable), if the user may manage its tokens."""
        if await self._access.roles.is_admin(user_id):
            course = await self._courses.course(course_id)
            if course is None:
                raise InvalidArgument("course", "unknown")
            return course
        return await self._access.course(user_id, course_id, Permission.API_TOKENS)

    async def listing(self, user_id: int, course_id: int) -> TokenListing:
        course = await self._course(user_id, course_id)
        return TokenListing(course, await self._tokens.course_api_tokens(course.id))

    async def create(self, user_id: int, course_id: int, scope: ApiScope) -> NewToken:
        """A new token of the course (audited); the secret is in the result only.

        Raises:
            NotATeacher, NotYours, NotPermitted, InvalidArgument; TooManyTokens.
        """
        course = await self._course(user_id, course_id)
        secret = new_secret()
        label = secret[: len(TOKEN_PREFIX) + LABEL_CHARACTERS] + "…"
        token = await self._tokens.create_api_token(
            hash_token(secret),
            course_id=course.id,
            label=label,
            scope=scope,
            created_by=user_id,
            now=self._clock.now(),
            limit=MAX_TOKENS_PER_COURSE,
        )
        if token is None:
            raise TooManyTokens(MAX_TOKENS_PER_COURSE)
        return NewToken(course, token, secret)

    async def revoke(self, user_id: int, course_id: int, token_id: int) -> ApiToken | None:
        """Revoke the token (audited): refused by the API from the next request on. None when
        it was revoked already (a double tap) or is not the course's."""
        course = await self._course(user_id, course_id)
        return await self._tokens.revoke_api_token(
            course.id, token_id=token_id, by=user_id, at=self._clock.now()
        )

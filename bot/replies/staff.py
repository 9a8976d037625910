"""Replies about co-teachers and assistants of a course."""

from __future__ import annotations

from bot.text import Text, join, t
from services.course_access import NotPermitted
from services.models import Course, CourseRole
from services.staff import STAFF_INVITE_PREFIX, Joined, StaffListing

#: Each text that differs by role, by role (literal keys, so the catalog sees them used).
_ROLE = {
    CourseRole.CO_TEACHER: "staff.role.co_teacher",
    CourseRole.ASSISTANT: "staff.role.assistant",
}
_INVITE = {
    CourseRole.CO_TEACHER: "staff.invite.co_teacher",
    CourseRole.ASSISTANT: "staff.invite.assistant",
}
_JOINED = {
    CourseRole.CO_TEACHER: "staff.joined.co_teacher",
    CourseRole.ASSISTANT: "staff.joined.assistant",
}
_JOINED_NOTICE = {
    CourseRole.CO_TEACHER: "staff.joined_notice.co_teacher",
    CourseRole.ASSISTANT: "staff.joined_notice.assistant",
}


def not_permitted(error: NotPermitted) -> Text:
    """A course role that does not allow the action (an owner is never refused)."""
    if error.role is CourseRole.CO_TEACHER:
        return t("staff.not_permitted.co_teacher")
    if error.role is CourseRole.ASSISTANT:
        return t("staff.not_permitted.assistant")
    return t("staff.not_permitted.any")


def role_name(role: CourseRole) -> Text:
    return t(_ROLE[role])


def course_role_mark(role: CourseRole, item: Text) -> Text:
    """A course's line in /courses, marked with the user's role when it is not theirs."""
    if role is CourseRole.OWNER:
        return item
    return join([t("staff.course_mark", role=role_name(role)), item], " ")


def staff_listing(listing: StaffListing) -> Text:
    """/staff: the course's co-teachers and assistants, and what each role may do."""
    heading = t("staff.heading", name=listing.course.name)
    if listing.members:
        lines = [
            t("staff.member", name=m.profile.display_name, role=role_name(m.role))
            for m in listing.members
        ]
        body = join(lines)
    else:
        body = t("staff.empty")
    return join([heading, body, t("staff.explain")], "\n\n")


def staff_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={STAFF_INVITE_PREFIX}{token}"


def staff_invite(course: Course, role: CourseRole, link: str) -> Text:
    return t(_INVITE[role], name=course.name, link=link)


def joined(joined: Joined) -> Text:
    return t(_JOINED[joined.role], name=joined.course.name)


def joined_notice(joined: Joined, person: str) -> Text:
    """To the owner who sent the link: who accepted it."""
    return t(_JOINED_NOTICE[joined.role], person=person, name=joined.course.name)


def removed(course: Course, person: str) -> Text:
    return t("staff.removed", person=person, name=course.name)


def removed_notice(course: Course) -> Text:
    return t("staff.removed_notice", name=course.name)

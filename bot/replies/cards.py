"""The session card's text and buttons, live and final."""

from __future__ import annotations

from bot.text import Named, Text, constants, t

#: Named texts, rendered when read (in the reader's language); (key, False): plain text.
CONSTANTS: dict[str, Named] = {
    "CARD_LOCATION_BUTTON": ("card.location_button", False),
    "CARD_LOCATION_MISSING": ("card.location_missing_button", False),
    "CODE_CARD_FOR_GROUP": "card.for_group",
}
__getattr__ = constants(CONSTANTS)


def checked_in_count(count: int, roster_size: int, has_roster: bool) -> Text:
    """ "12 / 40" with a roster, "12" without."""
    if has_roster:
        return t("card.count_roster", count=count, roster=roster_size)
    return t("card.count", count=count)


def card_heading(course_name: str | None, title: str) -> Text:
    """The heading "Course · Title", or the title alone when it starts with the course's
    name (the default "Physics 2026-12-03", or "Physics lab"): never "Physics · Physics…"."""
    if course_name and not title.casefold().startswith(course_name.casefold()):
        return t("card.heading_course", course=course_name, title=title)
    return t("card.heading", title=title)


def card_ended(heading: str, count: str, summary_sent: bool) -> Text:
    """`heading` and `count` are catalog text (`card_heading`, `checked_in_count`)."""
    key = "card.ended_sent" if summary_sent else "card.ended"
    return t(key, heading=Text(heading), checked=Text(count))


def card_location_line(anchor_set: bool) -> Text:
    """The card's location-check line: says plainly when students cannot check in yet."""
    return t("card.location_on" if anchor_set else "card.location_missing")

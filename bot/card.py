"""The teacher's live session card: a QR photo whose caption and buttons stay current.

Rendering is pure (state in, text and buttons out); a fingerprint of what a card shows lets
the refresh job edit only when something changed, and replace the QR image only when the
code did.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

import segno
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import replies
from bot.telegram_limits import checked_keyboard, fit_caption
from bot.text import Text, join, t
from services.models import CardState, Session, SessionSummary
from services.qr import CheckInLinks

CARD_ACTIONS = ("end", "ext", "miss", "list", "loc", "proj")
_CARD_DATA = re.compile(r"cd:(end|ext|miss|list|loc|proj):([0-9a-f]{12})")


@dataclass(frozen=True)
class CardView:
    text: str
    code: str
    keyboard: InlineKeyboardMarkup | None
    final: bool
    projector_url: str | None = None

    @property
    def fingerprint(self) -> str:
        """ "<code>:<digest>": the code part tells whether the QR image must change. The
        digest covers the projector link too: a new link changes the card's button."""
        shown = f"{self.text}\n{self.projector_url or ''}"
        digest = hashlib.sha1(shown.encode(), usedforsecurity=False).hexdigest()[:16]
        return f"{self.code}:{digest}"


def card_data(action: str, session_id: str) -> str:
    return f"cd:{action}:{session_id}"


def parse_card_data(data: str) -> tuple[str, str] | None:
    """(action, session id) from a card button's data, or None for anything else."""
    match = _CARD_DATA.fullmatch(data)
    return (match[1], match[2]) if match else None


def qr_link(
    bot_username: str, session_id: str, code: str, links: CheckInLinks | None = None
) -> str:
    """What the QR of the session's current code carries, on the card and on the projector
    page alike (one function, so both always show the same thing): with the web on
    (`links` from `bot.cards.checkin_links_of`) the Mini App's startapp link when the bot
    has a Mini App, else the chat's start link."""
    return (links or CheckInLinks(bot_username)).scan(session_id, code)


def qr_png(link: str) -> bytes:
    """A QR image of the check-in link, big enough to scan off a projector."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=10, border=2)
    return out.getvalue()


def _keyboard(
    session: Session, links: CheckInLinks, in_group: bool, projector_url: str | None = None
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                t("card.button.end", html=False), callback_data=card_data("end", session.id)
            ),
            InlineKeyboardButton(
                t("card.button.extend", html=False), callback_data=card_data("ext", session.id)
            ),
        ],
        [
            InlineKeyboardButton(
                t("card.button.list", html=False), callback_data=card_data("list", session.id)
            )
        ],
    ]
    if session.has_roster:
        rows[1].insert(
            0,
            InlineKeyboardButton(
                t("card.button.missing", html=False), callback_data=card_data("miss", session.id)
            ),
        )
    if session.geo:
        # The classroom's location can be (re)shared at any time: the button asks for it in
        # the teacher's private chat (Telegram's location button works only there).
        label = replies.CARD_LOCATION_BUTTON if session.anchor else replies.CARD_LOCATION_MISSING
        rows.append([InlineKeyboardButton(label, callback_data=card_data("loc", session.id))])
    if in_group:
        # The link names the session only: the code stays on the projector, not in the group.
        # With the web on it opens the Mini App (a web_app button is refused in groups).
        link = links.group(session.id)
        rows.append([InlineKeyboardButton(t("card.button.check_in", html=False), url=link)])
    elif projector_url is not None:
        # Only on a private card: the link shows the code, so it never goes to a group.
        rows.append(
            [
                InlineKeyboardButton(t("card.button.projector", html=False), url=projector_url),
                InlineKeyboardButton(
                    t("card.button.new_projector", html=False),
                    callback_data=card_data("proj", session.id),
                ),
            ]
        )
    return checked_keyboard(InlineKeyboardMarkup(rows))


def render_card(
    state: CardState,
    now: datetime,
    tz: tzinfo,
    bot_username: str,
    in_group: bool,
    projector_url: str | None = None,
    links: CheckInLinks | None = None,
) -> CardView:
    """What the card shows for this state: live, or final once the session is over. A
    private card has a Projector button when `projector_url` is given (the web features
    are on); a group's never has one. `links`: where its buttons lead (the chat's deep
    links when None)."""
    session = state.session
    links = links or CheckInLinks(bot_username)
    count = replies.checked_in_count(state.checked_in, session.roster_size, session.has_roster)
    heading = replies.card_heading(session.course_name, session.title)
    if not session.is_open(now):
        return CardView(replies.card_ended(heading, count, summary_sent=False), "", None, True)
    minutes = max(1, math.ceil((session.ends_at - now).total_seconds() / 60))
    # Times in the course's zone, with its abbreviation when the course chose one.
    until = replies.fmt_time_in(session.ends_at, session.time_zone, tz)
    timing = t("card.timing", minutes=minutes, until=until)
    if session.late_at is not None:
        late_from = replies.fmt_time_in(session.late_at, session.time_zone, tz)
        timing = join([timing, t("card.late_from", at=late_from)])
    if in_group:
        # A group card never carries the code: absent friends read groups too.
        text = t("card.group", heading=heading, checked=count, timing=timing)
        if session.geo:
            text = join([text, replies.card_location_line(session.anchor is not None)])
        return CardView(text, "", _keyboard(session, links, in_group), False)
    text = t("card.private", heading=heading, code=session.code, checked=count, timing=timing)
    if session.geo:
        text = join([text, replies.card_location_line(session.anchor is not None)])
    text = Text(fit_caption(text))  # a photo's caption: 1,024 characters
    keyboard = _keyboard(session, links, in_group, projector_url)
    return CardView(text, session.code, keyboard, False, projector_url)


def final_card_text(summary: SessionSummary) -> str:
    """The card once the summary went out."""
    attended = len(summary.checked_in)
    count = replies.checked_in_count(attended, summary.roster_size, summary.course_name is not None)
    heading = replies.card_heading(summary.course_name, summary.title)
    return replies.card_ended(heading, count, summary_sent=True)

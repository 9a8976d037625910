"""Session cards in chats: one publisher posts, refreshes and finalises every card.

A card in a private chat is a photo, the QR of the check-in link, with the code, the count,
the time left and the buttons in its caption. A card in a group is a text message with the
same count and buttons but never the code or the QR (absent friends read groups too). Only
`CardPublisher` knows that difference: the handlers post through it, the refresh below edits
through it, the notifier finalises through it. What a card shows is rendered in bot/card.py.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from telegram import Bot, InputFile, InputMediaPhoto, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.card import CardView, final_card_text, qr_link, qr_png, render_card
from bot.context import AttnContext, HoldsBotData
from bot.languages import recipient_languages
from bot.text import default_language, speaking
from services.models import CardState, Session, SessionSummary
from services.qr import CheckInLinks

log = logging.getLogger(__name__)

CardKind = Literal["card", "code_card"]
"""A session's card in the chat it was started from, or a group session's private code card
(QR, code, buttons) that the teacher projects."""


MINI_APP_PAGE = "/miniapp"
#: The teacher dashboard's page (bot.web.dashboard), opened from /courses.
DASHBOARD_PAGE = "/app/teacher"
"""Where the web server serves the Mini App's page."""
MINI_APP_KEY = "mini_app"
"""bot_data: the Mini App's route when the web server is on (absent: it is off)."""


@dataclass(frozen=True)
class MiniAppRoute:
    """The web server is on: QR codes and group buttons open the Mini App (BotFather's main
    Mini App of the bot, or the one with this short name) when the bot has one; `page_url`
    is the page itself, for a web_app button in a private chat."""

    short_name: str | None = None
    page_url: str | None = None


def opens_mini_app(route: MiniAppRoute | None, bot_user: User) -> bool:
    """Whether `t.me/<bot>?startapp=` links open a Mini App: the web is on, and either a
    named Mini App is configured or getMe says the bot has a main one (`has_main_web_app`).
    Without one, Telegram opens only the chat and drops the parameter, so the links are the
    chat's (`?start=`), which check in there. Not said (an older Bot API server) counts as
    none: a chat link always works."""
    if route is None:
        return False
    return bool(route.short_name) or bot_user.has_main_web_app is True


def missing_main_app(route: MiniAppRoute | None, bot_user: User) -> str | None:
    """What the operator must hear at start when the web is on but the QR codes cannot open
    the Mini App (no main Mini App in @BotFather, none named): they carry the chat's
    check-in link instead, and the way to turn the Mini App on. None otherwise."""
    if route is None or opens_mini_app(route, bot_user):
        return None
    return (
        f"@{bot_user.username} has no main Mini App: QR codes and check-in buttons open the"
        f" chat (t.me/{bot_user.username}?start=...), which checks in, instead of the Mini"
        " App. To have them open the Mini App, in @BotFather: Bot Settings > Configure Mini"
        f" App > Enable Mini App with the URL {route.page_url}, then restart; or set"
        " ATTN_MINIAPP_SHORT_NAME to a Mini App made with /newapp"
    )


def checkin_links(bot: Bot, route: MiniAppRoute | None) -> CheckInLinks:
    """Where the QR and the check-in buttons lead, for this bot (initialised: its username
    and what getMe said are known): the Mini App when it opens one, else the chat."""
    if route is None or not opens_mini_app(route, bot.bot):
        return CheckInLinks(bot.username)
    return CheckInLinks(bot.username, mini_app=True, short_name=route.short_name)


def checkin_links_of(application: HoldsBotData, bot: Bot) -> CheckInLinks:
    """The links of the running application (the projector page shows the same QR)."""
    return checkin_links(bot, application.bot_data.get(MINI_APP_KEY))


class CardPublisher:
    """Posts, edits and finalises a session's card: a QR photo privately, text in a group."""

    def __init__(
        self,
        bot: Bot,
        tz: tzinfo,
        projector: Callable[[Session], str | None] | None = None,
        mini_app: MiniAppRoute | None = None,
    ) -> None:
        self._bot = bot
        self._tz = tz
        self._projector = projector  # a private card's projector link; None: no button
        self._mini_app = mini_app  # QR and group button open the Mini App; None: the chat

    @property
    def links(self) -> CheckInLinks:
        return checkin_links(self._bot, self._mini_app)

    @staticmethod
    def in_group(chat_id: int) -> bool:
        """A group's (or channel's) id is negative, a private chat's is the user's id."""
        return chat_id < 0

    def view(self, state: CardState, now: datetime, chat_id: int) -> CardView:
        """What the card in this chat shows for this state: a group's in the installation's
        language (a group is read by many; each student's private replies are in their own),
        a private card in the current one (the teacher's)."""
        group = self.in_group(chat_id)
        projector = None
        if not group and self._projector is not None:
            projector = self._projector(state.session)
        with speaking(default_language() if group else None):
            return render_card(
                state, now, self._tz, self._bot.username, group, projector, self.links
            )

    async def post(self, chat_id: int, session: Session) -> tuple[int, CardView]:
        """Post the new session's live card in the chat: (its message id, what it shows)."""
        view = self.view(CardState(session, 0), session.started_at, chat_id)
        if self.in_group(chat_id):
            message = await self._bot.send_message(chat_id, view.text, reply_markup=view.keyboard)
        else:
            message = await self._bot.send_photo(
                chat_id,
                InputFile(qr_png(self._link(session)), filename="checkin.png"),
                caption=view.text,
                reply_markup=view.keyboard,
            )
        return message.message_id, view

    async def edit(
        self, chat_id: int, message_id: int, session: Session, view: CardView, new_code: bool
    ) -> None:
        """Show `view` on the card; a private card's QR image is replaced when `new_code`."""
        if self.in_group(chat_id):
            await self._bot.edit_message_text(
                view.text, chat_id=chat_id, message_id=message_id, reply_markup=view.keyboard
            )
        elif new_code:
            await self._bot.edit_message_media(
                self._qr_photo(session, view),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=view.keyboard,
            )
        else:
            await self._bot.edit_message_caption(
                chat_id=chat_id,
                message_id=message_id,
                caption=view.text,
                reply_markup=view.keyboard,
            )

    async def finalise(self, summary: SessionSummary) -> None:
        """The card once the summary went out: final text, no buttons. Best effort: a card
        deleted by the teacher, or too old to edit, does not make the summary fail."""
        chat_id, message_id = summary.card_chat_id, summary.card_message_id
        if chat_id is None or message_id is None:
            return
        with speaking(default_language() if self.in_group(chat_id) else None):
            text = final_card_text(summary)
        try:
            if self.in_group(chat_id):
                await self._bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=None
                )
            else:
                await self._bot.edit_message_caption(
                    chat_id=chat_id, message_id=message_id, caption=text, reply_markup=None
                )
        except TelegramError as exc:
            log.info("could not finalise the card of session %s: %s", summary.session_id, exc)

    def _link(self, session: Session) -> str:
        return qr_link(self._bot.username, session.id, session.code, self.links)

    def _qr_photo(self, session: Session, view: CardView) -> InputMediaPhoto:
        """The card's new photo: the QR of the current check-in link, uploaded as attach://
        (an InputFile without attach=True leaves InputMedia with no "media" field, and
        Telegram answers "Can't parse InputMedia: media not found": the QR froze)."""
        return InputMediaPhoto(
            InputFile(qr_png(self._link(session)), filename="checkin.png", attach=True),
            caption=view.text,
            parse_mode=ParseMode.HTML,
        )


def publisher_of(context: AttnContext) -> CardPublisher:
    return CardPublisher(
        context.bot,
        context.tz,
        context.services.projector.link,
        context.application.bot_data.get(MINI_APP_KEY),
    )


CARD_INTERVAL_KEY = "card_refresh_seconds"
CARD_EDIT_CONCURRENCY = 8
"""Card edits one refresh has under way at once. Each is in its own chat, so none waits
behind another chat's flood pacing; bounded so a thousand live cards do not open a thousand
requests at once (the flood limiter spaces them anyway)."""
CARD_EDITS_KEY = "card_edits_under_way"  # bot_data: edits the refresh job left running
_CARD_GONE = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "group chat was upgraded",
    "have no rights",
    "not enough rights",
)
"""Parts of a 400 that mean the card will never be editable again in this session."""

CardEdit = Callable[[bool], Awaitable[object]]


def card_interval(context: AttnContext) -> float:
    """Seconds between two edits of one card (a new code is shown at once)."""
    return float(context.application.bot_data.get(CARD_INTERVAL_KEY, 5.0))


async def refresh_cards(
    context: AttnContext,
    only: str | None = None,
    among: Collection[str] | None = None,
    wait: float | None = None,
) -> int:
    """Edit every live card whose content changed, at most once per refresh interval each
    (a new code at once); `only` one session, or those `among` a few. How many were edited.

    The check-and-claim is one Redis step per card, so with several processes one card is
    edited by one of them at a time. The QR image is replaced only when the code changed.
    A group session has two cards (the group's, and the teacher's private code card that is
    projected): each is edited, refused and let go on its own. Cards of different chats are
    edited concurrently, so one chat's queue (a group's flood pacing, a flood wait) never
    holds up another class's card; Telegram's refusal of one edit never stops the others.
    With `wait`, edits still under way after that many seconds (a card waiting for its
    group's turn, a flood wait) finish in the background: the periodic job (one run at a
    time) then keeps every other card fresh meanwhile.
    """
    services = context.services
    interval = card_interval(context)
    now = services.cards.now()
    publisher = publisher_of(context)
    edits: list[Callable[[], Awaitable[int]]] = []
    for state in await services.cards.card_states():
        session = state.session
        if (only is not None and session.id != only) or (
            among is not None and session.id not in among
        ):
            continue
        if (
            state.code_card_live
            and session.code_card_chat_id is not None
            and session.code_card_message_id is not None
        ):
            edits.append(
                functools.partial(
                    refresh_card, context, publisher, state, now, interval, "code_card"
                )
            )
        if (
            state.card_live
            and session.card_chat_id is not None
            and session.card_message_id is not None
        ):
            edits.append(
                functools.partial(refresh_card, context, publisher, state, now, interval, "card")
            )
    if not edits:
        return 0
    if len(edits) == 1 and wait is None:
        return await edits[0]()
    gate = asyncio.Semaphore(CARD_EDIT_CONCURRENCY)

    async def gated(edit: Callable[[], Awaitable[int]]) -> int:
        async with gate:
            return await edit()

    if wait is None:
        results = await asyncio.gather(*(gated(edit) for edit in edits), return_exceptions=True)
    else:
        under_way: set[asyncio.Task[int]] = context.application.bot_data.setdefault(
            CARD_EDITS_KEY, set()
        )
        tasks = [asyncio.create_task(gated(edit)) for edit in edits]
        for task in tasks:
            under_way.add(task)
            task.add_done_callback(functools.partial(_card_edit_finished, under_way))
        await asyncio.wait(tasks, timeout=wait)
        results = [
            (task.exception() or task.result()) if task.done() and not task.cancelled() else 0
            for task in tasks
        ]
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures[1:]:
        log.warning("card refresh: %s", failure, exc_info=failure)
    if failures:
        raise failures[0]  # StorageUnavailable: the job postpones; a bug: it is reported
    return sum(r for r in results if isinstance(r, int))


def _card_edit_finished(under_way: set[asyncio.Task[int]], task: asyncio.Task[int]) -> None:
    """A card edit the refresh job stopped waiting for ended: forget it, and say why it
    failed if it did (nobody awaits it any more)."""
    under_way.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("card edit: %s", task.exception())


async def refresh_card(
    context: AttnContext,
    publisher: CardPublisher,
    state: CardState,
    now: datetime,
    interval: float,
    card: CardKind,
) -> int:
    """Keep one card current: the session's card (a QR photo privately, text in a group),
    or a group session's private code card, which the teacher projects, so a rotated code
    must reach it as soon as the group's. 1 when it was edited."""
    session = state.session
    if card == "card":
        chat_id, message_id = session.card_chat_id, session.card_message_id
    else:
        chat_id, message_id = session.code_card_chat_id, session.code_card_message_id
    assert chat_id is not None and message_id is not None
    with speaking(await recipient_languages(context).of(session.teacher_id)):
        view = publisher.view(state, now, chat_id)  # in the teacher's language, as posted
    edit = functools.partial(publisher.edit, chat_id, message_id, session, view)
    return await edit_card(context, session.id, card, view, interval, edit)


async def edit_card(
    context: AttnContext,
    session_id: str,
    card: CardKind,
    view: CardView,
    interval: float,
    edit: CardEdit,
) -> int:
    """Claim the edit of one card, make it, and act on Telegram's answer: the final state or
    a card that can never be edited again (deleted; the bot removed from the group or
    blocked by the teacher: 403) lets that card go; any other refusal (a 429 flood wait, a
    network error) gives the claim back, so a later refresh shows what the card should show.
    1 when the card was edited."""
    cards = context.services.cards
    pace = 0.0 if view.final else interval  # the final state is shown at once
    previous = await cards.may_edit_card(session_id, view.fingerprint, pace, card=card)
    if previous is None:
        return 0
    name = "card" if card == "card" else "code card"
    try:
        await edit(bool(view.code) and previous.split(":", 1)[0] != view.code)
    except RetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        log.warning("flood wait on the %s of session %s: %s", name, session_id, exc)
        await cards.card_edit_failed(
            session_id, previous, card=card, claimed=view.fingerprint, retry_after=seconds
        )
        return 0
    except (Forbidden, ChatMigrated) as exc:  # removed from the group, blocked by the teacher
        log.info("the %s of session %s is out of reach: %s", name, session_id, exc)
        await cards.card_done(session_id, card)
        return 0
    except BadRequest as exc:
        reason = exc.message.lower()
        if "not modified" in reason:  # it shows this already
            if view.final:
                await cards.card_done(session_id, card)
            return 0
        if any(marker in reason for marker in _CARD_GONE):
            log.info("the %s of session %s is gone: %s", name, session_id, exc)
            await cards.card_done(session_id, card)
            return 0
        log.warning("could not edit the %s of session %s: %s", name, session_id, exc)
        await cards.card_edit_failed(session_id, previous, card=card, claimed=view.fingerprint)
        return 0
    except TelegramError as exc:  # network, time-out, 5xx: try again at a later refresh
        log.warning("could not edit the %s of session %s: %s", name, session_id, exc)
        await cards.card_edit_failed(session_id, previous, card=card, claimed=view.fingerprint)
        return 0
    if view.final:
        await cards.card_done(session_id, card)
    return 1

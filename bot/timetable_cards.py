"""What the timetable's tick says and posts: each opened class's session card (to whoever
opened it, and to the course's linked group), the reminder before a class and the alert
after one that passed with nobody there. The deciding (once across processes) is done by
`services.timetable_runs`; this module only speaks, each message in its reader's language.
"""

from __future__ import annotations

import logging

from telegram.error import TelegramError

from bot.cards import publisher_of
from bot.context import AttnContext
from bot.languages import recipient_languages
from bot.replies import timetable as view
from bot.text import speaking
from services.timetable_runs import OpenedSlot, SlotNotice

log = logging.getLogger(__name__)


async def run_timetables(context: AttnContext) -> int:
    """One tick of every timetable: remind, open and report what is due (each once across
    processes), then say so. How many messages and cards it sent."""
    work = await context.services.timetable_runs.run_due()
    sent = 0
    for notice in work.reminders:
        sent += await _notify(context, notice)
    for opened in work.opened:
        sent += await post_slot_session(context, opened)
    for notice in work.missed:
        sent += await _notify(context, notice)
    return sent


async def _notify(context: AttnContext, notice: SlotNotice) -> int:
    """A reminder (no reason) or a missed class, to each of its recipients in their own
    language. Sent at most once: the claim came first, so a message Telegram refuses is
    logged, not retried."""
    sent = 0
    for user_id in notice.recipients:
        with speaking(await recipient_languages(context).of(user_id)):
            if notice.reason:
                text = view.missed(notice.course, notice.slot, notice.reason, context.tz)
                markup = None
            else:
                text, markup = view.reminder(notice.course, notice.slot, context.tz)
        try:
            await context.bot.send_message(user_id, text, reply_markup=markup)
        except TelegramError as exc:
            log.warning("timetable message to %s not sent: %s", user_id, exc)
            continue
        sent += 1
    return sent


async def post_slot_session(context: AttnContext, opened: OpenedSlot) -> int:
    """Post a timetabled session's card: the code card to whoever opened it, privately,
    then the code-less card to the linked group. When the opener cannot be written to,
    nobody could learn the code: the session is discarded (the class is then reported as
    passed without a session). A group that refuses its card leaves the private card alone.
    """
    session, services = opened.session, context.services
    publisher = publisher_of(context)
    with speaking(await recipient_languages(context).of(session.teacher_id)):
        try:
            message_id, shown = await publisher.post(session.teacher_id, session)
        except TelegramError as exc:
            log.warning("timetabled session %s discarded: no card: %s", session.id, exc)
            await services.sessions.discard_session(session)
            return 0
        group = opened.group_chat_id
        if group is None:
            await services.cards.attach_card(
                session, session.teacher_id, message_id, shown.fingerprint
            )
            return 1
        await services.cards.attach_code_card(
            session, session.teacher_id, message_id, shown.fingerprint
        )
        try:
            group_message, group_shown = await publisher.post(group, session)
        except TelegramError as exc:
            log.warning("timetabled session %s: no card in group %s: %s", session.id, group, exc)
            return 1
        await services.cards.attach_card(session, group, group_message, group_shown.fingerprint)
    return 2

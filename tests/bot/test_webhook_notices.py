"""The course's owner is told of its outgoing webhook (issue 16): once when the hook starts
failing, once per delivery given up after its last retry; in their language, with the
course, the session and the last error, the URL without its query; an owner who blocked the
bot breaks nothing (the notice is not retried, the deliveries go on)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.alerts import TelegramAlertSender
from bot.languages import languages_of
from bot.webhook_sender import webhook_courier_over
from services.clock import ManualClock
from services.models import Session, SessionState
from services.webhooks import FAILING_AFTER, WebhookCourier, WebhookRetry
from tests.bot.test_course_staff import new_course
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables

URL = "https://hooks.example.org/attn/in?key=s3cret-in-query"
SHOWN = "https://hooks.example.org/attn/in"
ATTEMPTS = FAILING_AFTER + 1  # the courier of these tests gives up after this many


class DownReceiver:
    """The receiver's side of every attempt: the connection fails (an error that names the
    whole URL, as some clients' errors do), or, once `up`, 200."""

    def __init__(self) -> None:
        self.up = False
        self.posts = 0

    async def post(self, url: str, body: bytes, headers: dict[str, str], seconds: float) -> int:
        self.posts += 1
        if self.up:
            return 200
        raise ConnectionRefusedError(f"connection to {url} refused")


def courier_of(bot: BotHarness, clock: ManualClock, receiver: DownReceiver) -> WebhookCourier:
    retry = WebhookRetry(max_attempts=ATTEMPTS, base_seconds=10, jitter=0)
    return webhook_courier_over(bot.services.records, clock, 10.0, sender=receiver, retry=retry)


async def saved_session(bot: BotHarness, clock: ManualClock, course_id: int, n: int) -> Session:
    started = clock.now() - timedelta(hours=2)
    session = Session(
        id=f"wn{course_id:04x}{n:06x}",
        teacher_id=TEACHER_ID,
        chat_id=TEACHER_ID,
        title=f"Week <{n}>",
        code="",
        started_at=started,
        ends_at=started + timedelta(hours=1),
        state=SessionState.SEALED,
        late_at=None,
        course_id=course_id,
    )
    await bot.services.records.sessions.persist_session(session, [], first_attempt=True)
    return session


async def hooked_course(
    bot: BotHarness, clock: ManualClock, course_id: int
) -> tuple[DownReceiver, WebhookCourier]:
    """The course's webhook set to URL, one session saved, its receiver down; the courier."""
    await bot.services.webhooks.set_url(TEACHER_ID, course_id, URL)
    await saved_session(bot, clock, course_id, 1)
    receiver = DownReceiver()
    return receiver, courier_of(bot, clock, receiver)


async def attempt(courier: WebhookCourier, clock: ManualClock) -> None:
    """One more attempt of every delivery (the back-off is at most 10 s × 2^5 here)."""
    await courier.deliver()
    clock.advance(seconds=400)


def told(bot: BotHarness, since: int) -> list[str]:
    return bot.request.texts(TEACHER_ID)[since:]


@pytest.fixture
def sender(bot: BotHarness) -> TelegramAlertSender:
    languages = languages_of(bot.app, bot.services.users)
    return TelegramAlertSender(bot.app.bot, bot.services_tz, languages)


async def test_the_owner_is_told_once_when_failing_and_once_when_given_up(
    bot: BotHarness,
    clock: ManualClock,
    sender: TelegramAlertSender,
    stored_tables: StoredTables,
) -> None:
    course_id, _ = await new_course(bot)
    receiver, courier = await hooked_course(bot, clock, course_id)
    since = len(bot.request.texts(TEACHER_ID))

    for _ in range(FAILING_AFTER - 1):
        await attempt(courier, clock)
        assert (
            await bot.services.webhooks.tell_owners(sender) == 0
        )  # failing, but not repeatedly yet
    await attempt(courier, clock)
    assert await bot.services.webhooks.tell_owners(sender) == 1
    assert await bot.services.webhooks.tell_owners(sender) == 0  # once
    [failing] = told(bot, since)
    assert failing.startswith(
        f"⚠️ <b>Webhook of Math 101</b> (course id {course_id}): deliveries to "
        f"<code>{SHOWN}</code> are failing (the session <b>Week &lt;1&gt;</b> of "
    )
    assert f"attempts: {FAILING_AFTER})" in failing
    assert failing.endswith(f"Last problem: ConnectionRefusedError: connection to {SHOWN} refused")

    # A second session fails too while the hook is failing: no second "failing" notice.
    await saved_session(bot, clock, course_id, 2)
    await attempt(courier, clock)  # the first's last attempt: given up
    assert await bot.services.webhooks.tell_owners(sender) == 1
    [gave_up] = told(bot, since + 1)
    assert gave_up.startswith(
        f"⚠️ <b>Webhook of Math 101</b> (course id {course_id}): the session "
        f"<b>Week &lt;1&gt;</b> of "
    )
    assert f"could not be delivered to <code>{SHOWN}</code>" in gave_up
    assert f"(attempts: {ATTEMPTS})" in gave_up
    assert f"Last problem: gave up after {ATTEMPTS}: ConnectionRefusedError" in gave_up
    for _ in range(ATTEMPTS):
        await attempt(courier, clock)
    assert await bot.services.webhooks.tell_owners(sender) == 1  # the second one's give-up only
    assert "<b>Week &lt;2&gt;</b>" in told(bot, since + 2)[0]
    assert len(told(bot, since)) == 3
    assert all("s3cret" not in text for text in bot.request.texts(TEACHER_ID))

    # Once a delivery goes through, a later failing spell is told again.
    receiver.up = True
    await saved_session(bot, clock, course_id, 3)
    await attempt(courier, clock)
    receiver.up = False
    await saved_session(bot, clock, course_id, 4)
    for _ in range(FAILING_AFTER):
        await attempt(courier, clock)
    assert await bot.services.webhooks.tell_owners(sender) == 1
    assert "deliveries to" in told(bot, since + 3)[0]
    notices = await stored_tables.rows("webhook_notices")
    assert sorted(n["kind"] for n in notices) == ["failing", "failing", "gave_up", "gave_up"]
    assert all(n["sent_at"] is not None for n in notices)


async def test_in_the_owners_language(
    bot: BotHarness, clock: ManualClock, sender: TelegramAlertSender
) -> None:
    await bot.send(TEACHER_ID, "/new_course Алгебра", language_code="ru")
    [course] = await bot.services.courses.teacher_courses(TEACHER_ID)
    _, courier = await hooked_course(bot, clock, course.id)
    since = len(bot.request.texts(TEACHER_ID))
    for _ in range(ATTEMPTS):
        await attempt(courier, clock)
    assert await bot.services.webhooks.tell_owners(sender) == 2
    failing, gave_up = told(bot, since)
    assert failing.startswith("⚠️ <b>Вебхук курса Алгебра</b>")
    assert "доставки на <code>https://hooks.example.org/attn/in</code> не проходят" in failing
    assert "занятие <b>Week &lt;1&gt;</b> от " in gave_up
    assert "больше оно отправляться не будет" in gave_up


async def test_an_owner_who_blocked_the_bot_breaks_nothing(
    bot: BotHarness, clock: ManualClock, sender: TelegramAlertSender
) -> None:
    course_id, _ = await new_course(bot)
    receiver, courier = await hooked_course(bot, clock, course_id)
    bot.request.api.block_bot(TEACHER_ID, inject_update=False)
    since = len(bot.request.calls)
    for _ in range(ATTEMPTS):
        await attempt(courier, clock)
        assert (
            await bot.services.webhooks.tell_owners(sender) == 0
        )  # refused: logged, nothing raised
    refused = [c for c in bot.request.calls[since:] if c.params.get("chat_id") == TEACHER_ID]
    assert len(refused) == 2 and all(c.status == 403 for c in refused)
    assert courier.report.failed == 1 and receiver.posts == ATTEMPTS

    # Not retried once they unblock: each notice was sent (or refused) once.
    bot.request.api.block_bot(TEACHER_ID, blocked=False, inject_update=False)
    since = len(bot.request.calls)
    assert await bot.services.webhooks.tell_owners(sender) == 0
    assert bot.request.calls[since:] == []

"""The optional location check: inside, outside, forwarded and stale locations."""

from __future__ import annotations

import re

from redis.asyncio import Redis

from bot.prompts import PendingAction
from services.clock import ManualClock
from tests.bot.test_roles_privacy import everything_stored
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables

HALL = (52.520008, 13.404954)
NEARBY = (52.520700, 13.404954)  # about 77 m north
FAR = (52.524500, 13.404954)  # about 500 m north


async def start_geo_session(bot: BotHarness) -> str:
    replies = await bot.send(TEACHER_ID, "/start_session 30 Field trip geo")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", replies[0])
    assert code and "share yours now" in replies[1]
    keyboard = bot.request.calls[-1].params["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_location"] is True
    return code[1]


async def test_location_outcomes(
    bot: BotHarness, clock: ManualClock, clean_redis: Redis, stored_tables: StoredTables
) -> None:
    code = await start_geo_session(bot)
    [early] = await bot.send(1, f"/checkin {code}")
    assert "tap <i>Share my location</i>" in early
    [not_ready] = await bot.send_location(1, *NEARBY)
    assert "hasn't shared the classroom location" in not_ready

    [forwarded_anchor] = await bot.send_location(TEACHER_ID, *HALL, forwarded=True)
    assert "not a forwarded one" in forwarded_anchor
    await bot.send(TEACHER_ID, "/start_session")  # refused: already open; nothing changes
    await bot.services.users.expect_reply(TEACHER_ID, PendingAction.GEO_ANCHOR)
    [saved] = await bot.send_location(TEACHER_ID, *HALL)
    assert "Classroom location saved" in saved

    async def attempt(student: int, point: tuple[float, float], **kw: object) -> str:
        [ask] = await bot.send(student, f"/checkin {code}")
        assert "Share my location" in ask
        [reply] = await bot.send_location(student, *point, **kw)  # type: ignore[arg-type]
        return reply

    assert "Checked in to <b>Field trip</b>" in await attempt(2, NEARBY)
    outside = await attempt(3, FAR)
    assert "about 500 m" in outside and "Nothing was recorded" in outside
    forwarded = await attempt(4, NEARBY, forwarded=True)
    assert "not a forwarded or old one" in forwarded
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    stale_date = int(session.started_at.timestamp()) - 60
    stale = await attempt(5, NEARBY, date=stale_date)
    assert "not a forwarded or old one" in stale
    [unexpected] = await bot.send_location(6, *NEARBY)
    assert "wasn't expecting a location" in unexpected

    checked = await bot.services.live.checkins.checked_in(session.id)
    assert set(checked) == {2}
    assert checked[2].distance_m == 80  # 77 m, rounded to 10 m

    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    stored = await everything_stored(clean_redis, stored_tables)
    for point in (HALL, NEARBY, FAR):
        for value in point:
            assert f"{value:.3f}" not in stored, value  # no coordinates, anywhere
    assert "'distance_m': 80" in stored

"""The REST API's pieces without HTTP: sealed cursors and the per-token request budget (on
fakeredis, the same Lua as production)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis
import pytest

from services.api import BadCursor, cursor_key, open_cursor, seal_cursor
from storage.redis.api_budget import RedisApiBudget
from storage.redis.scripts import Scripts

KEY = cursor_key("123:secret")
NOW = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)


def test_a_cursor_opens_to_its_values_and_hides_them() -> None:
    cursor = seal_cursor(KEY, "r1:", ["2026-03-02T09:00:00+00:00", "abc123", 987654321])
    assert "987654321" not in cursor and "abc123" not in cursor
    assert open_cursor(KEY, "r1:", cursor) == ["2026-03-02T09:00:00+00:00", "abc123", 987654321]
    # Sealed afresh each time: the same values give another cursor.
    assert seal_cursor(KEY, "r1:", [1]) != seal_cursor(KEY, "r1:", [1])


@pytest.mark.parametrize("change", ["flip", "other_list", "other_key", "garbage", "short"])
def test_a_forged_or_foreign_cursor_is_refused(change: str) -> None:
    cursor = seal_cursor(KEY, "s1", ["2026-03-02T09:00:00+00:00", "abc"])
    kind, key = "s1", KEY
    if change == "flip":
        cursor = cursor[:20] + ("A" if cursor[20] != "A" else "B") + cursor[21:]
    elif change == "other_list":
        kind = "s2"  # a cursor of course 1 used on course 2
    elif change == "other_key":
        key = cursor_key("another deployment")
    elif change == "garbage":
        cursor = "not a cursor!"
    else:
        cursor = cursor[:10]
    with pytest.raises(BadCursor):
        open_cursor(key, kind, cursor)


async def test_the_budget_refuses_past_the_limit_until_the_next_window() -> None:
    client = fakeredis.FakeAsyncRedis()
    budget = RedisApiBudget(Scripts(client))
    for _ in range(3):
        assert await budget.take_api_request(7, limit=3, window_seconds=60, now=NOW) is None
    wait = await budget.take_api_request(7, limit=3, window_seconds=60, now=NOW)
    assert wait == pytest.approx(50.0)  # the window of 09:00 ends at 09:01
    # Another token has its own budget; the next window starts afresh.
    assert await budget.take_api_request(8, limit=3, window_seconds=60, now=NOW) is None
    later = NOW + timedelta(seconds=50)
    assert await budget.take_api_request(7, limit=3, window_seconds=60, now=later) is None
    await client.aclose()

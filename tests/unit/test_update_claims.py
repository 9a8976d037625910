"""Update claims as a sliding window per user (touch_profile.lua on fakeredis): each update
is handled once however often and in whatever order it arrives, in a few bytes per user
instead of a key per update."""

from __future__ import annotations

import asyncio

import fakeredis

from services.clock import ManualClock
from services.models import UserProfile
from services.ports import LiveStores, RecordStores
from services.users import UserService
from storage.redis import build_live_stores, keys
from storage.redis.scripts import Scripts

ADA = UserProfile(42, "Ada")


async def handled(users: UserService, *update_ids: int, profile: UserProfile = ADA) -> list[int]:
    """The ids of those updates that were not duplicates, delivered in the order given."""
    return [u for u in update_ids if not (await users.seen(profile, u)).duplicate]


async def window(fake_redis: fakeredis.FakeAsyncRedis, user_id: int = 42) -> list[int]:
    """The floor and the claimed ids of a user's window ("<floor> <base-36 step> ...")."""
    value = await fake_redis.hget(keys.profile(user_id), "upd")
    if not value:
        return []
    floor, *steps = value.split()
    ids = [int(floor)]
    for step in steps:
        ids.append(ids[-1] + int(step, 36))
    return ids


async def test_a_redelivered_update_is_dropped_and_changes_nothing(
    users: UserService, live: LiveStores, clock: ManualClock
) -> None:
    assert await handled(users, 1000) == [1000]
    clock.advance(seconds=5)
    renamed = UserProfile(42, "Ada Renamed")
    assert await handled(users, 1000, profile=renamed) == []
    cached = await live.profiles.cached_profile(42)
    assert cached is not None and cached.first_name == "Ada"  # the duplicate touched nothing


async def test_out_of_order_updates_within_the_window_are_each_handled_once(
    users: UserService,
) -> None:
    assert await handled(users, 1005, 1001, 1003) == [1005, 1001, 1003]
    assert await handled(users, 1001, 1003, 1005, 1004) == [1004]


async def test_an_update_claimed_after_a_dozen_later_ones_is_still_handled_once(
    users: UserService, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    """An album of 13 photos, fast taps or several webhook processes: the user's 12 later
    updates are claimed before the first one, which must still be handled (once)."""
    later = list(range(1_700_000_101, 1_700_000_113))
    assert await handled(users, *later) == later
    assert await handled(users, 1_700_000_100) == [1_700_000_100]
    assert await handled(users, 1_700_000_100, *later) == []  # duplicates still refused
    # A full window: the oldest claimed id, handled, became the floor.
    assert await window(fake_redis) == [1_700_000_100, *later]
    assert await handled(users, 1_700_000_113) == [1_700_000_113]


async def test_users_windows_are_their_own(users: UserService) -> None:
    """Ids increase per bot: another user's higher id says nothing about this user's."""
    assert await handled(users, 5000, profile=UserProfile(7, "B")) == [5000]
    assert await handled(users, 4000) == [4000]


async def test_an_update_older_than_the_window_is_ignored(
    users: UserService, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    newer = list(range(2001, 2001 + keys.UPDATE_WINDOW_IDS + 1))
    assert await handled(users, *newer) == newer
    # 2000 never came, but more than a window of newer updates of this user did: too old.
    assert await handled(users, 2000) == []
    # The oldest claimed id left the list and became the floor: still handled, never again.
    assert await handled(users, 2001) == []
    assert await handled(users, newer[-1] + 1) == [newer[-1] + 1]
    assert len(await window(fake_redis)) == keys.UPDATE_WINDOW_IDS + 1  # floor + ids


async def test_a_quiet_user_closes_their_window(
    users: UserService, clock: ManualClock, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    assert await handled(users, 3005, 3001) == [3005, 3001]
    clock.advance(seconds=keys.UPDATE_WINDOW_QUIET_SECONDS)
    assert await handled(users, 3010) == [3010]
    assert await window(fake_redis) == [3005, 3010]  # one number per quiet user, plus the new
    # 3003 arriving minutes after 3005 was handled is no reordering: ignored.
    assert await handled(users, 3003, 3005, 3001) == []
    assert await handled(users, 3008) == [3008]  # within the open window again


async def test_a_released_claim_lets_the_redelivery_be_handled(users: UserService) -> None:
    assert await handled(users, 4001, 4002) == [4001, 4002]
    await users.release_update(42, 4001)  # cut off at shutdown: Telegram delivers it again
    assert await handled(users, 4001) == [4001]
    assert await handled(users, 4001) == []
    await users.release_update(42, 9999)  # never claimed: nothing changes
    await users.release_update(43, 4001)  # nobody's window
    assert await handled(users, 4002, 9999) == [9999]


async def test_a_released_claim_below_the_floor_stays_handled(users: UserService) -> None:
    ids = list(range(5001, 5001 + keys.UPDATE_WINDOW_IDS + 2))
    assert await handled(users, *ids) == ids
    await users.release_update(42, 5001)
    assert await handled(users, 5001) == []


async def test_claims_outlive_a_restart_of_the_process(
    fake_redis: fakeredis.FakeAsyncRedis, records: RecordStores, clock: ManualClock
) -> None:
    def process() -> UserService:
        live = build_live_stores(Scripts(fake_redis))
        return UserService(
            profiles=live.profiles,
            chat_state=live.chat_state,
            cards=live.cards,
            users=records.users,
            clock=clock,
            idle_minutes=30,
        )

    assert await handled(process(), 6002, 6001) == [6002, 6001]
    assert await handled(process(), 6001, 6002, 6003) == [6003]


async def test_concurrent_deliveries_to_several_processes_are_handled_once(
    fake_redis: fakeredis.FakeAsyncRedis, users: UserService
) -> None:
    others = [build_live_stores(Scripts(fake_redis)).profiles for _ in range(3)]
    visits = await asyncio.gather(
        *(store.touch_profile(ADA, 7001) for store in others),
        users.seen(ADA, 7001),
    )
    assert sorted(v.duplicate for v in visits) == [False, True, True, True]


async def test_an_idle_profile_takes_its_claims_along_into_the_global_floor(
    users: UserService,
    live: LiveStores,
    records: RecordStores,
    clock: ManualClock,
    fake_redis: fakeredis.FakeAsyncRedis,
) -> None:
    assert await handled(users, 8001, 8003) == [8001, 8003]
    clock.advance(minutes=31)
    assert await users.sweep_idle_users() == 1
    assert not await fake_redis.exists(keys.profile(42))
    assert await fake_redis.get(keys.update_floor()) == b"8003"
    # A new window starts above every claim dropped with the profile (the process reading
    # the floor once a minute: a fresh one here, as after a restart).
    fresh = UserService(
        profiles=build_live_stores(Scripts(fake_redis)).profiles,
        chat_state=live.chat_state,
        cards=live.cards,
        users=records.users,
        clock=clock,
        idle_minutes=30,
    )
    assert await handled(fresh, 8003, 8002) == []
    assert await handled(fresh, 8004) == [8004]
    # The floor never goes down.
    assert await handled(fresh, 100, profile=UserProfile(9, "Old")) == []


async def test_the_window_stays_small_however_many_updates(
    users: UserService, clock: ManualClock, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    for update_id in range(9_000_000_000, 9_000_000_000 + 300):
        clock.advance(seconds=1)
        assert await handled(users, update_id) == [update_id]
    value = await fake_redis.hget(keys.profile(42), "upd")
    assert len(value) <= 64  # Redis keeps a hash with values this short compact (listpack)
    assert await fake_redis.keys("attn:u:{42}:upd*") == []


async def test_a_full_window_of_a_busy_bot_stays_compact(
    users: UserService, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    """Other users' updates in between: this user's ids 40,000 apart, all within 2 minutes."""
    ids = [9_000_000_000 + 40_000 * step for step in range(3 * keys.UPDATE_WINDOW_IDS)]
    assert await handled(users, *ids) == ids
    value = await fake_redis.hget(keys.profile(42), "upd")
    assert len(await window(fake_redis)) == keys.UPDATE_WINDOW_IDS + 1
    assert len(value) <= 64  # Redis keeps a hash with values this short compact (listpack)

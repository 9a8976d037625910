"""Profile caching, registration and the user sweep."""

from __future__ import annotations

import fakeredis
import pytest

import bot.languages as languages_module
from bot.languages import RecipientLanguages
from bot.text import available_languages
from services.clock import ManualClock
from services.errors import InvalidArgument
from services.models import UserProfile
from services.ports import LiveStores
from services.users import UserService
from storage.redis import keys
from storage.redis.profiles import MERGE_BATCH
from tests.fakes.memory import MemoryDatabase


async def test_idle_profile_moves_to_records_and_comes_back(
    users: UserService,
    live: LiveStores,
    fake_redis: fakeredis.FakeAsyncRedis,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await users.seen(UserProfile(42, "Ada", "Lovelace", "ada"))
    await users.register(UserProfile(42, "Ada", "Lovelace", "ada"), "Ada King", "S-1")
    clock.advance(minutes=29)
    assert await users.sweep_idle_users() == 0
    clock.advance(minutes=2)
    assert await users.sweep_idle_users() == 1
    assert not await fake_redis.exists(keys.profile(42))
    assert await fake_redis.zcard(keys.seen_index()) == 0
    assert database.users[42].full_name == "Ada King"
    await users.seen(UserProfile(42, "Ada", "Lovelace", "ada"))
    await users.settle()  # the registered name comes back in the background
    restored = await live.profiles.cached_profile(42)
    assert restored is not None and restored.full_name == "Ada King"
    assert restored.student_number == "S-1"


async def test_recently_active_profile_is_kept(
    users: UserService, live: LiveStores, clock: ManualClock
) -> None:
    await users.seen(UserProfile(1, "A"))
    clock.advance(minutes=31)
    await users.seen(UserProfile(2, "B"))
    assert await users.sweep_idle_users() == 1
    assert await live.profiles.cached_profile(2) is not None
    assert await live.profiles.cached_profile(1) is None


@pytest.mark.parametrize(
    ("name", "number"),
    [("A", None), ("x" * 101, None), ("<b>Bob</b>", None), ("Bob", "no spaces allowed!")],
)
async def test_bad_registration_changes_nothing(
    users: UserService, database: MemoryDatabase, name: str, number: str | None
) -> None:
    with pytest.raises(InvalidArgument):
        await users.register(UserProfile(3, "C"), name, number)
    assert 3 not in database.users


async def test_pending_reply_is_taken_once_and_expires(
    users: UserService, clock: ManualClock
) -> None:
    await users.expect_reply(5, "checkin")
    assert await users.take_expected_reply(5) == ("checkin", "")
    await users.expect_reply(5, "register", "a payload with spaces")
    assert await users.take_expected_reply(5) == ("register", "a payload with spaces")
    assert await users.take_expected_reply(5) is None
    await users.expect_reply(5, "checkin")
    clock.advance(minutes=6)
    assert await users.take_expected_reply(5) is None


async def test_an_update_claim_released_after_a_cut_off_counts_again(
    users: UserService,
) -> None:
    first = await users.seen(UserProfile(9, "N"), update_id=555)
    again = await users.seen(UserProfile(9, "N"), update_id=555)
    assert not first.duplicate and again.duplicate
    await users.release_update(9, 555)
    assert not (await users.seen(UserProfile(9, "N"), update_id=555)).duplicate


async def test_language_code_and_choice_are_kept_through_a_sweep(
    users: UserService, live: LiveStores, database: MemoryDatabase, clock: ManualClock
) -> None:
    """The choice is read with each update (the visit), kept for good, and comes back with
    the profile after it moved to the records; jobs read both for a recipient."""
    visit = await users.seen(UserProfile(42, "Ada", language_code="pt-br"))
    assert visit.language is None
    await users.set_language(42, "es")
    assert (await users.seen(UserProfile(42, "Ada", language_code="pt-br"))).language == "es"
    assert await users.language_of(42) == ("es", "pt-br")
    clock.advance(minutes=31)
    assert await users.sweep_idle_users() == 1
    assert await live.profiles.cached_profile(42) is None
    assert database.users[42].language == "es"
    assert database.users[42].language_code == "pt-br"
    assert await users.language_of(42) == ("es", "pt-br")  # from the records
    await users.seen(UserProfile(42, "Ada", language_code="ru"))
    await users.settle()  # the choice comes back with the registration, in the background
    assert (await users.seen(UserProfile(42, "Ada", language_code="ru"))).language == "es"
    await users.set_language(42, None)  # back to the Telegram app's language
    assert await users.language_of(42) == (None, "ru")
    assert database.users[42].language is None


async def test_a_language_chosen_before_any_row_is_saved(
    users: UserService, database: MemoryDatabase
) -> None:
    await users.set_language(77, "ru")
    assert database.users[77].language == "ru"
    assert await users.language_of(77) == ("ru", None)
    assert await users.language_of(78) == (None, None)


async def test_a_recipients_language_is_read_then_kept_a_minute(
    users: UserService, database: MemoryDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs ask every few seconds (card refreshes): the profile is read once a minute; a
    change reaches them at once when /settings says so (forget); storage away: the default."""
    now = [1000.0]
    monkeypatch.setattr(languages_module.time, "monotonic", lambda: now[0])
    languages = RecipientLanguages(users)
    await users.seen(UserProfile(42, "Ada", language_code="ru-RU"))
    assert await languages.of(42) == ("ru" if "ru" in available_languages() else "en")
    await users.set_language(42, "en")
    assert await languages.of(42) == ("ru" if "ru" in available_languages() else "en")  # kept
    now[0] += languages_module.TTL_SECONDS + 1
    assert await languages.of(42) == "en"
    await users.set_language(42, None)
    languages.forget(42)
    assert await languages.of(42) == ("ru" if "ru" in available_languages() else "en")
    with database.outage():
        assert await languages.of(77) == "en"  # not in the cache, not cached as the default
    await users.set_language(77, available_languages()[-1])
    assert await languages.of(77) == available_languages()[-1]


async def test_registered_names_of_a_burst_are_merged_in_batches(
    users: UserService,
    live: LiveStores,
    fake_redis: fakeredis.FakeAsyncRedis,
    database: MemoryDatabase,
) -> None:
    """A burst of returning students (more than one batch): each cached profile gets its
    registered name, number and language, never over a name set meanwhile, and a profile
    that is not cached (or was just forgotten) is not created by the merge."""
    students = range(1000, 1000 + MERGE_BATCH + 7)
    for s in students:
        await users.seen(UserProfile(s, f"S{s}"))
    await users.settle()
    await live.profiles.store_profile(UserProfile(1001, "S1001", full_name="Set Meanwhile"))
    await fake_redis.set(keys.forgotten(1002), "1")
    registered: dict[int, tuple[str, ...]] = {
        s: (f"Name {s}", f"N{s}", "es" if s % 2 else "") for s in students
    }
    registered[9999] = ("Not Cached", "N9999", "")
    await live.profiles.merge_registrations(registered)
    cached = await live.profiles.cached_profiles([*students, 9999])
    assert 9999 not in cached and not await fake_redis.exists(keys.profile(9999))
    assert cached[1001].full_name == "Set Meanwhile"
    assert cached[1002].full_name is None
    for s in students[3:]:
        assert (cached[s].full_name, cached[s].student_number) == (f"Name {s}", f"N{s}")
        assert cached[s].language == ("es" if s % 2 else None)

"""`redis_bytes_per_update_claim`: what remembering handled update ids costs in Redis.

Why this shape: claims are a sliding window per user in the cached profile (see
storage/redis/lua/touch_profile.lua), so their memory depends on how many users send the
updates and how they are spread in time, not on how many updates there are. The measurement
sends 100,000 updates from 2,000 users (a school's students on a busy day: 50 updates each)
through the real profile store and scripts on the real server, with the profiles' clock
spread over an 8-hour day (only the clock is simulated: a day cannot be waited for). Delivery
is as Telegram's webhook does it: ids increasing per bot, blocks of 8 delivered out of order,
1 % delivered twice. The growth of `used_memory` (and of the bench's own database, which
stands in when other clients moved the server's figure) across the 100,000 claims, divided
by 100,000. The users' profiles exist before the first reading: the profile is there anyway
(it is what the window lives in), so what is measured is the claims' own cost.

Printed for information: the same updates within two minutes (every window full: the worst
case), and what the former key per update cost (`MEMORY USAGE` of one such key).
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bench.measure import run_concurrent
from services.models import UserProfile
from storage.redis import keys

if TYPE_CHECKING:
    from bench.scenarios import Bench

log = logging.getLogger(__name__)

CLAIM_UPDATES = 100_000
CLAIM_USERS = 2_000
CLAIM_DAY = timedelta(hours=8)
CLAIM_BURST = timedelta(minutes=2)
REORDERED_BLOCK = 8
REDELIVERED_SHARE = 0.01
FIRST_UPDATE_ID = 800_000_000


class ClaimError(RuntimeError):
    """The claims did not behave: an update handled twice, or one lost."""


def deliveries(users: list[int], seed: int) -> list[tuple[int, int, int]]:
    """(update index, user, update id) in delivery order: ids increase per bot, each user
    sends CLAIM_UPDATES / len(users) updates at random moments, blocks of REORDERED_BLOCK
    arrive shuffled, and REDELIVERED_SHARE of the updates arrive a second time a little later."""
    rng = random.Random(seed)
    senders = [users[i % len(users)] for i in range(CLAIM_UPDATES)]
    rng.shuffle(senders)
    order = list(range(CLAIM_UPDATES))
    for start in range(0, CLAIM_UPDATES, REORDERED_BLOCK):
        block = order[start : start + REORDERED_BLOCK]
        rng.shuffle(block)
        order[start : start + REORDERED_BLOCK] = block
    twice = set(rng.sample(range(CLAIM_UPDATES), int(CLAIM_UPDATES * REDELIVERED_SHARE)))
    later: dict[int, list[int]] = {}  # delivery position -> updates delivered again there
    for position, index in enumerate(order):
        if index in twice:
            later.setdefault(position + rng.randint(1, 50), []).append(index)
    delivered = []
    for position, index in enumerate(order):
        delivered.append((index, senders[index], FIRST_UPDATE_ID + index))
        for again in later.pop(position, []):
            delivered.append((again, senders[again], FIRST_UPDATE_ID + again))
    for rest in later.values():
        delivered.extend((again, senders[again], FIRST_UPDATE_ID + again) for again in rest)
    return delivered


async def claim_bytes(bench: Bench, first_user: int, span: timedelta, seed: int) -> float:
    """Bytes per claim of CLAIM_UPDATES updates spread over `span` (see the module doc)."""
    profiles = bench.services.live.profiles
    users = [first_user + i for i in range(CLAIM_USERS)]
    start = datetime.now(UTC) - span

    async def create(i: int) -> None:  # the profiles the windows live in, before measuring
        await profiles.touch_profile(UserProfile(users[i], "Student", "Bench", last_seen=start))

    await run_concurrent(len(users), bench.sizes.concurrency, create)
    plan = deliveries(users, seed)
    handled = [0] * CLAIM_UPDATES
    before_used, before_db = await bench.used_memory()

    async def claim(k: int) -> None:
        index, user, update_id = plan[k]
        seen = start + span * (index / CLAIM_UPDATES)
        visit = await profiles.touch_profile(
            UserProfile(user, "Student", "Bench", last_seen=seen), update_id
        )
        if not visit.duplicate:
            handled[index] += 1

    # 100 in flight, as the webhook's connections deliver them: more reordering on top.
    await run_concurrent(len(plan), bench.sizes.concurrency, claim)
    after_used, after_db = await bench.used_memory()
    if any(count > 1 for count in handled):
        raise ClaimError("an update was handled twice")
    lost = handled.count(0)
    if lost:
        raise ClaimError(f"{lost} updates were taken for duplicates")
    used, own = after_used - before_used, after_db - before_db
    disturbed = abs(used - own) > 0.25 * own + 64 * 1024
    if disturbed:
        log.warning("claims: used_memory grew %d B, the bench's database %d B", used, own)
        bench.disturbed += 1
    return (own if disturbed else used) / CLAIM_UPDATES


async def former_key_bytes(bench: Bench) -> int:
    """`MEMORY USAGE` of one key as every update left before (24-hour TTL; the expiry entry
    itself is not counted by MEMORY USAGE)."""
    redis = bench.services.redis
    assert redis is not None  # the bench runs on real servers
    key = f"{keys.PREFIX}:u:{{7123456789}}:upd:{FIRST_UPDATE_ID}"
    await redis.set(key, "1", ex=24 * 3600)
    size = int(await redis.memory_usage(key, samples=0) or 0)
    await redis.delete(key)
    return size

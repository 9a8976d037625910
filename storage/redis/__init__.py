"""The live store in Redis: one module per narrow port of `services.ports`, with the Lua
scripts it runs in `lua/` (each script documents its keys and arguments) and every key name,
type and lifetime in `keys`. Works on a standalone server or, unchanged, on Redis Cluster;
connection failures surface as `StorageUnavailable`.

    sessions.py   LiveSessionStore   checkins.py  CheckInStore   codes.py     CodeStore
    cards.py      CardStore          sweeps.py    SweepStore     profiles.py  ProfileCache
    chat_state.py ChatStateStore     pacing.py    SendPacer
    chat_state.py ChatStateStore     pacing.py    SendPacer     projector.py ProjectorStore
    api_budget.py ApiRequestBudget
"""

from __future__ import annotations

from services.ports import LiveStores
from storage.redis.api_budget import RedisApiBudget
from storage.redis.cards import RedisCardStore
from storage.redis.chat_state import RedisChatStateStore
from storage.redis.checkins import RedisCheckInStore
from storage.redis.client import LiveRedis
from storage.redis.codes import CodeRoutes, RedisCodeStore
from storage.redis.pacing import RedisSendPacer
from storage.redis.profiles import RedisProfileCache
from storage.redis.projector import RedisProjectorStore
from storage.redis.scripts import Scripts
from storage.redis.sessions import RedisSessionStore
from storage.redis.sweeps import RedisSweepStore


def build_live_stores(scripts: Scripts) -> LiveStores:
    """Every live port over one client and one set of scripts (not loaded here)."""
    routes = CodeRoutes(scripts)  # shared: check-ins read it, discards and sweeps forget
    profiles = RedisProfileCache(scripts)  # check-ins take a /checkin update's visit along
    return LiveStores(
        sessions=RedisSessionStore(scripts, routes),
        checkins=RedisCheckInStore(scripts, routes, profiles),
        codes=RedisCodeStore(scripts),
        cards=RedisCardStore(scripts),
        sweeps=RedisSweepStore(scripts, routes),
        profiles=profiles,
        chat_state=RedisChatStateStore(scripts),
        pacer=RedisSendPacer(scripts),
        api_budget=RedisApiBudget(scripts),
        projector=RedisProjectorStore(scripts),
    )


async def redis_live_stores(client: LiveRedis) -> LiveStores:
    """Every live port on `client`, its scripts loaded into Redis once, here."""
    scripts = Scripts(client)
    await scripts.load()
    return build_live_stores(scripts)


__all__ = ["build_live_stores", "redis_live_stores"]

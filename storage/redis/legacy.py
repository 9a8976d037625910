"""The whole live store of before issue 11, as one object over the narrow stores.

Temporary: it lets services that still take the whole `LiveStore` run on the new modules.
Every method is the narrow store's own bound method (no extra call on the hot path). Delete
it once every service names its narrow ports and bootstrap uses `redis_live_stores`.
"""

from __future__ import annotations

from storage.redis import build_live_stores
from storage.redis.checkins import RedisCheckInStore
from storage.redis.client import LiveRedis, RedisHealth
from storage.redis.scripts import Scripts


class LegacyLiveStore:
    """Every method of the old `RedisLiveStore`, delegated to the narrow stores."""

    def __init__(self, redis: LiveRedis) -> None:
        self.redis = redis
        self.scripts = Scripts(redis)
        self.stores = stores = build_live_stores(self.scripts)
        self.load_scripts = self.scripts.load
        self.ping = RedisHealth(redis).ping
        sessions, checkins, codes = stores.sessions, stores.checkins, stores.codes
        cards, sweeps, profiles = stores.cards, stores.sweeps, stores.profiles
        chat, pacer = stores.chat_state, stores.pacer
        # sessions
        self.create_session = sessions.create_session
        self.discard_session = sessions.discard_session
        self.session = sessions.session
        self.add_to_roster = sessions.add_to_roster
        self.roster = sessions.roster
        self.extend_session = sessions.extend_session
        self.set_anchor = sessions.set_anchor
        self.end_session = sessions.end_session
        self.claim_teacher_slot = sessions.claim_teacher_slot
        self.release_teacher_slot = sessions.release_teacher_slot
        self.teacher_current_session = sessions.teacher_current_session
        # check-ins and codes
        assert isinstance(checkins, RedisCheckInStore)
        self.check_in = checkins.check_in
        self.take_guess = checkins.take_guess
        self.settle_guess = checkins.settle_guess
        self.checked_in = checkins.checked_in
        self.checkin_count = checkins.checkin_count
        self.live_status = checkins.live_status
        self.mark_live = checkins.mark_live
        self.due_rotations = codes.due_rotations
        self.rotate_codes = codes.rotate_codes
        # cards
        self.attach_card = cards.attach_card
        self.attach_code_card = cards.attach_code_card
        self.card_states = cards.card_states
        self.claim_card_edit = cards.claim_card_edit
        self.release_card_edit = cards.release_card_edit
        self.drop_card = cards.drop_card
        self.drop_one_card = cards.drop_one_card
        self.claim_group_pointer = cards.claim_group_pointer
        # sweeps
        self.due_sessions = sweeps.due_sessions
        self.claim_for_sweep = sweeps.claim_for_sweep
        self.release_sweep = sweeps.release_sweep
        self.finish_sweep = sweeps.finish_sweep
        # profiles, chat state, pacing
        self.touch_profile = profiles.touch_profile
        self.release_update_claim = profiles.release_update_claim
        self.store_profile = profiles.store_profile
        self.cached_profile = profiles.cached_profile
        self.cached_profiles = profiles.cached_profiles
        self.idle_profiles = profiles.idle_profiles
        self.remove_profile_if_idle = profiles.remove_profile_if_idle
        self.merge_registrations = profiles.merge_registrations
        self.forget_user = profiles.forget_user
        self.set_pending_action = chat.set_pending_action
        self.pop_pending_action = chat.pop_pending_action
        self.put_start_choice = chat.put_start_choice
        self.take_start_choice = chat.take_start_choice
        self.menu_version = chat.menu_version
        self.remember_menu = chat.remember_menu
        self.reserve_send_slot = pacer.reserve_send_slot

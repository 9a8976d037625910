"""Every Redis key ATTN uses, built in one place, with its type and lifetime.

Keys of one session share the hash tag `{<session id>}` so the Lua scripts that touch several
of them run unchanged on Redis Cluster. TTLs are only a safety net against leaks: no decision
relies on a key expiring; sessions end by their stored end time compared with the clock.
"""

from __future__ import annotations

from services.numbers import MAX_SESSION_HOURS

PREFIX = "attn"

# Safety-net lifetimes (seconds). Real clean-up is done by the sweeps.
SESSION_SAFETY_TTL = 7 * 24 * 3600
# The longest a session may last, start to end, however often it is extended. Far below the
# session keys' safety TTL, so a session's keys never expire before the sweep saves it (a
# unit test holds the two together: extend_session.lua enforces this cap).
MAX_SESSION_SECONDS = MAX_SESSION_HOURS * 3600
PROFILE_SAFETY_TTL = 14 * 24 * 3600
PENDING_ACTION_TTL = 15 * 60
ATTEMPTS_SAFETY_TTL = 3600


def session(session_id: str) -> str:
    """Hash: the live session's fields (teacher, title, code, times, state, sweep lease; `tz`:
    the course's IANA zone, "" for the installation's; `sweeps`: how many times the sweep has
    claimed it, written by `claim_sweep.lua`)."""
    return f"{PREFIX}:s:{{{session_id}}}"


def session_checkins(session_id: str) -> str:
    """Hash: student id -> "<checked-in ms><p|l>" for every check-in of the session."""
    return f"{PREFIX}:s:{{{session_id}}}:in"


def session_roster(session_id: str) -> str:
    """Set: ids of the students enrolled in the session's course (absent for course-less ones)."""
    return f"{PREFIX}:s:{{{session_id}}}:roster"


def session_marks(session_id: str) -> str:
    """Hash: student id -> status set by the teacher with /mark while the session is live."""
    return f"{PREFIX}:s:{{{session_id}}}:marks"


def session_codes(session_id: str) -> str:
    """Set: every code the session has shown, so an old one is told apart from a wrong one."""
    return f"{PREFIX}:s:{{{session_id}}}:codes"


def session_keys(session_id: str) -> list[str]:
    """All keys of one session, in the order the Lua scripts expect them."""
    return [
        session(session_id),
        session_checkins(session_id),
        session_roster(session_id),
        session_marks(session_id),
        session_codes(session_id),
    ]


def live_channel() -> str:
    """Pub/sub channel: the id of a session each time what its projector page shows changed
    (a code rotated, a check-in recorded, the session ended or was extended, its projector
    links were replaced). Published by the Lua scripts, which spell the name out (a unit test
    holds them to this one); read by one subscriber per process (storage/redis/events.py)."""
    return f"{PREFIX}:live"


def code(code_value: str) -> str:
    """String: check-in code -> session id, for the session's lifetime."""
    return f"{PREFIX}:code:{code_value}"


def due_index() -> str:
    """Sorted set: session id scored by its end time (ms); the attendance sweep reads it."""
    return f"{PREFIX}:due"


def card_index() -> str:
    """Sorted set: sessions with a live card to keep up to date, scored by end time (ms)."""
    return f"{PREFIX}:cards"


def rotation_index() -> str:
    """Sorted set: session id scored by when its code is due to rotate (ms)."""
    return f"{PREFIX}:rotate"


def teacher_slot(teacher_id: int) -> str:
    """String: "<session id> <ends ms>" of the teacher's current session (one open at a time)."""
    return f"{PREFIX}:t:{{{teacher_id}}}"


def profile(user_id: int) -> str:
    """Hash: a user's cached profile (names, registration, last seen ms, language_code from
    Telegram, language chosen)."""
    return f"{PREFIX}:u:{{{user_id}}}"


def pending_action(user_id: int) -> str:
    """String: "<action> <until ms> [payload]": what the user's next plain message answers."""
    return f"{PREFIX}:u:{{{user_id}}}:pending"


def menu(user_id: int) -> str:
    """String: the version of the command menu last set in the user's private chat (absent:
    none, the default menu applies). Remembered so a menu is set once per role and version."""
    return f"{PREFIX}:u:{{{user_id}}}:menu"


MENU_TTL = 90 * 24 * 3600  # forgotten menus are only set again: harmless


def group_pointer(chat_id: int) -> str:
    """String: the group got an "open the bot privately" line a moment ago; while it exists
    (SET NX EX, a short TTL) no other such line goes there."""
    return f"{PREFIX}:g:{{{chat_id}}}:pointer"


def start_choice(user_id: int, token: str) -> str:
    """String: the options a teacher typed with /start_session while the course is chosen
    from buttons (JSON), taken once by the first press (expires with PENDING_ACTION_TTL)."""
    return f"{PREFIX}:u:{{{user_id}}}:choice:{token}"


def attempts(user_id: int) -> str:
    """Hash: wrong-code count, window start and lock end (ms) of one user; times decide, the
    TTL only cleans up."""
    return f"{PREFIX}:u:{{{user_id}}}:attempts"


def guesses(user_id: int) -> str:
    """Sorted set: the user's code guesses of the last window ("p:<token>" being judged,
    "f:<token>" wrong), scored by time (ms); see take_guess.lua. Same slot as `attempts`."""
    return f"{PREFIX}:u:{{{user_id}}}:guesses"


# A guess taken but never settled (its process died mid-judgement) stops counting after this.
UNSETTLED_GUESS_SECONDS = 30


def api_requests(token_id: int, window: int) -> str:
    """String: the requests of one API token in fixed window number `window` (a counter;
    expires with its window)."""
    return f"{PREFIX}:api:{{{token_id}}}:{window}"


def forgotten(user_id: int) -> str:
    """String: the user asked to be forgotten a moment ago, so registered names loaded from
    PostgreSQL before that are not merged back into a newly cached profile (no name in it)."""
    return f"{PREFIX}:u:{{{user_id}}}:forgotten"


# Longer than any background profile load takes (they are batched every 20 ms).
FORGOTTEN_MARKER_TTL = 60


def update_floor() -> str:
    """String: the highest update id of any user's claim window dropped so far (an idle
    profile removed, a user forgotten); a new window starts above it. Update claims themselves
    are a sliding window in the profile hash's `upd` field (see touch_profile.lua): O(window)
    memory per cached user, not a key per update."""
    return f"{PREFIX}:upd:floor"


# A user's window keeps at most this many claimed ids above its floor: an update that arrives
# after this many newer ones of the same user were claimed is too old, and ignored (an album
# of 13 photos, fast taps, several webhook processes all stay within it). Stored as base-36
# steps (touch_profile.lua), a full window is a 10-digit floor plus 12 steps of up to 3
# characters: at most 58 bytes while a user's successive ids are under 46,656 apart, within
# Redis's 64-byte listpack value limit (a hash that outgrows it is never compact again).
UPDATE_WINDOW_IDS = 12
# A user quiet this long closes their window (floor = highest claimed id): an update delivered
# that late after a newer one is a redelivery, not a reordering. Keeps most windows one id.
UPDATE_WINDOW_QUIET_SECONDS = 120


def send_next() -> str:
    """String: the bot's next free sending time (server clock, ms), for every process."""
    return f"{PREFIX}:{{rate}}:next"


def chat_send_next(chat_id: int) -> str:
    """String: one chat's next free sending time (same slot as `send_next`)."""
    return f"{PREFIX}:{{rate}}:next:{chat_id}"


def seen_index() -> str:
    """Sorted set: user id scored by last-seen time (ms); the user sweep reads it."""
    return f"{PREFIX}:seen"

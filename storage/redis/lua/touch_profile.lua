-- The first step of every update from a user, in one round trip: claim the update id (so an
-- update Telegram delivers twice, or to two processes, is handled once), refresh the cached
-- profile's Telegram names and last-seen time (creating it when it is not cached; the caller
-- then adds the registered name from PostgreSQL in the background, and nothing here ever
-- overwrites one), and report any lock-out for too many wrong codes.
-- KEYS[1] profile hash   KEYS[2] the user's wrong-code attempts   KEYS[3] update claim
-- KEYS[4] (optional, single Redis server only) the idle index, updated in the same call; on
--         a cluster it lives in another slot and the caller updates it separately
-- ARGV[1] first name  ARGV[2] last name  ARGV[3] username  ARGV[4] last seen (ms)
-- ARGV[5] update claim lifetime (s), 0 when there is no update id to claim
-- ARGV[6] safety TTL of a newly created profile (s)   ARGV[7] the Telegram language code
-- ARGV[8] the user id (for KEYS[4])
-- Returns {cached (1|0), locked until (ms, 0 when not locked), duplicate (1|0),
--          the language the user chose ('' when none)}.
if tonumber(ARGV[5]) > 0 then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', tonumber(ARGV[5])) then
    return {0, 0, 1, ''}
  end
end
local locked = tonumber(redis.call('HGET', KEYS[2], 'locked_until') or '0')
if locked <= tonumber(ARGV[4]) then
  locked = 0
end
if KEYS[4] then
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[8])
end
local cached = redis.call('EXISTS', KEYS[1])
redis.call('HSET', KEYS[1], 'first_name', ARGV[1], 'last_name', ARGV[2],
  'username', ARGV[3], 'last_seen', ARGV[4], 'language_code', ARGV[7])
if cached == 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
end
return {cached, locked, 0, redis.call('HGET', KEYS[1], 'language') or ''}

-- Refresh a cached profile's Telegram names and last-seen time (only if it is cached; the
-- caller loads it from PostgreSQL otherwise, so a registered name is never lost), and report
-- whether the user is locked out for too many wrong codes. One round trip per update.
-- KEYS[1] profile hash          KEYS[2] the user's wrong-code attempts
-- ARGV[1] first name  ARGV[2] last name  ARGV[3] username  ARGV[4] last seen (ms)
-- Returns {cached (1|0), locked until (ms, 0 when not locked)}.
local locked = tonumber(redis.call('HGET', KEYS[2], 'locked_until') or '0')
if locked <= tonumber(ARGV[4]) then
  locked = 0
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, locked}
end
redis.call('HSET', KEYS[1], 'first_name', ARGV[1], 'last_name', ARGV[2],
  'username', ARGV[3], 'last_seen', ARGV[4])
return {1, locked}

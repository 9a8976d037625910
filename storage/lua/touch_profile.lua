-- Refresh a cached profile's Telegram names and last-seen time, only if it is cached; the
-- caller loads it from PostgreSQL otherwise (so a registered name is never lost).
-- KEYS[1] profile hash
-- ARGV[1] first name  ARGV[2] last name  ARGV[3] username  ARGV[4] last seen (ms)
-- Returns 1 if the profile was cached and refreshed, 0 if it is not cached.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'first_name', ARGV[1], 'last_name', ARGV[2],
  'username', ARGV[3], 'last_seen', ARGV[4])
return 1

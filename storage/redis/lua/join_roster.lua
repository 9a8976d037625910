-- A student admitted to a live session's roster (joined the course while it runs): the card's
-- "n / roster" grows with them, as the summary's will. Nothing when the session is gone.
-- KEYS[1] session hash  KEYS[2] roster
-- ARGV[1] student id
-- Returns 1 when the student was added, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'roster_size', 1)
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[2], ttl)
end
return 1

-- `finish_sweep.lua` and everything around it in one step, on a single Redis server (a
-- cluster runs the pieces one by one: these keys sit on different slots). After the session
-- is committed to PostgreSQL: drop its code routes that still lead to it; then, if we still
-- hold the lease, remove its live keys, its index entries and the teacher's slot.
-- KEYS[1] session hash  KEYS[2] check-ins  KEYS[3] roster  KEYS[4] marks  KEYS[5] codes
-- KEYS[6] due index     KEYS[7] card index KEYS[8] rotation index  KEYS[9] teacher slot
-- KEYS[10..] code routes (current and past codes)
-- ARGV[1] lease token   ARGV[2] session id
-- Returns 1 when deleted, 0 when the lease was lost (another sweeper finishes the job).
for i = 10, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2] then
    redis.call('DEL', KEYS[i])
  end
end
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then
  return 0
end
-- UNLINK: a class of a thousand check-ins is freed off the main thread.
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[6], ARGV[2])
redis.call('ZREM', KEYS[7], ARGV[2])
redis.call('ZREM', KEYS[8], ARGV[2])
local slot = redis.call('GET', KEYS[9])
if slot and string.match(slot, '^(%S+) ') == ARGV[2] then
  redis.call('DEL', KEYS[9])
end
return 1

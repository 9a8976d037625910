-- Atomic check-in: the session is open, the code is its current one, the student has not
-- checked in yet -> record the student with the time and status. One round trip.
-- KEYS[1] session hash          attn:s:{sid}
-- KEYS[2] session check-ins     attn:s:{sid}:in
-- ARGV[1] code (normalized)     ARGV[2] student id     ARGV[3] now (ms)
-- Returns {outcome, title, value, count}; value is "<ms><p|l>" for recorded/duplicate.
local s = redis.call('HMGET', KEYS[1], 'code', 'ends_at', 'state', 'late_at', 'title')
if not s[1] then
  return {'no_session', '', '', 0}
end
local now = tonumber(ARGV[3])
local title = s[5] or ''
if s[3] ~= 'open' or now >= tonumber(s[2]) then
  return {'closed', title, '', 0}
end
if s[1] ~= ARGV[1] then
  return {'wrong_code', title, '', 0}
end
local previous = redis.call('HGET', KEYS[2], ARGV[2])
if previous then
  return {'duplicate', title, previous, redis.call('HLEN', KEYS[2])}
end
local status = 'p'
if s[4] and s[4] ~= '' and now >= tonumber(s[4]) then
  status = 'l'
end
local value = ARGV[3] .. status
redis.call('HSET', KEYS[2], ARGV[2], value)
return {'recorded', title, value, redis.call('HLEN', KEYS[2])}

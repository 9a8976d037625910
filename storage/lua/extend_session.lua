-- Give an open session more time (the teacher's "+5 min").
-- KEYS[1] session hash          ARGV[1] now (ms)     ARGV[2] extra time (ms)
-- Returns the new end (ms), or 0 when the session is not open.
local s = redis.call('HMGET', KEYS[1], 'state', 'ends_at')
if not s[1] or s[1] ~= 'open' or tonumber(ARGV[1]) >= tonumber(s[2]) then
  return 0
end
local ends = tonumber(s[2]) + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'ends_at', ends)
return ends

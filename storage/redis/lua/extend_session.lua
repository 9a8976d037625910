-- Give an open session more time (the teacher's "+5 min" or /extend N), never past the
-- longest a session may last (counted from its start), which keeps every session well inside
-- its keys' safety TTL.
-- KEYS[1] session hash          ARGV[1] now (ms)     ARGV[2] extra time (ms)
-- ARGV[3] longest session (ms from its start); 0 means no cap
-- Returns {new end (ms), 0}; {0, 0} when the session is not open; {-1, ms still allowed}
-- when the extension would pass the cap (nothing changes).
local s = redis.call('HMGET', KEYS[1], 'state', 'ends_at', 'started_at')
if not s[1] or s[1] ~= 'open' or tonumber(ARGV[1]) >= tonumber(s[2]) then
  return {0, 0}
end
local ends = tonumber(s[2]) + tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
if cap > 0 then
  local latest = tonumber(s[3]) + cap
  if ends > latest then
    local left = latest - tonumber(s[2])
    if left < 0 then left = 0 end
    return {-1, left}
  end
end
redis.call('HSET', KEYS[1], 'ends_at', ends)
-- Projector pages of the session show the new time left (keys.live_channel).
redis.call('PUBLISH', 'attn:live', string.match(KEYS[1], '{(.-)}'))
return {ends, 0}

-- End a session now: it stops accepting check-ins at once and becomes due for the sweep.
-- KEYS[1] session hash          ARGV[1] now (ms)
-- Returns 1 if this call ended it, 0 if it was already over, -1 if there is no such session.
local s = redis.call('HMGET', KEYS[1], 'state', 'ends_at')
if not s[1] then
  return -1
end
if s[1] ~= 'open' or tonumber(ARGV[1]) >= tonumber(s[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'ended', 'ends_at', ARGV[1])
-- Projector pages of the session say "ended" at once (keys.live_channel).
redis.call('PUBLISH', 'attn:live', string.match(KEYS[1], '{(.-)}'))
return 1

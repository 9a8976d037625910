-- Rotate a session's code if its rotation is due: the current code becomes the previous one,
-- still accepted until the grace period ends; the new code (already reserved by the caller
-- with SET NX on its lookup key) becomes current. Several processes may call this at once:
-- only the first one due rotates, the others are told 'not_due'.
-- KEYS[1] session hash          KEYS[2] session's past codes
-- ARGV[1] new code              ARGV[2] now (ms)
-- Returns {'rotated', next due (ms)} | {'not_due', due (ms)} | {'closed', 0}.
local s = redis.call('HMGET', KEYS[1], 'code', 'code_since', 'rotation', 'grace', 'state',
  'ends_at')
if not s[1] then
  return {'closed', 0}
end
local now = tonumber(ARGV[2])
if s[5] ~= 'open' or now >= tonumber(s[6]) or tonumber(s[3]) <= 0 then
  return {'closed', 0}
end
local due = tonumber(s[2]) + tonumber(s[3]) * 1000
if now < due then
  return {'not_due', due}
end
redis.call('HSET', KEYS[1], 'prev_code', s[1], 'prev_until', now + tonumber(s[4]) * 1000,
  'code', ARGV[1], 'code_since', now)
redis.call('SADD', KEYS[2], ARGV[1])
-- Projector pages of the session show the new code at once (keys.live_channel).
redis.call('PUBLISH', 'attn:live', string.match(KEYS[1], '{(.-)}'))
return {'rotated', now + tonumber(s[3]) * 1000}

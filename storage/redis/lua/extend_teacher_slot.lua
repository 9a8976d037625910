-- The teacher's slot follows an extended session's new end, only while it still names that
-- session (compare-and-set): an extension racing with End and a new start never overwrites
-- the new session's slot. The claim time, if any, is kept.
-- KEYS[1] teacher slot          attn:t:{tid}
-- ARGV[1] session id            ARGV[2] its new end (ms)
-- Returns 1 when the slot was updated, else 0.
local current = redis.call('GET', KEYS[1])
if not current then
  return 0
end
local sid, _, claimed = string.match(current, '^(%S+) (%d+) ?(%d*)')
if sid ~= ARGV[1] then
  return 0
end
local value = ARGV[1] .. ' ' .. ARGV[2]
if claimed and claimed ~= '' then
  value = value .. ' ' .. claimed
end
redis.call('SET', KEYS[1], value, 'KEEPTTL')
return 1

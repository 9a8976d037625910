-- Take one of the user's code guesses BEFORE the code is judged, so that no burst of
-- concurrent updates, and no number of bot processes, gets more than `limit` codes judged in
-- any `window` (sliding). Judging happens in the session's hash slot and this counter lives
-- in the user's slot (one Redis Cluster slot per script), so the guess is taken here first,
-- atomically, and given back by settle_guess.lua when the code turned out right.
-- KEYS[1] the user's attempts hash (field locked_until, read by touch_profile.lua too)
-- KEYS[2] the user's guesses: sorted set, member "p:<token>" (being judged) or "f:<token>"
--         (a wrong code), scored by when it was taken (ms)
-- ARGV[1] now (ms)  ARGV[2] window (ms)  ARGV[3] limit  ARGV[4] token  ARGV[5] TTL (s)
-- ARGV[6] how long an unsettled guess counts (ms): a process that died mid-judgement frees
--         it after this
-- Returns {1, 0} when the guess may be judged, {0, locked until (ms) or 0} when it may not.
local now = tonumber(ARGV[1])
local locked = tonumber(redis.call('HGET', KEYS[1], 'locked_until') or '0')
if locked > now then
  return {0, locked}
end
local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
local live = 0
for i = 1, #entries, 2 do
  local member, at = entries[i], tonumber(entries[i + 1])
  local stale
  if string.sub(member, 1, 2) == 'p:' then
    stale = now - at >= tonumber(ARGV[6])
  else
    stale = now - at >= tonumber(ARGV[2])
  end
  if stale then
    redis.call('ZREM', KEYS[2], member)
  else
    live = live + 1
  end
end
if live >= tonumber(ARGV[3]) then
  return {0, 0}
end
redis.call('ZADD', KEYS[2], now, 'p:' .. ARGV[4])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
return {1, 0}

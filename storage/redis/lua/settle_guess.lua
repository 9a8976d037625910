-- The verdict on a guess taken by take_guess.lua. A right (or otherwise not wrong) code gives
-- the guess back; a wrong one stays counted, and the `limit`-th wrong code within the window
-- locks the user until now + lock. The lock is a time compared with the caller's clock, so
-- no crash can leave anyone locked for good.
-- KEYS[1] the user's attempts hash   KEYS[2] the user's guesses (see take_guess.lua)
-- ARGV[1] now (ms)  ARGV[2] window (ms)  ARGV[3] limit  ARGV[4] token  ARGV[5] wrong (1|0)
-- ARGV[6] lock (ms)  ARGV[7] TTL (s)
-- Returns the lock end (ms) when this verdict locked the user, else 0.
local pending = 'p:' .. ARGV[4]
if not redis.call('ZSCORE', KEYS[2], pending) then
  return 0  -- already freed (stale) or cleared by a lock meanwhile
end
redis.call('ZREM', KEYS[2], pending)
if ARGV[5] ~= '1' then
  return 0
end
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[2], now, 'f:' .. ARGV[4])
local wrong = 0
local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do
  if string.sub(entries[i], 1, 2) == 'f:' and now - tonumber(entries[i + 1]) < tonumber(ARGV[2]) then
    wrong = wrong + 1
  end
end
if wrong < tonumber(ARGV[3]) then
  return 0
end
local locked = now + tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'locked_until', locked)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
-- After the lock the user starts again with a full allowance (guesses still being judged
-- are dropped too; their verdicts find nothing to settle).
redis.call('DEL', KEYS[2])
return locked

-- Count one wrong code. At the limit within the window the user is locked until now + lock.
-- Counter, window and lock end live in one hash written in one step, and the lock is a time
-- compared with the caller's clock, so no crash can leave anyone locked for good.
-- KEYS[1] the user's attempts hash
-- ARGV[1] now (ms)  ARGV[2] window (ms)  ARGV[3] limit  ARGV[4] lock (ms)  ARGV[5] TTL (s)
-- Returns the lock end (ms) when this failure locked the user, else 0.
local now = tonumber(ARGV[1])
local a = redis.call('HMGET', KEYS[1], 'count', 'since')
local count = tonumber(a[1] or '0')
local since = tonumber(a[2] or '0')
if now - since >= tonumber(ARGV[2]) then
  count = 0
  since = now
end
count = count + 1
local locked = 0
if count >= tonumber(ARGV[3]) then
  locked = now + tonumber(ARGV[4])
  count = 0
  since = now
end
redis.call('HSET', KEYS[1], 'count', count, 'since', since)
if locked > 0 then
  redis.call('HSET', KEYS[1], 'locked_until', locked)
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return locked

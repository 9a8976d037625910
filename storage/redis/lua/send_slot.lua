-- Telegram's flood limits for the whole deployment, not per process: may one more message go
-- out now? At most ARGV[1] a second for the bot, one per ARGV[2] ms to a private chat, and
-- ARGV[3] a minute to a group. Uses the Redis server's clock, shared by every process.
-- KEYS[1] the bot's sending log (sorted set)   KEYS[2] the chat's log ('' for no chat)
-- (both hash-tagged {rate}, one slot)
-- ARGV[1] per second   ARGV[2] private-chat gap (ms)   ARGV[3] group per minute
-- ARGV[4] 'p' private chat, 'g' group, '' none   ARGV[5] a unique member name
-- Returns 0 when the message may go now (and counts it), else how many ms to wait.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- The window is 1.1 s, not 1: a message leaves a little after its slot is granted, and that
-- jitter must not let 31 through in some second.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1100)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + 1100 - now)
end
if ARGV[4] == 'p' then
  local last = redis.call('GET', KEYS[2])
  if last and now - tonumber(last) < tonumber(ARGV[2]) then
    return tonumber(ARGV[2]) - (now - tonumber(last))
  end
  redis.call('SET', KEYS[2], now, 'PX', 60000)
elseif ARGV[4] == 'g' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + 60000 - now)
  end
  redis.call('ZADD', KEYS[2], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], 61000)
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], 2000)
return 0

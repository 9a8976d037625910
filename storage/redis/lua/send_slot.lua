-- Telegram's flood limits for the whole deployment, not per process: reserve the next sending
-- slot of a message. Virtual scheduling (GCRA) on the Redis server's clock, shared by every
-- process: the bot's next free time advances by ARGV[1] ms a grant (1100/29: never more than
-- 29 in any 1.1 s, evenly spread, so no burst when a window frees), a private chat's by
-- ARGV[2] ms, a group's by ARGV[3] ms (60000/19: its 19 a minute spread over the minute).
-- A slot may lie ahead of now: it is reserved all the same, and the caller sleeps until it
-- and sends without asking again, so a message costs one call in the common case.
-- A chat not yet free takes no slot of the bot's: the caller asks again when it frees.
-- KEYS[1] the bot's next free time   KEYS[2] the chat's ('' or unused for no chat)
-- (both hash-tagged {rate}, one slot; plain strings of whole ms, expiring once in the past)
-- ARGV[1] bot gap (ms, may be fractional)   ARGV[2] private-chat gap (ms)
-- ARGV[3] group gap (ms)   ARGV[4] 'p' private chat, 'g' group, '' none
-- Returns {1, ms until the reserved slot, slot on the server clock in ms} when reserved,
-- {0, ms until the chat frees, 0} when not.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local chat_gap = 0
if ARGV[4] == 'p' then
  chat_gap = tonumber(ARGV[2])
elseif ARGV[4] == 'g' then
  chat_gap = tonumber(ARGV[3])
end
if chat_gap > 0 then
  local chat_next = tonumber(redis.call('GET', KEYS[2]) or '0')
  if chat_next > now then
    return {0, math.ceil(chat_next - now), 0}
  end
end
-- Whole ms, rounded up: times are stored exactly, and no gap shrinks by rounding.
local slot = math.max(math.ceil(now), tonumber(redis.call('GET', KEYS[1]) or '0'))
local bot_next = math.ceil(slot + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', bot_next), 'PX', math.ceil(bot_next - now) + 1000)
if chat_gap > 0 then
  local chat_next = math.ceil(slot + chat_gap)
  redis.call('SET', KEYS[2], string.format('%d', chat_next), 'PX', math.ceil(chat_next - now) + 1000)
end
return {1, math.ceil(slot - now), slot}

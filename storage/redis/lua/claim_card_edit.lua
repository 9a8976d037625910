-- May this process edit the session's card now? Only when what it would show changed, and
-- at most once per interval, whichever process asks: the answer and the bookkeeping are one
-- step, so several bot processes never edit one card at once or too often.
-- A new code (the part of the fingerprint before ':') is not held back by the interval: the
-- interval spaces count and time changes, while a rotated code must reach the projector at
-- once (Telegram's one-message-a-second per chat is the flood limiter's job, which waits).
-- Only a retry time set by release_card_edit.lua (after a refused edit) holds it back.
-- KEYS[1] session hash
-- ARGV[1] now (ms)   ARGV[2] minimum interval (ms)   ARGV[3] fingerprint of the new render
-- ARGV[4] optional: which card, the prefix of its fields ('card', the default, or
--         'code_card' for the private code card of a session started in a group)
-- Returns {'edit', previous fingerprint} | {'same', ''} | {'wait', ''} | {'gone', ''}.
local card = ARGV[4]
if card ~= 'code_card' then
  card = 'card'
end
local s = redis.call(
  'HMGET', KEYS[1], card .. '_msg', card .. '_render', card .. '_edited', card .. '_off',
  card .. '_retry_at')
if not s[1] or s[1] == '' or s[4] == '1' then
  return {'gone', ''}
end
if s[2] == ARGV[3] then
  return {'same', ''}
end
local now = tonumber(ARGV[1])
if now < tonumber(s[5] or '0') then
  return {'wait', ''}
end
local new_code = string.match(ARGV[3], '^[^:]*')
local old_code = s[2] and string.match(s[2], '^[^:]*') or nil
if new_code == old_code and now - tonumber(s[3] or '0') < tonumber(ARGV[2]) then
  return {'wait', ''}
end
redis.call('HSET', KEYS[1], card .. '_render', ARGV[3], card .. '_edited', ARGV[1])
return {'edit', s[2] or ''}

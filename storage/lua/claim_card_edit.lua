-- May this process edit the session's card now? Only when what it would show changed, and
-- at most once per interval, whichever process asks: the answer and the bookkeeping are one
-- step, so several bot processes never edit one card at once or too often.
-- KEYS[1] session hash
-- ARGV[1] now (ms)   ARGV[2] minimum interval (ms)   ARGV[3] fingerprint of the new render
-- Returns {'edit', previous fingerprint} | {'same', ''} | {'wait', ''} | {'gone', ''}.
local s = redis.call('HMGET', KEYS[1], 'card_msg', 'card_render', 'card_edited')
if not s[1] or s[1] == '' then
  return {'gone', ''}
end
if s[2] == ARGV[3] then
  return {'same', ''}
end
if tonumber(ARGV[1]) - tonumber(s[3] or '0') < tonumber(ARGV[2]) then
  return {'wait', ''}
end
redis.call('HSET', KEYS[1], 'card_render', ARGV[3], 'card_edited', ARGV[1])
return {'edit', s[2] or ''}

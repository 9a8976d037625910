-- Telegram refused an edit claimed with claim_card_edit.lua: the card still shows the
-- previous render, so give that back (the next claim then edits again), unless another
-- process claimed a newer render meanwhile; and edit that card no sooner than `retry at`
-- (after a flood wait, the time Telegram asked for).
-- KEYS[1] session hash
-- ARGV[1] which card ('card' or 'code_card')   ARGV[2] the claimed fingerprint ('' for any)
-- ARGV[3] the previous fingerprint   ARGV[4] retry at (ms)
-- Returns 1 when the card is still kept, 0 when the session or card is gone.
local card = ARGV[1]
if card ~= 'code_card' then
  card = 'card'
end
local s = redis.call('HMGET', KEYS[1], card .. '_msg', card .. '_render')
if not s[1] or s[1] == '' then
  return 0
end
if ARGV[2] == '' or s[2] == ARGV[2] then
  redis.call('HSET', KEYS[1], card .. '_render', ARGV[3])
end
redis.call('HSET', KEYS[1], card .. '_retry_at', ARGV[4])
return 1
